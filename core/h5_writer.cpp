#include "h5_writer.hpp"

#include <hdf5.h>

#include <fcntl.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

#include "diagnostics.hpp"
#include "name_swap.hpp"
#include "scope_profiler/version.hpp"

namespace scope_profiler::detail::h5 {
namespace {

// ---------------------------------------------------------------------------------------------
// Errors: every HDF5 call goes through SP_H5_CHECK, which turns a negative result into a
// std::runtime_error naming the file, the failing call and HDF5's own innermost reason.

/// Serializes this module's HDF5 use: the flusher thread and finalize() may both write.
std::recursive_mutex& hdf5_mutex() {
    static std::recursive_mutex mutex;
    return mutex;
}

/// Held by every public entry point. HDF5's automatic error printing is switched off here, on
/// every entry, because a thread-safe HDF5 keeps that setting per thread.
struct Hdf5Access {
    std::lock_guard<std::recursive_mutex> lock{hdf5_mutex()};
    Hdf5Access() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};

herr_t collect_error(unsigned /*n*/, const H5E_error2_t* error, void* data) {
    auto* out = static_cast<std::vector<std::string>*>(data);
    if (error->desc != nullptr && error->desc[0] != '\0') out->emplace_back(error->desc);
    return 0;
}

/// HDF5's most specific description of the error on this thread's stack (the stack is
/// cleared), e.g. "unable to open file: name = '/x/p.h5', errno = 2, error message = 'No such
/// file or directory', ...".
std::string hdf5_reason() {
    std::vector<std::string> entries;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &entries);
    H5Eclear2(H5E_DEFAULT);
    if (entries.empty()) return {};
    std::string reason = entries.front();
    // The POSIX driver's "file write failed: time = <ctime>\n, filename = ..., errno = 28,
    // error message = 'No space left on device', buf = 0x..., ...": keep the useful middle.
    if (const auto time = reason.find("time = "); time != std::string::npos) {
        const auto comma = reason.find(", ", time);
        reason.erase(time, comma == std::string::npos ? std::string::npos : comma + 2 - time);
    }
    if (const auto buffer = reason.find(", buf = "); buffer != std::string::npos)
        reason.erase(buffer);
    std::replace(reason.begin(), reason.end(), '\n', ' ');
    constexpr std::size_t kMax = 400;
    if (reason.size() > kMax) reason = reason.substr(0, kMax) + "...";
    return reason;
}

std::string_view base_name(std::string_view file) {
    const auto slash = file.find_last_of('/');
    return slash == std::string_view::npos ? file : file.substr(slash + 1);
}

[[noreturn]] void fail(const std::string& what, std::string_view call, const char* file, int line) {
    std::string function(call.substr(0, call.find('(')));
    while (!function.empty() && function.back() == ' ') function.pop_back();
    const std::string reason = hdf5_reason();
    std::string message = "scope_profiler: " + what + ": " + function + " failed (";
    if (!reason.empty()) message += "HDF5: " + reason + "; ";
    message += "call " + std::string(call) + " at " + std::string(base_name(file)) + ":" +
               std::to_string(line) + ")";
    throw std::runtime_error(message);
}

template <typename T>
T checked(T result, const std::string& what, const char* call, const char* file, int line) {
    if (result < 0) fail(what, call, file, line);
    return result;
}

#define SP_H5_CHECK(what, call) checked((call), (what), #call, __FILE__, __LINE__)

/// An HDF5 identifier closed on destruction (errors ignored there: use SP_H5_CLOSE where a
/// failing close must be reported, as a dataset's close may write its cached chunks).
class Hid {
public:
    using Closer = herr_t (*)(hid_t);
    Hid() = default;
    Hid(hid_t id, Closer closer, const char* closer_name)
        : id_(id), closer_(closer), closer_name_(closer_name) {}
    Hid(Hid&& other) noexcept
        : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_),
          closer_name_(other.closer_name_) {}
    Hid& operator=(Hid&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, H5I_INVALID_HID);
            closer_ = other.closer_;
            closer_name_ = other.closer_name_;
        }
        return *this;
    }
    Hid(const Hid&) = delete;
    Hid& operator=(const Hid&) = delete;
    ~Hid() { reset(); }

    [[nodiscard]] hid_t get() const noexcept { return id_; }
    explicit operator bool() const noexcept { return id_ >= 0; }
    void reset() noexcept {
        if (id_ >= 0 && closer_ != nullptr && closer_(id_) < 0) H5Eclear2(H5E_DEFAULT);
        id_ = H5I_INVALID_HID;
    }
    /// Closes now; the identifier is released whatever the result.
    herr_t close_now() noexcept {
        const hid_t id = std::exchange(id_, H5I_INVALID_HID);
        return id >= 0 && closer_ != nullptr ? closer_(id) : 0;
    }
    [[nodiscard]] const char* closer_name() const noexcept { return closer_name_; }

private:
    hid_t id_ = H5I_INVALID_HID;
    Closer closer_ = nullptr;
    const char* closer_name_ = "";
};

#define SP_H5_OPEN(what, call, closer) \
    Hid(checked((call), (what), #call, __FILE__, __LINE__), closer, #closer)

void close_checked(Hid& hid, const std::string& what, const char* file, int line) {
    const std::string call = std::string(hid.closer_name()) + "(...)";
    if (hid.close_now() < 0) fail(what, call, file, line);
}

#define SP_H5_CLOSE(what, hid) close_checked((hid), (what), __FILE__, __LINE__)

// ---------------------------------------------------------------------------------------------
// Names

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) return 1;
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        length = 2;
    } else if (c == 0xE0) {
        length = 3, low = 0xA0;  // no overlong forms
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        length = 3;
    } else if (c == 0xED) {
        length = 3, high = 0x9F;  // no surrogates
    } else if (c == 0xF0) {
        length = 4, low = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
        length = 4;
    } else if (c == 0xF4) {
        length = 4, high = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (i + length > s.size()) return 0;
    if (byte(i + 1) < low || byte(i + 1) > high) return 0;
    for (std::size_t k = 2; k < length; ++k)
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
    return length;
}

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t length = utf8_sequence_length(s, i);
        if (length == 0) return false;
        i += length;
    }
    return true;
}

void append_percent(std::string& out, unsigned char c) {
    constexpr const char* kHex = "0123456789ABCDEF";
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 0x0F];
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/// A name for messages: escaped, so control bytes never reach a terminal.
std::string quoted_name(std::string_view name) {
    return "'" + escape_name(name_for_message(name)) + "'";
}

std::string rank_group_name(int rank) { return "rank" + std::to_string(rank); }

// ---------------------------------------------------------------------------------------------
// Columns

constexpr std::size_t kColumns = 7;
constexpr std::array<const char*, kColumns> kColumnNames = {
    "start_times",        "end_times",      "thread_ids",          "device_start_times",
    "device_end_times",   "device_streams", "device_host_fallback"};

struct ColumnView {
    const char* name;
    const void* data;
    hsize_t size;
    hid_t memory_type;
    hid_t file_type;
    std::size_t element_size;
};

std::array<ColumnView, kColumns> columns_of(const RegionColumns& r) {
    const auto view = [](const char* name, const auto& v, hid_t memory, hid_t file) {
        return ColumnView{name, v.data(), static_cast<hsize_t>(v.size()), memory, file,
                          sizeof(v[0])};
    };
    return {view(kColumnNames[0], r.start_times, H5T_NATIVE_INT64, H5T_STD_I64LE),
            view(kColumnNames[1], r.end_times, H5T_NATIVE_INT64, H5T_STD_I64LE),
            view(kColumnNames[2], r.thread_ids, H5T_NATIVE_INT32, H5T_STD_I32LE),
            view(kColumnNames[3], r.device_start_times, H5T_NATIVE_INT64, H5T_STD_I64LE),
            view(kColumnNames[4], r.device_end_times, H5T_NATIVE_INT64, H5T_STD_I64LE),
            view(kColumnNames[5], r.device_streams, H5T_NATIVE_INT64, H5T_STD_I64LE),
            view(kColumnNames[6], r.device_host_fallback, H5T_NATIVE_UINT8, H5T_STD_U8LE)};
}

void validate(const RegionColumns& r) {
    if (r.name.empty()) throw std::invalid_argument("scope_profiler: a region has an empty name");
    const auto same = [&](std::initializer_list<std::size_t> sizes, const char* what) {
        if (std::adjacent_find(sizes.begin(), sizes.end(), std::not_equal_to<>()) != sizes.end())
            throw std::invalid_argument("scope_profiler: region " + quoted_name(r.name) + ": the " +
                                        what + " columns differ in length");
    };
    same({r.start_times.size(), r.end_times.size(), r.thread_ids.size()},
         "host (start_times, end_times, thread_ids)");
    same({r.device_start_times.size(), r.device_end_times.size(), r.device_streams.size(),
          r.device_host_fallback.size()},
         "device (device_start_times, device_end_times, device_streams, device_host_fallback)");
}

/// Chunk length in elements of a per-rank file's dataset, which grows: the first chunk's
/// size rounded up to a power of two, between 1024 and 65536 elements.
hsize_t chunk_for(std::size_t elements) {
    constexpr std::size_t kMin = 1024;
    constexpr std::size_t kMax = 65536;
    return std::bit_ceil(std::clamp(elements, kMin, kMax));
}

/// Chunk length of a merged file's dataset, which never grows: chunks of at most 65536
/// elements that together hold the data with (almost) nothing to spare.
hsize_t chunk_for_exactly(std::size_t elements) {
    constexpr std::size_t kMax = 65536;
    if (elements == 0) return 1024;
    const std::size_t chunks = (elements + kMax - 1) / kMax;
    return (elements + chunks - 1) / chunks;
}

/// The bytes a merged file's datasets of this region take on disk.
std::uint64_t merged_bytes(const RegionColumns& r) {
    std::uint64_t bytes = 0;
    for (const ColumnView& c : columns_of(r)) {
        const hsize_t chunk = chunk_for_exactly(c.size);
        bytes += (c.size + chunk - 1) / chunk * chunk * c.element_size;
    }
    return bytes;
}

// ---------------------------------------------------------------------------------------------
// HDF5 building blocks

Hid file_access(const std::string& what) {
    Hid fapl = SP_H5_OPEN(what, H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    // The POSIX driver: its handle is a file descriptor (room is reserved through it). The
    // default library version bounds (earliest format) keep the file readable by every HDF5
    // and openable after a crash: a newer superblock would mark it "open for writing".
    SP_H5_CHECK(what, H5Pset_fapl_sec2(fapl.get()));
#if (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7) || H5_VERSION_GE(1, 12, 1)
    // Lock the file, but go on where the file system has no locks (some parallel file systems):
    // every file here is written by one process only.
    SP_H5_CHECK(what, H5Pset_file_locking(fapl.get(), true, true));
#endif
    return fapl;
}

Hid link_creation(const std::string& what) {
    Hid lcpl = SP_H5_OPEN(what, H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    SP_H5_CHECK(what, H5Pset_char_encoding(lcpl.get(), H5T_CSET_UTF8));  // escaped names are UTF-8
    return lcpl;
}

Hid create_group(hid_t parent, const std::string& name, hid_t lcpl, const std::string& what) {
    return SP_H5_OPEN(what, H5Gcreate2(parent, name.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT),
                      H5Gclose);
}

/// The original name's exact bytes: a fixed-length, null-padded ASCII-tagged string (HDF5
/// checks no encoding; a C reader gets back H5Tget_size bytes, h5py a numpy bytes value).
void write_name_attribute(hid_t group, std::string_view name, const std::string& what) {
    Hid type = SP_H5_OPEN(what, H5Tcopy(H5T_C_S1), H5Tclose);
    SP_H5_CHECK(what, H5Tset_size(type.get(), name.size()));
    SP_H5_CHECK(what, H5Tset_strpad(type.get(), H5T_STR_NULLPAD));
    SP_H5_CHECK(what, H5Tset_cset(type.get(), H5T_CSET_ASCII));
    Hid space = SP_H5_OPEN(what, H5Screate(H5S_SCALAR), H5Sclose);
    Hid attribute = SP_H5_OPEN(
        what, H5Acreate2(group, "name", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
    SP_H5_CHECK(what, H5Awrite(attribute.get(), type.get(), name.data()));
}

/// Names at least this long are stored where an object header message (at most 64 KiB) does
/// not have to hold them.
constexpr std::size_t kLongName = 32 * 1024;

/// A region's group, linked under its escaped name. A long name's group keeps its attributes in
/// dense storage (a version 2 object header, readable by HDF5 1.8 and later): its "name"
/// attribute may then be of any size. Every other group keeps the earliest format.
Hid create_region_group(hid_t parent, std::string_view name, hid_t lcpl, const std::string& what) {
    const std::string link = escape_name(name);
    if (name.size() < kLongName) return create_group(parent, link, lcpl, what);
    Hid gcpl = SP_H5_OPEN(what, H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
    SP_H5_CHECK(what, H5Pset_attr_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED));
    return SP_H5_OPEN(what, H5Gcreate2(parent, link.c_str(), lcpl, gcpl.get(), H5P_DEFAULT),
                      H5Gclose);
}

void remove_attribute_if_present(hid_t location, const std::string& key, const std::string& what) {
    if (SP_H5_CHECK(what, H5Aexists(location, key.c_str())) > 0)
        SP_H5_CHECK(what, H5Adelete(location, key.c_str()));
}

/// A variable-length string: UTF-8 when the value is valid UTF-8, else tagged ASCII (the bytes
/// as they are). HDF5 attributes are limited to 64 KiB: longer values are cut, as the Python
/// library does.
void write_text_attribute(hid_t location, const std::string& key, std::string value,
                          const std::string& what) {
    constexpr std::size_t kMax = 60000;
    if (value.size() > kMax) value = value.substr(0, kMax) + "...[truncated]";
    remove_attribute_if_present(location, key, what);
    Hid type = SP_H5_OPEN(what, H5Tcopy(H5T_C_S1), H5Tclose);
    SP_H5_CHECK(what, H5Tset_size(type.get(), H5T_VARIABLE));
    SP_H5_CHECK(what, H5Tset_cset(type.get(), valid_utf8(value) ? H5T_CSET_UTF8 : H5T_CSET_ASCII));
    Hid space = SP_H5_OPEN(what, H5Screate(H5S_SCALAR), H5Sclose);
    Hid attribute = SP_H5_OPEN(
        what, H5Acreate2(location, key.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
    const char* text = value.c_str();
    SP_H5_CHECK(what, H5Awrite(attribute.get(), type.get(), &text));
}

void write_number_attribute(hid_t location, const std::string& key, std::int64_t value,
                            const std::string& what) {
    remove_attribute_if_present(location, key, what);
    Hid space = SP_H5_OPEN(what, H5Screate(H5S_SCALAR), H5Sclose);
    Hid attribute = SP_H5_OPEN(what,
                               H5Acreate2(location, key.c_str(), H5T_STD_I64LE, space.get(),
                                          H5P_DEFAULT, H5P_DEFAULT),
                               H5Aclose);
    SP_H5_CHECK(what, H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value));
}

void write_metadata_group(hid_t file, const Metadata& metadata, hid_t lcpl,
                          const std::string& what) {
    Hid group = create_group(file, "metadata", lcpl, what);
    for (const auto& [key, value] : metadata.text) {
        if (key.empty()) throw std::invalid_argument("scope_profiler: a metadata field has no name");
        write_text_attribute(group.get(), key, value, what);
    }
    for (const auto& [key, value] : metadata.numbers) {
        if (key.empty()) throw std::invalid_argument("scope_profiler: a metadata field has no name");
        write_number_attribute(group.get(), key, value, what);
    }
}

/// A 1-D extendible chunked dataset of length 0.
Hid create_dataset(hid_t group, const ColumnView& column, hsize_t chunk, hid_t lcpl,
                   const std::string& what) {
    const hsize_t dims = 0;
    const hsize_t max_dims = H5S_UNLIMITED;
    Hid space = SP_H5_OPEN(what, H5Screate_simple(1, &dims, &max_dims), H5Sclose);
    Hid dcpl = SP_H5_OPEN(what, H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    SP_H5_CHECK(what, H5Pset_chunk(dcpl.get(), 1, &chunk));
    // Every element is written before it becomes visible: no fill values to write first.
    SP_H5_CHECK(what, H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER));
    return SP_H5_OPEN(what,
                      H5Dcreate2(group, column.name, column.file_type, space.get(), lcpl,
                                 dcpl.get(), H5P_DEFAULT),
                      H5Dclose);
}

/// Grows the dataset to offset + column.size and writes the column at offset.
void write_at(hid_t dataset, const ColumnView& column, hsize_t offset, const std::string& what) {
    if (column.size == 0) return;
    const hsize_t new_size = offset + column.size;
    SP_H5_CHECK(what, H5Dset_extent(dataset, &new_size));
    Hid file_space = SP_H5_OPEN(what, H5Dget_space(dataset), H5Sclose);
    SP_H5_CHECK(what, H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &offset, nullptr,
                                          &column.size, nullptr));
    Hid memory_space = SP_H5_OPEN(what, H5Screate_simple(1, &column.size, nullptr), H5Sclose);
    SP_H5_CHECK(what, H5Dwrite(dataset, column.memory_type, memory_space.get(), file_space.get(),
                               H5P_DEFAULT, column.data));
}

// ---------------------------------------------------------------------------------------------
// Files on disk

std::string errno_text(int error) { return std::strerror(error); }

/// Throws when the process's file size limit (ulimit -f) leaves no room for bytes more than
/// size: a write past it would raise SIGXFSZ, which kills a process by default.
void check_size_limit(std::uint64_t size, std::uint64_t bytes, const std::string& what,
                      const char* consequence) {
    rlimit limit{};
    if (getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
    if (size + bytes > limit.rlim_cur)
        throw std::runtime_error("scope_profiler: " + what + ": " + std::to_string(bytes) +
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
void reserve_blocks(int fd, std::uint64_t offset, std::uint64_t bytes, const std::string& what,
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
    throw std::runtime_error("scope_profiler: " + what + ": no room for another " +
                             std::to_string(bytes) + " bytes (" + errno_text(error) + "); " +
                             consequence);
}

/// The merged file, closed by HDF5: gives back the unused reserved blocks and syncs it to disk
/// before it is renamed into place.
void finish_file(const std::string& file, const std::string& what) {
    const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        throw std::runtime_error("scope_profiler: " + what + ": cannot reopen " + file +
                                 " to sync it (" + errno_text(errno) + ")");
    release_blocks(fd);
    if (::fsync(fd) != 0) {
        const int error = errno;
        ::close(fd);
        throw std::runtime_error("scope_profiler: " + what + ": fsync of " + file + " failed (" +
                                 errno_text(error) + ")");
    }
    ::close(fd);
}

void sync_directory_of(const std::string& file) {  // best effort: the rename is durable
    std::filesystem::path directory = std::filesystem::path(file).parent_path();
    if (directory.empty()) directory = ".";
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
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

void refuse_non_regular(const std::string& path, const std::string& what) {
    if (const std::string is = not_a_regular_file(path); !is.empty())
        throw std::runtime_error("scope_profiler: " + what + ": " + path + " is " + is +
                                 ", not a regular file: it is left as it is");
}

void rename_into_place(const std::string& from, const std::string& to, const std::string& what) {
    refuse_non_regular(to, what);
    std::error_code error;
    std::filesystem::rename(from, to, error);
    if (error)
        throw std::runtime_error("scope_profiler: " + what + ": cannot rename " + from +
                                 " onto it (" + error.message() + ")");
    sync_directory_of(to);
}

void validate_ranks(const std::vector<int>& ranks) {
    std::set<int> seen;
    for (int rank : ranks) {
        if (rank < 0)
            throw std::invalid_argument("scope_profiler: rank " + std::to_string(rank) +
                                        " is negative");
        if (!seen.insert(rank).second)
            throw std::invalid_argument("scope_profiler: rank " + std::to_string(rank) +
                                        " is listed twice");
    }
}

/// Writes temporary_path(path) with body(file, lcpl), having reserved bytes for it on disk,
/// syncs it and renames it onto path. On any failure the temporary file is removed and the
/// exception rethrown.
template <typename Body>
void write_through_temporary(const std::string& path, const Metadata& metadata,
                             std::uint64_t bytes, const std::string& what,
                             const char* consequence, Body&& body) {
    check_size_limit(0, bytes, what, consequence);
    const std::string temporary = temporary_path(path);
    try {
        {
            Hid fapl = file_access(what);
            Hid file = SP_H5_OPEN(
                what, H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                H5Fclose);
            void* handle = nullptr;
            SP_H5_CHECK(what, H5Fget_vfd_handle(file.get(), fapl.get(), &handle));
            reserve_blocks(*static_cast<int*>(handle), 0, bytes, what, consequence);
            Hid lcpl = link_creation(what);
            write_metadata_group(file.get(), metadata, lcpl.get(), what);
            body(file.get(), lcpl.get());
            SP_H5_CLOSE(what, file);
        }
        finish_file(temporary, what);
        rename_into_place(temporary, path, what);
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw;
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Names

std::string escape_name(std::string_view name) {
    if (name == ".") return "%2E";
    std::string out;
    out.reserve(name.size());
    for (std::size_t i = 0; i < name.size();) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F || c == '%' || c == '/')
                append_percent(out, c);
            else
                out += static_cast<char>(c);
            ++i;
            continue;
        }
        const std::size_t length = utf8_sequence_length(name, i);
        if (length == 0) {
            append_percent(out, c);
            ++i;
        } else {
            out.append(name.substr(i, length));
            i += length;
        }
    }
    return out;
}

std::string unescape_name(std::string_view escaped) {
    std::string out;
    out.reserve(escaped.size());
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '%' && i + 2 < escaped.size()) {
            const int high = hex_value(escaped[i + 1]);
            const int low = hex_value(escaped[i + 2]);
            if (high >= 0 && low >= 0) {
                out += static_cast<char>(high * 16 + low);
                i += 2;
                continue;
            }
        }
        out += escaped[i];
    }
    return out;
}

std::string name_for_message(std::string_view name) {
    constexpr std::size_t kShown = 60;
    if (name.size() <= kShown + 20) return std::string(name);
    std::size_t cut = kShown;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    return std::string(name.substr(0, cut)) + "... (" + std::to_string(name.size()) + " bytes)";
}

// ---------------------------------------------------------------------------------------------
// Metadata

Metadata collect_metadata(int mpi_size) {
    Metadata m;

    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char timestamp[32] = {};
    std::strftime(timestamp, sizeof timestamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    m.text.emplace_back("timestamp", timestamp);

    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    m.text.emplace_back("hostname", host);

    utsname system{};
    std::string platform;
    if (uname(&system) == 0)
        platform = std::string(system.sysname) + " " + system.release + " " + system.machine;
    m.text.emplace_back("platform", platform);

    std::string user;
    for (const char* variable : {"USER", "LOGNAME"}) {
        if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') {
            user = value;
            break;
        }
    }
    if (user.empty()) {
        passwd entry{};
        passwd* found = nullptr;
        std::array<char, 4096> buffer{};
        if (getpwuid_r(geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
            found != nullptr)
            user = found->pw_name;
        else
            user = std::to_string(geteuid());
    }
    m.text.emplace_back("user", user);

    std::error_code error;
    const std::filesystem::path cwd = std::filesystem::current_path(error);
    m.text.emplace_back("working_directory", error ? std::string() : cwd.string());

    m.text.emplace_back("scope_profiler_version", SCOPE_PROFILER_VERSION_STRING);
#if defined(__clang__) || defined(__INTEL_LLVM_COMPILER) || defined(__NVCOMPILER)
    m.text.emplace_back("compiler", __VERSION__);  // names the compiler already
#elif defined(__GNUC__)
    m.text.emplace_back("compiler", "GCC " __VERSION__);
#else
    m.text.emplace_back("compiler", "unknown");
#endif
    m.text.emplace_back("clock", "std::chrono::steady_clock, ns");  // what the file's times are, whatever scopes read

    std::int64_t cores = std::thread::hardware_concurrency();
    if (cores <= 0) cores = std::max<long>(1, sysconf(_SC_NPROCESSORS_ONLN));
    std::int64_t omp_threads = cores;
    if (const char* value = std::getenv("OMP_NUM_THREADS"); value != nullptr) {
        // "8" or a nested list "8,2": the first level.
        char* end = nullptr;
        const long parsed = std::strtol(value, &end, 10);
        if (end != value && parsed > 0) omp_threads = parsed;
    }
    m.numbers.emplace_back("omp_num_threads", omp_threads);
    m.numbers.emplace_back("mpi_size", mpi_size);
    // The Python library's meaning (metadata.py): ranks x OpenMP threads, the parallelism its
    // pproc --x-field total_cores plots; the machine's cores are ours, under their own key.
    m.numbers.emplace_back("total_cores", mpi_size * omp_threads);
    m.numbers.emplace_back("hardware_cores", cores);
    return m;
}

// ---------------------------------------------------------------------------------------------
// RankFile

namespace {

struct RegionHandles {
    Hid group;
    std::array<Hid, kColumns> datasets;
    std::array<hsize_t, kColumns> sizes{};   // elements the file holds after the last flush
    std::array<hsize_t, kColumns> chunks{};  // chunk length of each dataset
};

/// The chunk lengths of a new region's datasets, from its first chunk's host or device
/// intervals: a region with few device intervals does not allocate 65536-element chunks for
/// them.
std::array<hsize_t, kColumns> first_chunks(const RegionColumns& chunk) {
    std::array<hsize_t, kColumns> lengths{};
    const hsize_t host = chunk_for(chunk.start_times.size());
    const hsize_t device = chunk_for(chunk.device_start_times.size());
    for (std::size_t c = 0; c < kColumns; ++c) lengths[c] = c < 3 ? host : device;
    return lengths;
}

}  // namespace

namespace {

/// One HDF5 file holding the group rank<N>/regions, appended to. A rank file is two of them
/// (RankFile::Impl): the user's name and its twin.
struct RankCopy {
    Hid file;
    Hid regions;
    Hid lcpl;
    int fd = -1;
    std::uint64_t link_bytes = 0;  // the names in the regions group: its heap grows by doubling
    std::map<std::string, RegionHandles> by_name;

    /// Creates (truncates) the file at `at` with its groups, and flushes it.
    void create(const std::string& at, int rank, std::int64_t clock_offset_ns,
                const std::string& what);
    RegionHandles& region_for(const RegionColumns& chunk, const std::string& what);
    void reserve(std::uint64_t bytes, const std::string& what);
    /// Appends and flushes; on failure the copy is as the last append left it, and throws.
    void append(const RegionColumns& chunk, const std::string& what);
    void close(const std::string& what);
    [[nodiscard]] bool is_open() const noexcept { return static_cast<bool>(file); }
};

void RankCopy::create(const std::string& at, int rank, std::int64_t clock_offset_ns,
                      const std::string& what) {
    Hid fapl = file_access(what);
    file = SP_H5_OPEN(what, H5Fcreate(at.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                      H5Fclose);
    lcpl = link_creation(what);
    Hid rank_group = create_group(file.get(), rank_group_name(rank), lcpl.get(), what);
    write_number_attribute(rank_group.get(), "clock_offset_ns", clock_offset_ns, what);
    regions = create_group(rank_group.get(), "regions", lcpl.get(), what);
    SP_H5_CHECK(what, H5Fflush(file.get(), H5F_SCOPE_GLOBAL));
    void* handle = nullptr;
    SP_H5_CHECK(what, H5Fget_vfd_handle(file.get(), fapl.get(), &handle));
    fd = *static_cast<int*>(handle);
}

RegionHandles& RankCopy::region_for(const RegionColumns& chunk, const std::string& what) {
    if (auto it = by_name.find(chunk.name); it != by_name.end()) return it->second;
    const std::string link = escape_name(chunk.name);
    // A failed earlier attempt may have left part of the region: open what exists.
    RegionHandles region;
    if (SP_H5_CHECK(what, H5Lexists(regions.get(), link.c_str(), H5P_DEFAULT)) > 0)
        region.group = SP_H5_OPEN(what, H5Gopen2(regions.get(), link.c_str(), H5P_DEFAULT),
                                  H5Gclose);
    else
        region.group = create_region_group(regions.get(), chunk.name, lcpl.get(), what);
    if (SP_H5_CHECK(what, H5Aexists(region.group.get(), "name")) == 0)
        write_name_attribute(region.group.get(), chunk.name, what);
    const auto columns = columns_of(chunk);
    const auto chunk_lengths = first_chunks(chunk);
    for (std::size_t c = 0; c < kColumns; ++c) {
        const hsize_t chunk_length = chunk_lengths[c];
        if (SP_H5_CHECK(what, H5Lexists(region.group.get(), columns[c].name, H5P_DEFAULT)) > 0) {
            region.datasets[c] = SP_H5_OPEN(
                what, H5Dopen2(region.group.get(), columns[c].name, H5P_DEFAULT), H5Dclose);
            Hid dcpl = SP_H5_OPEN(what, H5Dget_create_plist(region.datasets[c].get()), H5Pclose);
            hsize_t existing = 0;
            SP_H5_CHECK(what, H5Pget_chunk(dcpl.get(), 1, &existing));
            region.chunks[c] = existing;
        } else {
            region.datasets[c] =
                create_dataset(region.group.get(), columns[c], chunk_length, lcpl.get(), what);
            region.chunks[c] = chunk_length;
        }
    }
    link_bytes += link.size() + 8;
    return by_name.emplace(chunk.name, std::move(region)).first->second;
}

void RankCopy::reserve(std::uint64_t bytes, const std::string& what) {
    // HDF5 allocates new space at the end of its allocated space (EOA), which after a flush is
    // the end of the file.
    haddr_t allocated = 0;
    SP_H5_CHECK(what, H5Fget_eoa(file.get(), &allocated));
    constexpr const char* kNothingLost =
        "nothing was written, and the file still holds every interval appended before";
    check_size_limit(allocated, bytes, what, kNothingLost);
    reserve_blocks(fd, allocated, bytes, what, kNothingLost);
}

void RankCopy::append(const RegionColumns& chunk, const std::string& what) {
    const auto columns = columns_of(chunk);
    // Room first, before a new region's group is created: a full disk leaves the file as the
    // last append left it. Room for the new chunks (allocated whole), the chunk index, and for
    // a new region its object headers and the regions group's name heap, which doubles.
    const auto known = by_name.find(chunk.name);
    const bool new_region = known == by_name.end();
    const std::array<hsize_t, kColumns> held = new_region ? std::array<hsize_t, kColumns>{}
                                                          : known->second.sizes;
    const std::array<hsize_t, kColumns> chunk_lengths =
        new_region ? first_chunks(chunk) : known->second.chunks;
    std::uint64_t bytes = 256 * 1024;
    if (new_region) bytes += 2 * link_bytes + 64 * 1024 + 3 * chunk.name.size();
    for (std::size_t c = 0; c < kColumns; ++c) {
        if (columns[c].size == 0) continue;
        const hsize_t length = chunk_lengths[c];
        const hsize_t before = (held[c] + length - 1) / length;
        const hsize_t after = (held[c] + columns[c].size + length - 1) / length;
        bytes += (after - before) * (length * columns[c].element_size + 64) + 4096;
    }
    reserve(bytes, what);
    RegionHandles& region = region_for(chunk, what);

    std::array<hsize_t, kColumns> sizes = region.sizes;
    try {
        for (std::size_t c = 0; c < kColumns; ++c) {
            write_at(region.datasets[c].get(), columns[c], region.sizes[c], what);
            sizes[c] += columns[c].size;
        }
        SP_H5_CHECK(what, H5Fflush(file.get(), H5F_SCOPE_GLOBAL));
    } catch (...) {
        // Back to what the last flush wrote; a retry writes the same elements again.
        for (std::size_t c = 0; c < kColumns; ++c)
            if (columns[c].size != 0) H5Dset_extent(region.datasets[c].get(), &region.sizes[c]);
        H5Eclear2(H5E_DEFAULT);
        release_blocks(fd);
        throw;
    }
    region.sizes = sizes;
    release_blocks(fd);
}

void RankCopy::close(const std::string& what) {
    if (!file) return;
    // Every append flushed its data: closing the datasets and groups writes nothing.
    by_name.clear();
    regions.reset();
    lcpl.reset();
    fd = -1;
    SP_H5_CLOSE(what, file);
}

/// The ways a new rank file tries to swap names, in order (set by tests).
std::optional<std::vector<SwapMethod>>& forced_swap_methods() {
    static std::optional<std::vector<SwapMethod>> methods;
    return methods;
}

}  // namespace

void force_swap_methods(std::optional<std::vector<SwapMethod>> methods) {
    Hdf5Access access;
    forced_swap_methods() = std::move(methods);
}

std::string twin_path(const std::string& path) { return path + ".twin"; }

// A kill in the middle of an HDF5 flush can leave the file's metadata half written (HDF5
// without SWMR does not order its metadata writes): a region's datasets would no longer read.
// So the file under the user's name is never written. Each append goes to the twin first;
// once the twin is flushed, the two names are swapped (atomically), and the file that was
// the user's, now the twin, catches up with the same chunk. A kill at any moment leaves under
// the user's name a file as complete as the last append that reached its swap.
struct RankFile::Impl {
    std::string path;
    std::string what;  // "cannot write <path>"
    std::array<RankCopy, 2> copies;
    std::size_t official = 0;  // copies[official] is at path, the other one at twin_path(path)
    std::optional<SwapMethod> swap;  // none: no twin (closed), copies[official] is written in place

    RankCopy& twin() { return copies[1 - official]; }
    /// Closes and removes the twin, and says why on stderr, once: the rank file is written in
    /// place from now on.
    void drop_twin(const std::string& why) noexcept;
};

void RankFile::Impl::drop_twin(const std::string& why) noexcept {
    swap.reset();
    try {
        twin().close(what);
    } catch (...) {  // NOLINT(bugprone-empty-catch): the file is removed below
    }
    H5Eclear2(H5E_DEFAULT);
    std::error_code ignored;
    std::filesystem::remove(twin_path(path), ignored);
    // A rank file that is gone (its directory removed) is said so where it is missed, once,
    // at finalize(): no word here about how it would have been written.
    if (!std::filesystem::exists(path, ignored)) return;
    log(LogLevel::warning, path + ": " + why +
                               "; the rank file is written in place from now on (a process killed while it is "
                               "being written can leave a region unreadable)");
}

RankFile::RankFile(const std::string& path, int rank, std::int64_t clock_offset_ns)
    : impl_(std::make_unique<Impl>()) {
    Hdf5Access access;
    if (rank < 0)
        throw std::invalid_argument("scope_profiler: rank " + std::to_string(rank) +
                                    " is negative");
    Impl& f = *impl_;
    f.path = path;
    f.what = "cannot write " + path;
    const std::string what = "cannot create " + path;
    const std::string twin = twin_path(path);
    // Made under a temporary name and renamed once its groups are on disk: a process killed
    // at any moment leaves either no rank file or one that opens.
    const std::string creating = temporary_path(path);
    try {
        f.copies[0].create(creating, rank, clock_offset_ns, what);
        f.copies[1].create(twin, rank, clock_offset_ns, what);
        // The first swap, between two files that hold the same, finds what this file system
        // can do.
        std::string failed;
        const std::vector<SwapMethod> methods =
            forced_swap_methods().value_or(std::vector{SwapMethod::exchange, SwapMethod::link});
        for (const SwapMethod method : methods) {
            const SwapResult result = swap_names(creating, twin, method);
            if (result.swapped) f.official = 1 - f.official;
            if (result.error == 0) {
                f.swap = method;
                break;
            }
            if (result.swapped) {  // the twin is left under its third name
                std::error_code ignored;
                std::filesystem::rename(third_name(twin), twin, ignored);
            }
            failed += std::string(failed.empty() ? "" : ", ") + describe(method) + ": " +
                      errno_text(result.error);
        }
        refuse_non_regular(path, what);
        std::filesystem::rename(creating, path);
        if (!f.swap) {
            f.drop_twin("this file system cannot swap two files' names (" +
                        (failed.empty() ? std::string("no way tried") : failed) + ")");
        }
    } catch (...) {
        impl_.reset();
        std::error_code ignored;
        std::filesystem::remove(creating, ignored);
        std::filesystem::remove(twin, ignored);
        throw;
    }
}

RankFile::~RankFile() {
    try {
        close();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor reports nothing
    }
}

const std::string& RankFile::path() const noexcept { return impl_->path; }
bool RankFile::is_open() const noexcept { return impl_->copies[impl_->official].is_open(); }
bool RankFile::has_twin() const noexcept { return impl_->swap.has_value(); }

void RankFile::append(const RegionColumns& chunk) {
    Hdf5Access access;
    validate(chunk);
    Impl& f = *impl_;
    if (!f.copies[f.official].is_open())
        throw std::runtime_error("scope_profiler: cannot append to " + f.path +
                                 ": the file is closed");
    if (!f.swap) {
        f.copies[f.official].append(chunk, f.what);
        return;
    }
    // A failure here leaves the user's file as it was, and the twin as the last append left it.
    f.twin().append(chunk, f.what);
    const SwapResult swapped = swap_names(f.path, twin_path(f.path), *f.swap);
    if (!swapped.swapped) {
        // The user's file lacks the chunk the twin holds: it gets it in place.
        f.drop_twin(std::string("swapping it with its twin failed (") + describe(*f.swap) +
                    ": " + errno_text(swapped.error) + ")");
        f.copies[f.official].append(chunk, f.what);
        return;
    }
    f.official = 1 - f.official;
    if (swapped.error != 0) {
        f.drop_twin(std::string("its twin lost its name (") + describe(*f.swap) + ": " +
                    errno_text(swapped.error) + ")");
        std::error_code ignored;
        std::filesystem::remove(third_name(twin_path(f.path)), ignored);
        return;
    }
    try {
        f.twin().append(chunk, f.what);  // the user's file until the swap: it catches up
    } catch (const std::exception& e) {
        f.drop_twin(std::string("its twin could not catch up (") + e.what() + ")");
    }
}

void RankFile::close() {
    Hdf5Access access;
    Impl& f = *impl_;
    if (!f.copies[f.official].is_open()) return;
    if (f.swap) {
        try {
            f.twin().close(f.what);
        } catch (...) {  // NOLINT(bugprone-empty-catch): a duplicate, removed below
        }
        H5Eclear2(H5E_DEFAULT);
        f.swap.reset();
        std::error_code ignored;
        std::filesystem::remove(twin_path(f.path), ignored);
    }
    f.copies[f.official].close("cannot close " + f.path);
}

// ---------------------------------------------------------------------------------------------
// The merged file

void lock_for_fork() noexcept { hdf5_mutex().lock(); }

void unlock_after_fork(bool child) noexcept {
    if (!child) {
        hdf5_mutex().unlock();
        return;
    }
    // The child's thread has another id than the thread that locked the recursive mutex, so it
    // cannot unlock it: it gets a new one (nothing else in the child uses the old one).
    new (&hdf5_mutex()) std::recursive_mutex();
}

std::string temporary_path(const std::string& path) {
    return path + ".tmp." + std::to_string(::getpid());
}

void write_merged(const std::string& path, const Metadata& metadata,
                  const std::vector<std::pair<int, std::vector<RegionColumns>>>& ranks) {
    Hdf5Access access;
    std::vector<int> rank_numbers;
    std::uint64_t bytes = 1024 * 1024;
    for (const auto& [rank, regions] : ranks) {
        rank_numbers.push_back(rank);
        std::set<std::string_view> names;
        for (const RegionColumns& region : regions) {
            validate(region);
            if (!names.insert(region.name).second)
                throw std::invalid_argument("scope_profiler: region " + quoted_name(region.name) +
                                            " is listed twice for rank " + std::to_string(rank));
            bytes += merged_bytes(region) + 16 * 1024 + 3 * region.name.size();  // and metadata
        }
    }
    validate_ranks(rank_numbers);
    const std::string what = "cannot write " + path;

    write_through_temporary(path, metadata, bytes, what, "the file was not written",
                            [&](hid_t file, hid_t lcpl) {
        for (const auto& [rank, regions] : ranks) {
            Hid rank_group = create_group(file, rank_group_name(rank), lcpl, what);
            write_number_attribute(rank_group.get(), "clock_offset_ns", 0, what);
            Hid regions_group = create_group(rank_group.get(), "regions", lcpl, what);
            for (const RegionColumns& region : regions) {
                Hid group = create_region_group(regions_group.get(), region.name, lcpl, what);
                write_name_attribute(group.get(), region.name, what);
                for (const ColumnView& column : columns_of(region)) {
                    Hid dataset = create_dataset(group.get(), column,
                                                 chunk_for_exactly(column.size), lcpl, what);
                    write_at(dataset.get(), column, 0, what);
                    SP_H5_CLOSE(what, dataset);  // may write cached chunks
                }
            }
        }
    });
}

void merge_rank_files(const std::string& path, const Metadata& metadata,
                      const std::vector<std::pair<int, std::string>>& rank_files) {
    Hdf5Access access;
    const std::string what = "cannot write " + path;
    std::vector<int> rank_numbers;
    std::uint64_t bytes = 1024 * 1024;
    for (const auto& [rank, file] : rank_files) {
        rank_numbers.push_back(rank);
        std::error_code error;
        const auto size = std::filesystem::file_size(file, error);
        if (error)
            throw std::runtime_error("scope_profiler: " + what + ": cannot read the file of rank " +
                                     std::to_string(rank) + ", " + file + " (" + error.message() +
                                     ")");
        bytes += size + size / 16;  // the copy is about as large as its source
    }
    validate_ranks(rank_numbers);

    write_through_temporary(path, metadata, bytes, what,
                            "the file was not written and the rank files were kept",
                            [&](hid_t file, hid_t lcpl) {
        Hid copy = SP_H5_OPEN(what, H5Pcreate(H5P_OBJECT_COPY), H5Pclose);
        for (const auto& [rank, rank_file] : rank_files) {
            const std::string read = "cannot read the file of rank " + std::to_string(rank) +
                                     ", " + rank_file;
            Hid fapl = file_access(read);
            Hid source = SP_H5_OPEN(read, H5Fopen(rank_file.c_str(), H5F_ACC_RDONLY, fapl.get()),
                                    H5Fclose);
            const std::string group = rank_group_name(rank);
            if (SP_H5_CHECK(read, H5Lexists(source.get(), group.c_str(), H5P_DEFAULT)) <= 0)
                throw std::runtime_error("scope_profiler: " + read + ": it holds no group " +
                                         group);
            SP_H5_CHECK(what, H5Ocopy(source.get(), group.c_str(), file, group.c_str(),
                                      copy.get(), lcpl));
        }
    });

    // The merged file is complete and in place: the rank files can go.
    for (const auto& [rank, rank_file] : rank_files) {
        std::error_code error;
        if (std::filesystem::equivalent(rank_file, path, error)) continue;
        std::filesystem::remove(rank_file, error);
    }
}

// ---------------------------------------------------------------------------------------------

void open_library() {
    static const bool opened = H5open() >= 0;
    (void)opened;
}

void check_writable(const std::string& path) {
    const std::string prefix = "scope_profiler: cannot write the profiling file '" + path + "': ";
    if (path.empty()) throw std::invalid_argument("scope_profiler: the profiling file path is empty");
    std::error_code error;
    if (const std::string is = not_a_regular_file(path); !is.empty())
        throw std::invalid_argument(prefix + "it is " + is + ", not a regular file");
    std::filesystem::path directory = std::filesystem::path(path).parent_path();
    if (directory.empty()) directory = ".";
    const std::string probe = path + ".probe." + std::to_string(::getpid());
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        const int reason = errno;
        std::string why;
        if (!std::filesystem::exists(directory, error))
            why = "the directory " + directory.string() + " does not exist";
        else
            why = "no file can be created in " + directory.string() + " (" +
                  errno_text(reason) + ")";
        throw std::invalid_argument(prefix + why);
    }
    ::close(fd);
    ::unlink(probe.c_str());
}

}  // namespace scope_profiler::detail::h5
