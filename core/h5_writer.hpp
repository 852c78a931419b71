#pragma once
// The writer of the HDF5 file (docs/file_format.md): the per-rank files appended to during a
// run (core/rank_file.cpp), and the merged file finalize() writes (core/h5_merge.cpp), with its
// metadata (core/host_metadata.cpp). HDF5's C API only, behind this header: nothing of <hdf5.h>
// leaks into the rest of the library. Names, the schema, HDF5 handles and durable publishing
// are the file format's (format/), which the reader (tools/) shares.
//
// The layout of both kinds of file is format/schema.hpp's.
//
// Every function throws std::runtime_error with a sentence naming the file and the failing HDF5
// call ("scope_profiler: cannot write /x/p.h5: H5Dwrite failed (...)"), std::invalid_argument for
// malformed input. HDF5's own error printing is turned off. All functions may be called from any
// thread; calls are serialized internally.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "name_swap.hpp"

namespace scope_profiler::detail::h5 {

/// One region's intervals: the host columns (start_times, end_times, thread_ids) have one
/// element per host interval, the four device columns one per device interval.
struct RegionColumns {
    std::string name;
    std::vector<std::int64_t> start_times, end_times;
    std::vector<std::int32_t> thread_ids;
    std::vector<std::int64_t> device_start_times, device_end_times, device_stream_ids;  // dataset device_streams
    std::vector<std::uint8_t> device_host_fallback;
};

/// The attributes of the merged file's "metadata" group. A later pair of the same name
/// replaces an earlier one.
struct Metadata {
    std::vector<std::pair<std::string, std::string>> text;
    std::vector<std::pair<std::string, std::int64_t>> numbers;
};

/// timestamp, hostname, platform, user, working_directory, scope_profiler_version, compiler,
/// clock (text); omp_num_threads, mpi_size, total_cores (mpi_size x omp_num_threads, as the
/// Python library writes it), hardware_cores (the machine's, ours) (numbers). The caller adds gpu_name,
/// cuda_runtime and cuda_driver where a GPU is used.
Metadata collect_metadata(int mpi_size);

/// One rank's file during a run: created (truncated) with the group rank<N>/regions, then
/// appended to. The file under path is never written in place: each append goes to a twin
/// (twin_path(path)) first, the two swap names, and the old one catches up. So a process killed
/// at any moment leaves under path a file that opens and holds every interval of every append
/// that returned (and perhaps of the one in progress), each region readable. On a file system
/// that cannot swap names, the twin is dropped with a warning and path is written in place.
/// close() removes the twin.
class RankFile {
public:
    /// clock_offset_ns: what to add to this rank's timestamps to put them on rank 0's clock,
    /// stored as the rank<N> group's attribute "clock_offset_ns".
    RankFile(const std::string& path, int rank, std::int64_t clock_offset_ns = 0);
    ~RankFile();  // closes; errors are swallowed (call close() to see them)
    RankFile(const RankFile&) = delete;
    RankFile& operator=(const RankFile&) = delete;

    /// Appends the chunk's elements to its region's datasets (the group and the datasets are
    /// created on the region's first append, also when the chunk is empty) and flushes the
    /// file. Before writing, room for the data is reserved on disk (and checked against the
    /// process's file-size limit): a full disk is reported before anything is written, and
    /// the file keeps every interval appended before. On failure the call can be retried
    /// with the same chunk.
    void append(const RegionColumns& chunk);
    /// Closes the file; a second call does nothing. append() after close() throws.
    void close();

    [[nodiscard]] const std::string& path() const noexcept;
    [[nodiscard]] bool is_open() const noexcept;
    /// False where the twin was dropped (see above) or the file is closed.
    [[nodiscard]] bool has_twin() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The rank file's twin: path + ".twin". A killed run can leave one beside its rank file: a
/// duplicate, perhaps torn; the rank file is the one to read.
std::string twin_path(const std::string& path);

/// Tests only: the ways RankFiles created from now on try to swap names, in order (an empty
/// list: none works, the twin is dropped). std::nullopt: the default, renameat2's exchange,
/// then link() and rename().
void force_swap_methods(std::optional<std::vector<SwapMethod>> methods);

/// Writes the merged file from memory: format::temporary_path(path) first, renamed onto path once
/// complete (no reader ever sees half a file). On failure the temporary file is removed and
/// the exception is thrown; path is left as it was.
void write_merged(const std::string& path, const Metadata& metadata,
                  const std::vector<std::pair<int, std::vector<RegionColumns>>>& ranks);

/// The same merged layout from closed rank files (pairs rank, file holding group rank<N>):
/// each rank<N> group is copied whole (H5Ocopy) into format::temporary_path(path), which is renamed
/// onto path; the rank files are removed only after the rename succeeded.
void merge_rank_files(const std::string& path, const Metadata& metadata,
                      const std::vector<std::pair<int, std::string>>& rank_files);

/// Initializes the HDF5 library now (once; later calls do nothing). HDF5 registers its own exit
/// handler, which closes the library, when it initializes: the profiler's exit handler, which
/// writes the file of a program that never called finalize(), must be registered after it, so
/// that it runs before it (exit handlers run in reverse order).
void open_library();

/// fork() handlers (core/fork_child.cpp): no HDF5 call of the library is under way while a
/// process forks. lock_for_fork() waits for the one in progress; unlock_after_fork() releases
/// it in the parent and gives the child a fresh lock.
void lock_for_fork() noexcept;
void unlock_after_fork(bool child) noexcept;

/// Throws std::invalid_argument with a clear sentence when a file cannot be created at path
/// (probes by creating and removing path + ".probe.<pid>").
void check_writable(const std::string& path);

}  // namespace scope_profiler::detail::h5
