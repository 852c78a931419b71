#pragma once
// The baseline every overhead ratio is taken against, measured in the same run: a bare pair of
// steady_clock reads, the two clock reads any timed region needs.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

inline void BM_Baseline_SteadyClockPair(benchmark::State& state) {
    for (auto _ : state) {
        auto a = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(a);
        auto b = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(b);
    }
}

// The floor of Config::clock = tsc: a bare pair of time-stamp counter reads (x86-64).
inline void BM_Baseline_RdtscPair(benchmark::State& state) {
    for (auto _ : state) {
        std::uint32_t lo, hi;
        asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
        benchmark::DoNotOptimize(lo);
        asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
        benchmark::DoNotOptimize(hi);
    }
}
