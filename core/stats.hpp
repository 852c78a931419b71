#pragma once
// Statistics of durations: the mergeable moments, exact percentiles, the backends that compute
// them, and the choice between those backends. The public result is scope_profiler::Stats.
//
// Moments (count, sum, min, max, sum of squares about a shift) merge exactly, block by block,
// so statistics can cover intervals already handed off to disk. The sum is an exact 128-bit
// integer; the squares are doubles about a shift taken from the data, which keeps the variance
// free of cancellation even for values near the int64 range.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "scope_profiler/detail/runtime.hpp"
#include "scope_profiler/region.hpp"

namespace scope_profiler::detail {

struct Moments {
    std::uint64_t count = 0;
    __int128 sum = 0;
    std::int64_t min = INT64_MAX;
    std::int64_t max = INT64_MIN;
    std::int64_t shift = 0;  // the squares are about this value
    double squares = 0.0;    // sum of (x - shift)^2
};

/// The shift for the squares of `values`: the median of up to 1023 evenly strided values. Close
/// to the mean in the units that matter (a standard deviation or so), whatever outliers the data
/// has, so summing squares about it in one pass cancels no digits worth having; the exact mean
/// would need a second pass.
std::int64_t choose_shift(std::span<const std::int64_t> values);

/// The moments of `a` and `b` together (re-centering b's squares on a's shift).
Moments merge(const Moments& a, const Moments& b) noexcept;

/// count, total, mean, min, max and stddev from moments (percentiles left at 0).
Stats finish(const Moments& m) noexcept;

/// The ranks (0-based, in sorted order) whose values the three percentiles need: for each of
/// p50, p95, p99 the rank below and above q * (n - 1), numpy's "linear" method.
std::array<std::uint64_t, 6> percentile_ranks(std::uint64_t n) noexcept;
/// p50, p95 and p99 from the values at percentile_ranks(n).
void set_percentiles(Stats& s, std::uint64_t n, const std::array<std::int64_t, 6>& values) noexcept;

/**
 * A mergeable quantile sketch for intervals that have left memory: counts in logarithmic
 * buckets (x in (g^(i-1), g^i], g = (1 + a) / (1 - a)), so any value it reports is within a
 * relative error a = 0.5 % of a value of that rank. Merging is adding counts, so it is exact.
 */
class LogHistogram {
public:
    static constexpr double kRelativeError = 0.005;

    void add(std::int64_t value);
    void merge(const LogHistogram& other);
    std::uint64_t count() const noexcept { return count_; }
    /// A value of the given 0-based rank, within kRelativeError (values <= 0 count as 0).
    double value_at_rank(std::uint64_t rank) const noexcept;

private:
    std::uint64_t count_ = 0;
    std::uint64_t nonpositive_ = 0;
    std::vector<std::uint64_t> buckets_;  // grown to the highest bucket seen
};

/// What stays of intervals handed off to disk: their moments (exact) and their sketch.
struct FlushedSummary {
    Moments moments;
    LogHistogram histogram;
};

/// Adds `values` (leaving memory) to `summary`.
void absorb(FlushedSummary& summary, std::span<const std::int64_t> values);

/// Statistics over the flushed intervals of `flushed` and the in-memory `values` together:
/// moments exact, percentiles from the merged sketch (percentiles_exact = false). Without
/// flushed intervals, exactly compute_stats(values).
Stats combined_stats(const FlushedSummary& flushed, std::span<const std::int64_t> values);

/// A region's intervals that left memory in this session, host and device apart.
struct FlushedData {
    FlushedSummary host;
    FlushedSummary device;
    std::uint64_t device_fallback = 0;  // flushed device intervals timed on the host
};

/// For the flusher: `durations` of `region` leave memory; its statistics keep covering them.
void absorb_flushed(Region& region, std::span<const std::int64_t> durations, bool device);
/// For the flusher: the device batch `intervals` of `region` (in its handed list) is on disk.
/// Under the region's locks, its durations join the flushed device summary and it leaves the
/// handed list.
void commit_device_flushed(Region& region, const DeviceIntervals* intervals,
                           std::span<const std::int64_t> durations);
/// setup(): forgets what was flushed.
void clear_flushed(Region& region);

// ---- the backends ----

/// Host moments about choose_shift(values): Thrust's transform_reduce on its CPP backend where
/// the build has CCCL
/// (cuda/stats_host.cpp), a plain loop otherwise (core/no_cuda.cpp).
Moments host_moments(std::span<const std::int64_t> values) noexcept;

/// Exact values at the given ranks, with min and max known: a radix select that histograms
/// 16 bits of (value - min) per pass and keeps only the buckets holding a wanted rank.
/// O(n) per pass, at most four passes, no copy of the data.
std::array<std::int64_t, 6> select_ranks(std::span<const std::int64_t> values, std::int64_t min,
                                         std::int64_t max, const std::array<std::uint64_t, 6>& ranks);

/// The CUDA backend (cuda/stats_cuda.cu): copy, transform_reduce, sort, gather. nullopt where no
/// GPU is usable or a CUDA call failed.
std::optional<Stats> gpu_stats(std::span<const std::int64_t> values) noexcept;
/// Whether a GPU is usable for statistics (checked once).
bool gpu_stats_available() noexcept;

enum class StatsBackend { automatic, host, gpu };

/// From this many values up, `automatic` reduces on the GPU (when one is usable): below it,
/// copying the data costs more than reducing it on the CPU. See docs/statistics.md.
inline constexpr std::size_t kGpuStatsThreshold = std::size_t{1} << 20;

/// The statistics of `values`, on the backend asked for (or chosen by size and GPU).
Stats compute_stats(std::span<const std::int64_t> values, StatsBackend backend = StatsBackend::automatic);

/// Host statistics: host_moments + select_ranks.
Stats host_stats_of(std::span<const std::int64_t> values);

}  // namespace scope_profiler::detail
