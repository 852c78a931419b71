#include "stats.hpp"

#include <algorithm>
#include <cmath>

#include "stats/host_stats.hpp"

namespace scope_profiler::detail {

void absorb(FlushedSummary& summary, std::span<const std::int64_t> values) {
    summary.moments = merge(summary.moments, host_moments(values));
    for (const std::int64_t v : values) summary.histogram.add(v);
}

Stats combined_stats(const FlushedSummary& flushed, std::span<const std::int64_t> values) {
    if (flushed.moments.count == 0) return compute_stats(values);
    const Moments m = merge(flushed.moments, host_moments(values));
    Stats s = finish(m);
    LogHistogram all = flushed.histogram;
    for (const std::int64_t v : values) all.add(v);
    const auto ranks = percentile_ranks(m.count);
    std::array<std::int64_t, 6> at{};
    for (int i = 0; i < 6; ++i) {
        // A bucket's value can lie just outside the data: clamp it to [min, max].
        const double v = std::clamp(all.value_at_rank(ranks[i]), static_cast<double>(m.min),
                                    static_cast<double>(m.max));
        at[i] = static_cast<std::int64_t>(std::llround(v));
    }
    set_percentiles(s, m.count, at);
    s.percentiles_exact = false;
    return s;
}

Stats host_stats_of(std::span<const std::int64_t> values) { return stats::stats_of(values, host_moments(values)); }

Stats compute_stats(std::span<const std::int64_t> values, StatsBackend backend) {
    const bool try_gpu = backend == StatsBackend::gpu ||
                         (backend == StatsBackend::automatic && values.size() >= kGpuStatsThreshold &&
                          gpu_stats_available());
    if (try_gpu) {
        if (std::optional<Stats> on_gpu = gpu_stats(values)) return *on_gpu;
    }
    return host_stats_of(values);
}

}  // namespace scope_profiler::detail
