#pragma once
// numpy.percentile's default method ("linear"), shared by report (which selects the two values
// it needs) and compare (which has them sorted): the same q gives the same double to the bit.

#include <cmath>
#include <cstdint>

namespace scope_profiler::cli {

/// Where percentile q (0..100) of n values lies: the 0-based rank below, and how far towards
/// the next rank (numpy's virtual index (n - 1) q / 100).
struct PercentilePosition {
    std::uint64_t below = 0;
    double gamma = 0;
};

inline PercentilePosition percentile_position(std::uint64_t n, double q) {
    const double index = (static_cast<double>(n) - 1.0) * (q / 100.0);
    const double below = std::floor(index);
    return {static_cast<std::uint64_t>(below), index - below};
}

/// numpy's _lerp of the values at ranks below and below + 1: from the nearer end, so the result
/// is exact at both ends.
inline double percentile_between(std::int64_t a, std::int64_t b, double gamma) {
    const auto diff = static_cast<double>(b - a);
    return gamma >= 0.5 ? static_cast<double>(b) - diff * (1.0 - gamma) : static_cast<double>(a) + diff * gamma;
}

}  // namespace scope_profiler::cli
