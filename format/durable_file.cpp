#include "format/durable_file.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace scope_profiler::format {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

void sync_directory_of(const std::string& file) {  // best effort: the rename is durable
    std::filesystem::path directory = std::filesystem::path(file).parent_path();
    if (directory.empty()) directory = ".";
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

std::string temporary_path(const std::string& path) {
    return path + ".tmp." + std::to_string(::getpid());
}

/// Throws when the process's file size limit (ulimit -f) leaves no room for bytes more than
/// size: a write past it would raise SIGXFSZ, which kills a process by default.
void check_size_limit(std::uint64_t size, std::uint64_t bytes, const std::string& lead,
                      const char* consequence) {
    rlimit limit{};
    if (getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
    if (size + bytes > limit.rlim_cur)
        throw std::runtime_error(lead + ": " + std::to_string(bytes) +
                                 " more bytes would exceed this process's file size limit "
                                 "(ulimit -f) of " + std::to_string(limit.rlim_cur) +
                                 " bytes; " + consequence);
}

/// Gives back the blocks reserve_blocks allocated beyond the end of the file (a truncation to
/// the same size frees them).
void release_blocks(int fd) noexcept {
    struct stat status {};
    if (fd >= 0 && ::fstat(fd, &status) == 0 && ::ftruncate(fd, status.st_size) != 0) {
        // Harmless: the blocks stay allocated until the file is truncated or removed.
    }
}

/// Allocates the disk blocks for bytes more from offset, without changing the file's size, so
/// that the HDF5 writes which follow cannot find the disk full half-way: a failed write in the
/// middle of HDF5's metadata can leave a file HDF5 cannot open, and a failed write inside
/// H5Ocopy crashes HDF5 1.10. Where the file system cannot allocate ahead, its free space is
/// compared instead. Throws std::runtime_error ending with consequence when there is no room.
void reserve_blocks(int fd, std::uint64_t offset, std::uint64_t bytes, const std::string& lead,
                    const char* consequence) {
    if (fd < 0 || bytes == 0) return;
    int error = 0;
    do {
        error = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                            static_cast<off_t>(bytes)) == 0
                    ? 0
                    : errno;
    } while (error == EINTR);
    if (error == EOPNOTSUPP || error == ENOSYS) {
        struct statvfs file_system {};
        if (::fstatvfs(fd, &file_system) != 0 ||
            static_cast<std::uint64_t>(file_system.f_bavail) * file_system.f_frsize >= bytes)
            return;
        error = ENOSPC;
    }
    if (error == 0) return;
    release_blocks(fd);  // what a partial allocation took
    throw std::runtime_error(lead + ": no room for another " +
                             std::to_string(bytes) + " bytes (" + errno_text(error) + "); " +
                             consequence);
}

/// The merged file, closed by HDF5: gives back the unused reserved blocks and syncs it to disk
/// before it is renamed into place.
void sync_file(const std::string& file, const std::string& lead) {
    const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        throw std::runtime_error(lead + ": cannot reopen " + file +
                                 " to sync it (" + errno_text(errno) + ")");
    release_blocks(fd);
    if (::fsync(fd) != 0) {
        const int error = errno;
        ::close(fd);
        throw std::runtime_error(lead + ": fsync of " + file + " failed (" +
                                 errno_text(error) + ")");
    }
    ::close(fd);
}

/// Empty when path is missing or a regular file (or a link to one); otherwise what it is ("a
/// character device"). A profile is never renamed over anything else: as root, renaming onto
/// /dev/full or /dev/null would replace the device node with a file.
std::string not_a_regular_file(const std::string& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) return {};  // missing (or a dangling link)
    const mode_t type = status.st_mode & S_IFMT;
    switch (type) {
        case S_IFREG: return {};
        case S_IFDIR: return "a directory";
        case S_IFCHR: return "a character device";
        case S_IFBLK: return "a block device";
        case S_IFIFO: return "a FIFO";
        case S_IFSOCK: return "a socket";
        default: return "not a regular file";
    }
}

void refuse_non_regular(const std::string& path, const std::string& lead) {
    if (const std::string is = not_a_regular_file(path); !is.empty())
        throw std::runtime_error(lead + ": " + path + " is " + is +
                                 ", not a regular file: it is left as it is");
}

void rename_into_place(const std::string& from, const std::string& to, const std::string& lead) {
    refuse_non_regular(to, lead);
    std::error_code error;
    std::filesystem::rename(from, to, error);
    if (error)
        throw std::runtime_error(lead + ": cannot rename " + from +
                                 " onto it (" + error.message() + ")");
    sync_directory_of(to);
}

}  // namespace scope_profiler::format
