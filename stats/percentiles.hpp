#pragma once
// numpy.percentile's default method ("linear"): where a percentile lies among n sorted values
// and how it is interpolated. One implementation for the library's p50/p95/p99, report's and
// compare's percentiles: the same q of the same values gives the same double to the bit.
#include <array>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "stats/moments.hpp"
#include "scope_profiler/region.hpp"

namespace scope_profiler::stats {

/// Where percentile q (0..100) of n values lies: the 0-based rank below, and how far towards
/// the next rank (numpy's virtual index (n - 1) q / 100).
struct PercentilePosition {
    std::uint64_t below = 0;
    double gamma = 0;
};

inline PercentilePosition percentile_position(std::uint64_t n, double q) noexcept {
    const double index = (static_cast<double>(n) - 1.0) * (q / 100.0);
    const double below = std::floor(index);
    return {static_cast<std::uint64_t>(below), index - below};
}

/// numpy's _lerp of the values at ranks below and below + 1 (int64 durations, or doubles such
/// as compare's bootstrap ratios): from the nearer end, so the result is exact at both ends.
/// An integer difference is taken exactly (in 128 bits: int64 values may lie 2^64 apart), then
/// rounded once, as numpy's int64 subtraction for any two durations.
template <typename T>
double percentile_between(T a, T b, double gamma) noexcept {
    double diff = 0;
    if constexpr (std::is_integral_v<T>) {
        diff = static_cast<double>(static_cast<Int128>(b) - static_cast<Int128>(a));
    } else {
        diff = static_cast<double>(b - a);
    }
    return gamma >= 0.5 ? static_cast<double>(b) - diff * (1.0 - gamma) : static_cast<double>(a) + diff * gamma;
}

/// The percentiles every statistics block has: p50, p95, p99.
inline constexpr double kPercentiles[3] = {50.0, 95.0, 99.0};

/// The ranks (0-based, in sorted order) whose values the three percentiles need: for each of
/// p50, p95, p99 the rank below and above its position (the last rank twice at q = 100).
std::array<std::uint64_t, 6> percentile_ranks(std::uint64_t n) noexcept;

/// p50, p95 and p99 of n values from the values at percentile_ranks(n).
void set_percentiles(Stats& s, std::uint64_t n, const std::array<std::int64_t, 6>& values) noexcept;

}  // namespace scope_profiler::stats
