#include "stats/host_stats.hpp"

#include "stats/percentiles.hpp"
#include "stats/select.hpp"

namespace scope_profiler::stats {

Stats stats_of(std::span<const std::int64_t> values, const Moments& m) {
    Stats s = finish(m);
    if (s.count == 0) return s;
    set_percentiles(s, s.count, values_at_ranks(values, m.min, m.max, percentile_ranks(s.count)));
    return s;
}

Stats host_stats_of(std::span<const std::int64_t> values) { return stats_of(values, plain_moments(values)); }

}  // namespace scope_profiler::stats
