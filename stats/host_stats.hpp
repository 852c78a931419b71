#pragma once
// The statistics of a span of durations on the host: exact moments, exact percentiles.
#include <cstdint>
#include <span>

#include "stats/moments.hpp"

namespace scope_profiler::stats {

/// The statistics of `values`, whose moments are `m`: finish(m) and the exact p50, p95, p99
/// (values_at_ranks: no copy of a large span).
Stats stats_of(std::span<const std::int64_t> values, const Moments& m);

/// stats_of(values, plain_moments(values)).
Stats host_stats_of(std::span<const std::int64_t> values);

}  // namespace scope_profiler::stats
