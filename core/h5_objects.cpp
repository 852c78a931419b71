#include "h5_objects.hpp"

#include <algorithm>
#include <bit>
#include <functional>
#include <new>
#include <initializer_list>
#include <stdexcept>
#include <utility>

#include "format/names.hpp"
#include "format/schema.hpp"
#include "format/utf8.hpp"

namespace scope_profiler::detail::h5 {

using format::quoted_name;

// ---- errors and the lock ----

/// Serializes this module's HDF5 use: the flusher thread and finalize() may both write.
std::recursive_mutex& hdf5_mutex() {
    static std::recursive_mutex mutex;
    return mutex;
}

namespace {

std::string_view base_name(std::string_view file) {
    const auto slash = file.find_last_of('/');
    return slash == std::string_view::npos ? file : file.substr(slash + 1);
}

}  // namespace

[[noreturn]] void fail(const std::string& what, std::string_view call, const char* file, int line) {
    std::string function(call.substr(0, call.find('(')));
    while (!function.empty() && function.back() == ' ') function.pop_back();
    const std::string reason = format::hdf5_reason();
    std::string message = lead(what) + ": " + function + " failed (";
    if (!reason.empty()) message += "HDF5: " + reason + "; ";
    message += "call " + std::string(call) + " at " + std::string(base_name(file)) + ":" +
               std::to_string(line) + ")";
    throw std::runtime_error(message);
}


void close_checked(Hid& hid, const std::string& what, const char* file, int line) {
    const std::string call = std::string(hid.closer_name()) + "(...)";
    if (hid.close_now() < 0) fail(what, call, file, line);
}

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

void open_library() {
    static const bool opened = H5open() >= 0;
    (void)opened;
}

// ---- columns ----

std::array<ColumnView, kColumns> columns_of(const RegionColumns& r) {
    const auto view = [](const char* name, const auto& v, hid_t memory, hid_t file) {
        return ColumnView{name, v.data(), static_cast<hsize_t>(v.size()), memory, file,
                          sizeof(v[0])};
    };
    return {view(format::kColumnNames[0], r.start_times, H5T_NATIVE_INT64, H5T_STD_I64LE),
            view(format::kColumnNames[1], r.end_times, H5T_NATIVE_INT64, H5T_STD_I64LE),
            view(format::kColumnNames[2], r.thread_ids, H5T_NATIVE_INT32, H5T_STD_I32LE),
            view(format::kColumnNames[3], r.device_start_times, H5T_NATIVE_INT64, H5T_STD_I64LE),
            view(format::kColumnNames[4], r.device_end_times, H5T_NATIVE_INT64, H5T_STD_I64LE),
            view(format::kColumnNames[5], r.device_stream_ids, H5T_NATIVE_INT64, H5T_STD_I64LE),
            view(format::kColumnNames[6], r.device_host_fallback, H5T_NATIVE_UINT8, H5T_STD_U8LE)};
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
    same({r.device_start_times.size(), r.device_end_times.size(), r.device_stream_ids.size(),
          r.device_host_fallback.size()},
         "device (device_start_times, device_end_times, device_streams, device_host_fallback)");
}

hsize_t chunk_for(std::size_t elements) {
    constexpr std::size_t kMin = 1024;
    constexpr std::size_t kMax = 65536;
    return std::bit_ceil(std::clamp(elements, kMin, kMax));
}

hsize_t chunk_for_exactly(std::size_t elements) {
    constexpr std::size_t kMax = 65536;
    if (elements == 0) return 1024;
    const std::size_t chunks = (elements + kMax - 1) / kMax;
    return (elements + chunks - 1) / chunks;
}

std::uint64_t merged_bytes(const RegionColumns& r) {
    std::uint64_t bytes = 0;
    for (const ColumnView& c : columns_of(r)) {
        const hsize_t chunk = chunk_for_exactly(c.size);
        bytes += (c.size + chunk - 1) / chunk * chunk * c.element_size;
    }
    return bytes;
}

// ---- objects ----

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
        what, H5Acreate2(group, format::kNameAttribute, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
    SP_H5_CHECK(what, H5Awrite(attribute.get(), type.get(), name.data()));
}

namespace {

/// Names at least this long are stored where an object header message (at most 64 KiB) does
/// not have to hold them.
constexpr std::size_t kLongName = 32 * 1024;

}  // namespace

/// A region's group, linked under its escaped name. A long name's group keeps its attributes in
/// dense storage (a version 2 object header, readable by HDF5 1.8 and later): its "name"
/// attribute may then be of any size. Every other group keeps the earliest format.
Hid create_region_group(hid_t parent, std::string_view name, hid_t lcpl, const std::string& what) {
    const std::string link = format::escape_name(name);
    if (name.size() < kLongName) return create_group(parent, link, lcpl, what);
    Hid gcpl = SP_H5_OPEN(what, H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
    SP_H5_CHECK(what, H5Pset_attr_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED));
    return SP_H5_OPEN(what, H5Gcreate2(parent, link.c_str(), lcpl, gcpl.get(), H5P_DEFAULT),
                      H5Gclose);
}

namespace {

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
    SP_H5_CHECK(what, H5Tset_cset(type.get(), format::utf8::valid(value) ? H5T_CSET_UTF8 : H5T_CSET_ASCII));
    Hid space = SP_H5_OPEN(what, H5Screate(H5S_SCALAR), H5Sclose);
    Hid attribute = SP_H5_OPEN(
        what, H5Acreate2(location, key.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
    const char* text = value.c_str();
    SP_H5_CHECK(what, H5Awrite(attribute.get(), type.get(), &text));
}

}  // namespace

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
    Hid group = create_group(file, format::kMetadataGroup, lcpl, what);
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

}  // namespace scope_profiler::detail::h5
