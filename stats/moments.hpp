#pragma once
// The moments of a set of durations: count, sum, min, max and the sum of squares, all exact
// integers. Exact sums do not depend on the order of the values nor on how they were split
// into batches, so every path that sees the same durations (finalize()'s summary over flushed
// batches and memory, a query, `scope-profiler report` over the file, the GPU reduction) gets
// the same moments, and finish() the same doubles to the bit.
//
// Header-only parts are __host__ __device__ under nvcc: the Thrust reduction of cuda/ is
// moments_of() and merge().
#include <cstdint>
#include <span>

#include "scope_profiler/region.hpp"
#include "stats/wide_int.hpp"

#if defined(__CUDACC__)
#define SCOPE_PROFILER_STATS_HD __host__ __device__
#else
#define SCOPE_PROFILER_STATS_HD
#endif

namespace scope_profiler::stats {

/// A sum of squares of int64 values: each is below 2^126 and at most 2^64 of them are added,
/// so 192 bits hold it exactly.
struct SquareSum {
    UInt128 low = 0;
    std::uint64_t high = 0;
};

struct Moments {
    std::uint64_t count = 0;
    Int128 sum = 0;
    std::int64_t min = INT64_MAX;
    std::int64_t max = INT64_MIN;
    SquareSum squares;  // sum of x^2, exact
};

/// x^2, exact.
SCOPE_PROFILER_STATS_HD inline UInt128 square(std::int64_t x) {
    const std::uint64_t magnitude = x < 0 ? 0 - static_cast<std::uint64_t>(x) : static_cast<std::uint64_t>(x);
    return static_cast<UInt128>(magnitude) * magnitude;
}

/// The moments of one value.
SCOPE_PROFILER_STATS_HD inline Moments moments_of(std::int64_t x) {
    Moments m;
    m.count = 1;
    m.sum = x;
    m.min = x;
    m.max = x;
    m.squares.low = square(x);
    return m;
}

/// The moments of a and b together: exact, so associative and commutative.
SCOPE_PROFILER_STATS_HD inline Moments merge(const Moments& a, const Moments& b) {
    Moments m;
    m.count = a.count + b.count;
    m.sum = a.sum + b.sum;
    m.min = a.min < b.min ? a.min : b.min;
    m.max = a.max > b.max ? a.max : b.max;
    m.squares.low = a.squares.low + b.squares.low;
    m.squares.high = a.squares.high + b.squares.high + (m.squares.low < a.squares.low ? 1 : 0);
    return m;
}

/// The plain loop over values: the host reduction of a build without CCCL (core/no_cuda.cpp),
/// of `scope-profiler report`, and the benchmarks' baseline.
Moments plain_moments(std::span<const std::int64_t> values) noexcept;

/// The mean of `count` values that add up to `sum`: the one division every mean goes through.
inline double mean_of(Int128 sum, std::uint64_t count) noexcept {
    return static_cast<double>(sum) / static_cast<double>(count);
}

/// Whether the sum fits the int64 total of Stats (a total beyond it is clamped by finish()).
inline bool total_fits(const Moments& m) noexcept { return m.sum >= INT64_MIN && m.sum <= INT64_MAX; }

/// count, total, mean, min, max and the population standard deviation from moments
/// (percentiles left at 0). The variance is n sum x^2 - (sum x)^2 over n^2, computed exactly in
/// 256 bits and rounded once.
Stats finish(const Moments& m) noexcept;

}  // namespace scope_profiler::stats
