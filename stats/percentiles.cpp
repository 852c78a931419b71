#include "stats/percentiles.hpp"

#include <algorithm>

namespace scope_profiler::stats {

std::array<std::uint64_t, 6> percentile_ranks(std::uint64_t n) noexcept {
    std::array<std::uint64_t, 6> ranks{};
    if (n == 0) return ranks;
    for (int i = 0; i < 3; ++i) {
        ranks[2 * i] = percentile_position(n, kPercentiles[i]).below;
        ranks[2 * i + 1] = std::min<std::uint64_t>(ranks[2 * i] + 1, n - 1);
    }
    return ranks;
}

void set_percentiles(Stats& s, std::uint64_t n, const std::array<std::int64_t, 6>& values) noexcept {
    if (n == 0) return;
    double* out[3] = {&s.p50, &s.p95, &s.p99};
    for (int i = 0; i < 3; ++i) {
        *out[i] = percentile_between(values[2 * i], values[2 * i + 1], percentile_position(n, kPercentiles[i]).gamma);
    }
}

}  // namespace scope_profiler::stats
