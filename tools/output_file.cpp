#include "output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "profile_file.hpp"

namespace scope_profiler::cli {

namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 20;

[[noreturn]] void fail(const std::string& path, const std::string& why) {
    throw InputError("cannot write '" + path + "': " + why);
}

}  // namespace

OutputFile::OutputFile(std::string path)
    : path_(std::move(path)),
      temporary_(path_ + ".tmp." + std::to_string(::getpid())),
      buffer_(new char[kBufferBytes]) {
    stream_.rdbuf()->pubsetbuf(buffer_.get(), kBufferBytes);
    errno = 0;
    stream_.open(temporary_, std::ios::binary | std::ios::trunc);
    if (!stream_) fail(path_, errno != 0 ? std::strerror(errno) : "the file cannot be created");
}

OutputFile::~OutputFile() {
    if (committed_) return;
    stream_.close();
    std::remove(temporary_.c_str());
}

void OutputFile::commit() {
    errno = 0;
    stream_.flush();
    const bool written = static_cast<bool>(stream_);
    const int write_errno = errno;
    stream_.close();
    if (!written || stream_.fail()) {
        std::remove(temporary_.c_str());
        fail(path_, write_errno != 0 ? std::strerror(write_errno) : "the write failed");
    }
    // Durable before it is visible under its name.
    const int fd = ::open(temporary_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
        const int error = errno;
        if (fd >= 0) ::close(fd);
        std::remove(temporary_.c_str());
        fail(path_, std::strerror(error));
    }
    ::close(fd);
    if (std::rename(temporary_.c_str(), path_.c_str()) != 0) {
        const int error = errno;
        std::remove(temporary_.c_str());
        fail(path_, std::strerror(error));
    }
    committed_ = true;
}

}  // namespace scope_profiler::cli
