#pragma once
// Statistics of a region's durations with the runtime: what stays of intervals flushed to disk,
// the backends (host, GPU) and the choice between them. The pure statistics (moments,
// percentiles, the sketch) are the stats/ component (scope_profiler_stats), shared with the
// command-line tools; the public result is scope_profiler::Stats.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "stats/moments.hpp"
#include "stats/percentiles.hpp"
#include "scope_profiler/detail/runtime.hpp"
#include "scope_profiler/region.hpp"
#include "stats/select.hpp"
#include "stats/sketch.hpp"

namespace scope_profiler::detail {

using stats::finish;
using stats::LogHistogram;
using stats::merge;
using stats::Moments;
using stats::percentile_ranks;
using stats::select_ranks;
using stats::set_percentiles;

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
/// For the flusher: the device batch `intervals` of `region` (in its state's
/// device_awaiting_disk) is on disk. Under the region's locks, its durations join the flushed
/// device summary and it leaves that list.
void commit_device_flushed(Region& region, const DeviceIntervals* intervals,
                           std::span<const std::int64_t> durations);
/// setup(): forgets what was flushed.
void clear_flushed(Region& region);

// ---- the backends ----

/// Host moments (exact): Thrust's transform_reduce on its CPP backend where the build has CCCL
/// (cuda/stats_host.cpp), stats::plain_moments otherwise (core/no_cuda.cpp).
Moments host_moments(std::span<const std::int64_t> values) noexcept;

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

/// Host statistics: stats::stats_of over host_moments.
Stats host_stats_of(std::span<const std::int64_t> values);

}  // namespace scope_profiler::detail
