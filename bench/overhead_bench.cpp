// The cost of one enter+exit of an empty region, against a bare pair of steady_clock reads
// measured in the same run. bench/overhead.py runs this and prints the table of ratios.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <scope_profiler/scope_profiler.hpp>

#include "baseline.hpp"

namespace sp = scope_profiler;

namespace {

void setup_session(const sp::Config& config) {
    sp::ProfileManager::setup(config);
    // 1000 other regions, so a look-up by name cannot profit from an empty table.
    for (int i = 0; i < 1000; ++i) sp::ProfileManager::region("other_region_" + std::to_string(i));
}

// Host regions alone: NVTX has its own row (BM_Handle_Nvtx).
const sp::Config kTimed{.flush_to_disk = false, .use_nvtx = false};
const sp::Config kTimedNvtx{.flush_to_disk = false, .use_nvtx = true};
const sp::Config kTsc{.flush_to_disk = false, .use_nvtx = false, .clock = sp::Clock::tsc};
const sp::Config kCounts{.time_trace = false, .flush_to_disk = false, .use_nvtx = false};
const sp::Config kOff{.profiling_activated = false, .flush_to_disk = false};

// Single-threaded benchmarks start a new session; threaded ones share the one thread 0 starts.
void begin(benchmark::State& state, const sp::Config& config) {
    if (state.thread_index() == 0) setup_session(config);
}

void BM_Handle(benchmark::State& state) {
    begin(state, kTimed);
    sp::Region& region = sp::ProfileManager::region("handle");
    for (auto _ : state) {
        sp::RegionScope scope(region);
        benchmark::ClobberMemory();
    }
}

// With NVTX on and no tool attached (in builds with CUDA; elsewhere the same as BM_Handle).
void BM_Handle_Nvtx(benchmark::State& state) {
    begin(state, kTimedNvtx);
    sp::Region& region = sp::ProfileManager::region("handle");
    for (auto _ : state) {
        sp::RegionScope scope(region);
        benchmark::ClobberMemory();
    }
}

void BM_Macro(benchmark::State& state) {
    begin(state, kTimed);
    for (auto _ : state) {
        SCOPE_PROFILE_REGION("macro");
        benchmark::ClobberMemory();
    }
}

void BM_Wrapper(benchmark::State& state) {
    begin(state, kTimed);
    auto wrapped = sp::ProfileManager::profile("wrapper", [] { benchmark::ClobberMemory(); });
    for (auto _ : state) wrapped();
}

void BM_ByName(benchmark::State& state) {
    begin(state, kTimed);
    for (auto _ : state) {
        auto scope = sp::ProfileManager::profile_region("by_name_region");
        benchmark::ClobberMemory();
    }
}

// Config::clock = tsc: the same scopes reading the time-stamp counter.
void BM_Tsc_Handle(benchmark::State& state) {
    begin(state, kTsc);
    sp::Region& region = sp::ProfileManager::region("handle");
    for (auto _ : state) {
        sp::RegionScope scope(region);
        benchmark::ClobberMemory();
    }
}

void BM_Tsc_Macro(benchmark::State& state) {
    begin(state, kTsc);
    for (auto _ : state) {
        SCOPE_PROFILE_REGION("macro");
        benchmark::ClobberMemory();
    }
}

void BM_Tsc_Wrapper(benchmark::State& state) {
    begin(state, kTsc);
    auto wrapped = sp::ProfileManager::profile("wrapper", [] { benchmark::ClobberMemory(); });
    for (auto _ : state) wrapped();
}

void BM_Tsc_ByName(benchmark::State& state) {
    begin(state, kTsc);
    for (auto _ : state) {
        auto scope = sp::ProfileManager::profile_region("by_name_region");
        benchmark::ClobberMemory();
    }
}

// What reading 10 M intervals back costs (the statistics of finalize() and a query of every
// interval), with the blocks holding steady_clock ns (arg 0) or ticks to convert (arg 1).
void BM_Read10M(benchmark::State& state) {
    sp::Config config{.flush_to_disk = false, .use_nvtx = false};
    if (state.range(0) == 1) config.clock = sp::Clock::tsc;
    sp::ProfileManager::setup(config);
    sp::Region& region = sp::ProfileManager::region("read");
    for (int i = 0; i < 10'000'000; ++i) sp::RegionScope scope(region);
    for (auto _ : state) {
        benchmark::DoNotOptimize(region.get_durations());
        benchmark::DoNotOptimize(region.get_start_times());
    }
    sp::ProfileManager::setup({.profiling_activated = false});  // no file of 10 M intervals at exit
}

// finalize() of 10 M intervals in memory (the statistics and the write of the file), per clock
// (arg 1: tsc, the ticks converted on the way). The recording is not timed.
void BM_Finalize10M(benchmark::State& state) {
    const std::string path = "/tmp/scope_profiler_overhead_bench_" + std::to_string(::getpid()) + ".h5";
    sp::Config config{.flush_to_disk = false, .file_path = path, .use_nvtx = false};
    if (state.range(0) == 1) config.clock = sp::Clock::tsc;
    for (auto _ : state) {
        state.PauseTiming();
        sp::ProfileManager::setup(config);
        sp::Region& region = sp::ProfileManager::region("written");
        for (int i = 0; i < 10'000'000; ++i) sp::RegionScope scope(region);
        state.ResumeTiming();
        sp::ProfileManager::finalize(false);
    }
    std::remove(path.c_str());
}

void BM_Off_Handle(benchmark::State& state) {
    begin(state, kOff);
    sp::Region& region = sp::ProfileManager::region("handle");
    for (auto _ : state) {
        sp::RegionScope scope(region);
        benchmark::ClobberMemory();
    }
}

void BM_Off_Macro(benchmark::State& state) {
    begin(state, kOff);
    for (auto _ : state) {
        SCOPE_PROFILE_REGION("macro");
        benchmark::ClobberMemory();
    }
}

void BM_Off_ByName(benchmark::State& state) {
    begin(state, kOff);
    for (auto _ : state) {
        auto scope = sp::ProfileManager::profile_region("by_name_region");
        benchmark::ClobberMemory();
    }
}

void BM_Counts_Handle(benchmark::State& state) {
    begin(state, kCounts);
    sp::Region& region = sp::ProfileManager::region("handle");
    for (auto _ : state) {
        sp::RegionScope scope(region);
        benchmark::ClobberMemory();
    }
}

void BM_Counts_ByName(benchmark::State& state) {
    begin(state, kCounts);
    for (auto _ : state) {
        auto scope = sp::ProfileManager::profile_region("by_name_region");
        benchmark::ClobberMemory();
    }
}

std::size_t resident_bytes() {
    std::FILE* statm = std::fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (statm != nullptr) {
        if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(statm);
    }
    return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Resident bytes per recorded interval: everything the process grew by while recording 8 Mi
// intervals, over the intervals. Run it in a process of its own (bench/overhead.py does), so
// no memory freed by an earlier benchmark is reused and hides the cost.
void BM_MemoryPerInterval(benchmark::State& state) {
    constexpr int kIntervals = 1 << 23;
    double bytes_per_interval = 0;
    for (auto _ : state) {
        state.PauseTiming();
        setup_session(kTimed);
        sp::Region& region = sp::ProfileManager::region("memory");
        const std::size_t before = resident_bytes();
        state.ResumeTiming();
        for (int i = 0; i < kIntervals; ++i) sp::RegionScope scope(region);
        state.PauseTiming();
        bytes_per_interval = static_cast<double>(resident_bytes() - before) / kIntervals;
        state.ResumeTiming();
    }
    state.counters["bytes_per_interval"] = bytes_per_interval;
}

}  // namespace

BENCHMARK(BM_Baseline_SteadyClockPair)->ThreadRange(1, 2)->UseRealTime();
BENCHMARK(BM_Handle)->ThreadRange(1, 2)->UseRealTime();
BENCHMARK(BM_Handle_Nvtx);
BENCHMARK(BM_Macro);
BENCHMARK(BM_Wrapper);
BENCHMARK(BM_ByName)->ThreadRange(1, 2)->UseRealTime();
BENCHMARK(BM_Baseline_RdtscPair);
BENCHMARK(BM_Tsc_Handle);
BENCHMARK(BM_Tsc_Macro);
BENCHMARK(BM_Tsc_Wrapper);
BENCHMARK(BM_Tsc_ByName);
BENCHMARK(BM_Read10M)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_Finalize10M)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Off_Handle);
BENCHMARK(BM_Off_Macro);
BENCHMARK(BM_Off_ByName);
BENCHMARK(BM_Counts_Handle);
BENCHMARK(BM_Counts_ByName);
BENCHMARK(BM_MemoryPerInterval)->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
