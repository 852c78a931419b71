#pragma once
// The writer's HDF5 objects (core/h5_objects.cpp), shared by the rank files
// (core/rank_file.cpp) and the merged file (core/h5_merge.cpp): error checking, the lock that
// serializes the library's HDF5 use, property lists, groups, attributes, and datasets of
// columns. Private to those files: the rest of core sees core/h5_writer.hpp only.
//
// Every HDF5 call goes through SP_H5_CHECK (or SP_H5_OPEN, SP_H5_CLOSE), which turns a
// negative result into a std::runtime_error naming the file, the failing call and HDF5's own
// innermost reason: "scope_profiler: cannot write /x/p.h5: H5Dwrite failed (HDF5: ...; call
// H5Dwrite(...) at rank_file.cpp:123)".

#include <hdf5.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "format/hdf5.hpp"
#include "format/schema.hpp"
#include "h5_writer.hpp"

namespace scope_profiler::detail::h5 {

using format::Hid;

/// "scope_profiler: " + what: the beginning of the library's error sentences.
inline std::string lead(const std::string& what) { return "scope_profiler: " + what; }

/// Serializes this module's HDF5 use: the flusher thread and finalize() may both write.
std::recursive_mutex& hdf5_mutex();

/// Held by every public entry point. HDF5's automatic error printing is switched off here, on
/// every entry, because a thread-safe HDF5 keeps that setting per thread.
struct Hdf5Access {
    std::lock_guard<std::recursive_mutex> lock{hdf5_mutex()};
    Hdf5Access() { format::silence_errors(); }
};

/// Throws the std::runtime_error described above for `call` (its text, up to '(', names it).
[[noreturn]] void fail(const std::string& what, std::string_view call, const char* file, int line);

template <typename T>
T checked(T result, const std::string& what, const char* call, const char* file, int line) {
    if (result < 0) fail(what, call, file, line);
    return result;
}

#define SP_H5_CHECK(what, call) checked((call), (what), #call, __FILE__, __LINE__)
#define SP_H5_OPEN(what, call, closer) \
    Hid(checked((call), (what), #call, __FILE__, __LINE__), closer, #closer)

/// Closes hid now; a failure throws (a dataset's close may write its cached chunks).
void close_checked(Hid& hid, const std::string& what, const char* file, int line);
#define SP_H5_CLOSE(what, hid) close_checked((hid), (what), __FILE__, __LINE__)

// ---- columns ----

inline constexpr std::size_t kColumns = format::kColumnNames.size();

/// One column of a RegionColumns as HDF5 writes it.
struct ColumnView {
    const char* name;
    const void* data;
    hsize_t size;
    hid_t memory_type;
    hid_t file_type;
    std::size_t element_size;
};

/// The seven columns of r, in the order of format::kColumnNames.
std::array<ColumnView, kColumns> columns_of(const RegionColumns& r);
/// Throws std::invalid_argument for an empty name, or host (device) columns of different lengths.
void validate(const RegionColumns& r);
/// Chunk length in elements of a per-rank file's dataset, which grows: the first chunk's size
/// rounded up to a power of two, between 1024 and 65536 elements.
hsize_t chunk_for(std::size_t elements);
/// Chunk length of a merged file's dataset, which never grows: chunks of at most 65536
/// elements that together hold the data with (almost) nothing to spare.
hsize_t chunk_for_exactly(std::size_t elements);
/// The bytes a merged file's datasets of this region take on disk.
std::uint64_t merged_bytes(const RegionColumns& r);

// ---- objects ----

/// File access: the POSIX driver (its handle is a file descriptor, through which room is
/// reserved), earliest format, file locking where the file system has it.
Hid file_access(const std::string& what);
/// Link creation: UTF-8 names.
Hid link_creation(const std::string& what);
Hid create_group(hid_t parent, const std::string& name, hid_t lcpl, const std::string& what);
/// The original name's exact bytes as the group's "name" attribute.
void write_name_attribute(hid_t group, std::string_view name, const std::string& what);
/// A region's group, linked under its escaped name (a long name's group keeps its attributes in
/// dense storage).
Hid create_region_group(hid_t parent, std::string_view name, hid_t lcpl, const std::string& what);
void write_number_attribute(hid_t location, const std::string& key, std::int64_t value,
                            const std::string& what);
/// The "metadata" group with one attribute per pair.
void write_metadata_group(hid_t file, const Metadata& metadata, hid_t lcpl, const std::string& what);
/// A 1-D extendible chunked dataset of length 0.
Hid create_dataset(hid_t group, const ColumnView& column, hsize_t chunk, hid_t lcpl,
                   const std::string& what);
/// Grows the dataset to offset + column.size and writes the column at offset.
void write_at(hid_t dataset, const ColumnView& column, hsize_t offset, const std::string& what);

}  // namespace scope_profiler::detail::h5
