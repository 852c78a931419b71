#pragma once
// Reading a profiling file: ours (../docs/file_format.md) or the Python scope-profiler's plain
// layout (rank<N>/regions/<name>/start_times and end_times only, no thread or device datasets,
// names unescaped). Opening reads the structure (ranks, regions, dataset lengths, metadata);
// the intervals are read on demand, whole or in slices, so a large file is streamed.
//
// Every problem with the input (missing file, not HDF5, truncated, datasets missing or of
// mismatched lengths) throws InputError whose message is one line naming the file and the
// problem; the command prints it and exits with code 2.

#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace scope_profiler::cli {

/// Bad input: a one-line message naming the problem. The command exits with code 2.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One region of one rank, as the file lists it.
struct RegionInfo {
    std::string name;   ///< the original name: the group's "name" attribute (ours), else the link name as it is (Python's)
    std::string group;  ///< the HDF5 path of its group, "rank0/regions/<escaped name>"
    std::uint64_t host_count = 0;    ///< length of start_times (= end_times, = thread_ids when present)
    std::uint64_t device_count = 0;  ///< length of device_start_times (0 when absent)
    bool has_thread_ids = false;     ///< false in the Python library's files: every interval is on thread 0
    std::int64_t clock_offset_ns = 0;  ///< its rank's (RankInfo::clock_offset_ns)
};

struct RankInfo {
    int rank = 0;
    /// The rank<N> group's "clock_offset_ns" (0 when absent): what puts this rank's clock on
    /// rank 0's. read_host() and read_device() have added it to every time they return, so the
    /// ranks of an MPI job share one time axis.
    std::int64_t clock_offset_ns = 0;
    std::vector<RegionInfo> regions;  ///< in the file's link order
};

/// Host intervals: element i of each vector belongs to interval i. Times are on rank 0's clock.
struct HostColumns {
    std::vector<std::int64_t> start_times, end_times;  ///< ns, host steady_clock
    std::vector<std::int32_t> thread_ids;              ///< zeros when the file has none
};

/// Device intervals, on the host timeline.
struct DeviceColumns {
    std::vector<std::int64_t> start_times, end_times;  ///< ns
    std::vector<std::int64_t> stream_ids;              ///< dataset device_streams; zeros when the file has none
    std::vector<std::uint8_t> host_fallback;           ///< zeros when the file has none
};

/// One attribute of the file's "metadata" group.
struct MetadataField {
    std::string key;
    /// The value as text: a string as it is, a number in decimal, an array's elements joined
    /// with ", ".
    std::string text;
    /// One integer, or one finite float: `text` is then also a JSON number (integers exactly).
    bool number = false;
};

inline constexpr std::uint64_t kAll = std::numeric_limits<std::uint64_t>::max();

/// The latest time an interval may end, 2^62 ns (146 years). read_host() and read_device() leave
/// out every interval that no clock could have given: a negative start, an end before its start,
/// an end after this (or a clock offset that would carry it out of 64 bits); the file's closing
/// says how many on stderr, with the first. Every difference of two times that remain then
/// fits in 64 bits.
inline constexpr std::int64_t kLatestNs = std::int64_t{1} << 62;

class ProfileFile {
public:
    /// Opens path read-only and reads its structure; throws InputError.
    explicit ProfileFile(const std::string& path);
    ~ProfileFile();
    ProfileFile(ProfileFile&&) noexcept;
    ProfileFile& operator=(ProfileFile&&) noexcept;

    [[nodiscard]] const std::string& path() const noexcept;
    /// The "metadata" group's attributes, by name; empty when absent.
    [[nodiscard]] const std::vector<MetadataField>& metadata() const noexcept;
    /// The rank<N> groups, by rank.
    [[nodiscard]] const std::vector<RankInfo>& ranks() const noexcept;

    /// Host intervals [first, first + count) of a region (count clipped to the end), less those
    /// left out (kLatestNs).
    [[nodiscard]] HostColumns read_host(const RegionInfo& region, std::uint64_t first = 0,
                                        std::uint64_t count = kAll) const;
    /// Only the thread ids of host intervals [first, first + count) (zeros when the file has
    /// none): a quick pass that sizes per-thread buffers before the intervals are read.
    [[nodiscard]] std::vector<std::int32_t> read_thread_ids(const RegionInfo& region, std::uint64_t first = 0,
                                                            std::uint64_t count = kAll) const;
    /// Device intervals [first, first + count) of a region (count clipped to the end), less those
    /// left out (kLatestNs).
    [[nodiscard]] DeviceColumns read_device(const RegionInfo& region, std::uint64_t first = 0,
                                            std::uint64_t count = kAll) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace scope_profiler::cli
