// The statistics engine (stats/, core/stats.hpp) against hand-written baselines, and the host backend
// against the CUDA backend by size. bench/stats_table.py runs this and prints the table.
//
//   - BM_Moments_HandLoop: the plain loop, stats::plain_moments (count, __int128 sum, min, max,
//     exact sum of squares): what a build without CCCL and `scope-profiler report` run — the
//     baseline;
//   - BM_Moments_Thrust: detail::host_moments (Thrust transform_reduce on the CPP backend in a
//     CUDA build; the plain loop of core/no_cuda.cpp otherwise);
//   - BM_Percentiles_NthElement: the six values the three percentiles need (numpy's linear
//     method: the ranks below and above q * (n - 1)) from three std::nth_element calls on
//     progressively narrower subranges plus a min_element for each upper neighbour, on a copy
//     made with the timer paused — the baseline;
//   - BM_Percentiles_RadixSelect: detail::select_ranks with min and max known, as compute_stats
//     calls it (no copy);
//   - BM_Stats_Host/N and BM_Stats_Gpu/N: detail::compute_stats on the first N values with the
//     backend forced. The GPU ones skip themselves ("no usable CUDA device") without a device.
//
// Data: lognormal(9, 1.5) nanoseconds (median ~8 us, a long tail), like real region timings,
// generated once with a fixed seed: 10 million values, and 100 million only for N = 1e8.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "stats.hpp"

namespace d = scope_profiler::detail;

namespace {

constexpr std::size_t kData = 10'000'000;
constexpr std::size_t kLarge = 100'000'000;

std::vector<std::int64_t> lognormal_durations(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> dist(9.0, 1.5);
    std::vector<std::int64_t> v(n);
    for (auto& x : v) x = std::llround(dist(rng));
    return v;
}

// The 10 million values every moments/percentiles benchmark uses (and the prefixes for N <= 1e7).
const std::vector<std::int64_t>& data() {
    static const std::vector<std::int64_t> v = lognormal_durations(kData, 20240601);
    return v;
}

// 100 million values (800 MB), made only when an N = 1e8 benchmark runs.
const std::vector<std::int64_t>& large_data() {
    static const std::vector<std::int64_t> v = lognormal_durations(kLarge, 20240602);
    return v;
}

std::span<const std::int64_t> first(std::size_t n) {
    const auto& v = n <= kData ? data() : large_data();
    return std::span<const std::int64_t>(v.data(), n);
}

void set_items(benchmark::State& state, std::size_t n) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}

// ---- moments ----

void BM_Moments_HandLoop(benchmark::State& state) {
    const auto values = first(kData);
    for (auto _ : state) {
        d::Moments m = scope_profiler::stats::plain_moments(values);
        benchmark::DoNotOptimize(m);
    }
    set_items(state, kData);
}

void BM_Moments_Thrust(benchmark::State& state) {
    const auto values = first(kData);
    // Same result as the baseline, or the comparison means nothing.
    const d::Moments a = scope_profiler::stats::plain_moments(values), b = d::host_moments(values);
    if (a.count != b.count || a.sum != b.sum || a.min != b.min || a.max != b.max ||
        a.squares.low != b.squares.low || a.squares.high != b.squares.high) {
        state.SkipWithError("host_moments disagrees with the hand loop");
        return;
    }
    for (auto _ : state) {
        d::Moments m = d::host_moments(values);
        benchmark::DoNotOptimize(m);
    }
    set_items(state, kData);
}

// ---- percentiles ----

// The six values at percentile_ranks(n) by nth_element on `v` (reordered in place).
std::array<std::int64_t, 6> nth_element_ranks(std::vector<std::int64_t>& v, const std::array<std::uint64_t, 6>& ranks) {
    std::array<std::int64_t, 6> out{};
    const auto begin = v.begin();
    const auto end = v.end();
    // p50, p95, p99 lower ranks, each on the range above the previous one.
    auto from = begin;
    for (int i = 0; i < 3; ++i) {
        const auto nth = begin + static_cast<std::ptrdiff_t>(ranks[2 * i]);
        std::nth_element(from, nth, end);
        out[2 * i] = *nth;
        from = nth + 1;
    }
    // Upper neighbours: the smallest value after each lower rank, which lies before the next
    // lower rank (everything after that one is no smaller).
    for (int i = 0; i < 3; ++i) {
        const auto lo = begin + static_cast<std::ptrdiff_t>(ranks[2 * i]);
        const auto hi = begin + static_cast<std::ptrdiff_t>(ranks[2 * i + 1]);
        if (hi == lo) {
            out[2 * i + 1] = *lo;
            continue;
        }
        const auto stop = i < 2 ? begin + static_cast<std::ptrdiff_t>(ranks[2 * i + 2]) + 1 : end;
        out[2 * i + 1] = *std::min_element(lo + 1, stop);
    }
    return out;
}

void BM_Percentiles_NthElement(benchmark::State& state) {
    const auto values = first(kData);
    const auto ranks = d::percentile_ranks(kData);
    std::vector<std::int64_t> work(kData);
    for (auto _ : state) {
        state.PauseTiming();
        std::copy(values.begin(), values.end(), work.begin());
        state.ResumeTiming();
        auto out = nth_element_ranks(work, ranks);
        benchmark::DoNotOptimize(out);
    }
    set_items(state, kData);
}

void BM_Percentiles_RadixSelect(benchmark::State& state) {
    const auto values = first(kData);
    const auto ranks = d::percentile_ranks(kData);
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    const std::int64_t min = *lo, max = *hi;
    // Same six values as the baseline.
    std::vector<std::int64_t> copy(values.begin(), values.end());
    if (d::select_ranks(values, min, max, ranks) != nth_element_ranks(copy, ranks)) {
        state.SkipWithError("select_ranks disagrees with nth_element");
        return;
    }
    copy = {};
    for (auto _ : state) {
        auto out = d::select_ranks(values, min, max, ranks);
        benchmark::DoNotOptimize(out);
    }
    set_items(state, kData);
}

// ---- whole statistics, host vs GPU ----

void BM_Stats_Host(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto values = first(n);
    for (auto _ : state) {
        auto s = d::compute_stats(values, d::StatsBackend::host);
        benchmark::DoNotOptimize(s);
    }
    set_items(state, n);
    state.counters["gpu_threshold"] = static_cast<double>(d::kGpuStatsThreshold);
}

void BM_Stats_Gpu(benchmark::State& state) {
    if (!d::gpu_stats_available()) {
        state.SkipWithError("no usable CUDA device (detail::gpu_stats_available() is false)");
        return;
    }
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto values = first(n);
    // Warm-up outside the timing (CUDA context, first allocations), and a check that the GPU
    // really computes: compute_stats falls back to the host silently when gpu_stats fails.
    if (!d::gpu_stats(values)) {
        state.SkipWithError("detail::gpu_stats failed (compute_stats would time the host fallback)");
        return;
    }
    for (auto _ : state) {
        auto s = d::compute_stats(values, d::StatsBackend::gpu);
        benchmark::DoNotOptimize(s);
    }
    set_items(state, n);
    state.counters["gpu_threshold"] = static_cast<double>(d::kGpuStatsThreshold);
}

void stats_sizes(benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond);
    for (std::int64_t n = 1'000; n <= 1'000'000; n *= 10) b->Arg(n);
}

}  // namespace

BENCHMARK(BM_Moments_HandLoop)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Moments_Thrust)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Percentiles_NthElement)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Percentiles_RadixSelect)->Unit(benchmark::kMillisecond);

// Small sizes by min_time; the large ones with few iterations (1e8 host: ~1 s each).
BENCHMARK(BM_Stats_Host)->Apply(stats_sizes);
BENCHMARK(BM_Stats_Host)->Unit(benchmark::kMillisecond)->Arg(10'000'000)->Iterations(5);
BENCHMARK(BM_Stats_Host)->Unit(benchmark::kMillisecond)->Arg(100'000'000)->Iterations(2);
BENCHMARK(BM_Stats_Gpu)->Apply(stats_sizes);
BENCHMARK(BM_Stats_Gpu)->Unit(benchmark::kMillisecond)->Arg(10'000'000)->Iterations(5);
BENCHMARK(BM_Stats_Gpu)->Unit(benchmark::kMillisecond)->Arg(100'000'000)->Iterations(3);

BENCHMARK_MAIN();
