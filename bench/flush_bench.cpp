// flush_to_disk (docs/overhead.md, "Flushing to disk"): what the flusher costs the recording
// thread, how fast it writes, and how long finalize() takes to merge the ranks' files.
// bench/flush_table.py runs it and prints the table.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <scope_profiler/scope_profiler.hpp>

#include "baseline.hpp"
#include "h5_writer.hpp"

namespace sp = scope_profiler;
namespace h5 = scope_profiler::detail::h5;
namespace fs = std::filesystem;

namespace {

/// Where the benchmarks write: SCOPE_PROFILER_BENCH_DIR, else the system's temporary directory.
fs::path bench_dir() {
    const char* dir = std::getenv("SCOPE_PROFILER_BENCH_DIR");
    fs::path path = dir != nullptr && *dir != '\0' ? fs::path(dir) : fs::temp_directory_path();
    path /= "scope_profiler_flush_bench_" + std::to_string(::getpid());
    fs::create_directories(path);
    return path;
}

sp::Config session(bool flush) {
    return {.flush_to_disk = flush, .file_path = (bench_dir() / "bench.h5").string(), .use_nvtx = false};
}

/// Ends a benchmark's session without writing its file (the rank file goes with it).
void drop_session() { sp::ProfileManager::setup({.profiling_activated = false}); }

// Enter+exit of a cached handle, with the default buffer_limit (100000): flush on hands a
// region's blocks to the flusher every 100,000 calls; flush off keeps every call in memory.
void BM_EnterExit(benchmark::State& state) {
    sp::ProfileManager::setup(session(state.range(0) != 0));
    sp::Region& region = sp::ProfileManager::region("hot");
    for (auto _ : state) {
        sp::RegionScope scope(region);
        benchmark::ClobberMemory();
    }
    drop_session();
}

// Single enter+exit costs, each timed on its own (the time includes one steady_clock read),
// while the flusher writes (flush on): percentiles over 4 Mi calls per run.
void BM_SingleCallTail(benchmark::State& state) {
    constexpr std::size_t kCalls = std::size_t{1} << 22;
    std::vector<std::int64_t> costs(kCalls);
    std::vector<std::int64_t> sorted;
    for (auto _ : state) {
        state.PauseTiming();
        sp::ProfileManager::setup(session(state.range(0) != 0));
        sp::Region& region = sp::ProfileManager::region("tail");
        state.ResumeTiming();
        auto before = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < kCalls; ++i) {
            { sp::RegionScope scope(region); }
            const auto after = std::chrono::steady_clock::now();
            costs[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(after - before).count();
            before = after;
        }
        state.PauseTiming();
        sorted = costs;
        drop_session();
        state.ResumeTiming();
    }
    const auto at = [&](double q) {
        const auto k = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1));
        std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k), sorted.end());
        return static_cast<double>(sorted[k]);
    };
    state.counters["p50_ns"] = at(0.5);
    state.counters["p99_ns"] = at(0.99);
    state.counters["p999_ns"] = at(0.999);
    state.counters["max_ns"] = static_cast<double>(*std::max_element(sorted.begin(), sorted.end()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kCalls));
}

h5::RegionColumns batch_of(std::size_t n, std::int64_t first) {
    h5::RegionColumns c;
    c.name = "region";
    c.start_times.resize(n);
    c.end_times.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        c.start_times[i] = first + static_cast<std::int64_t>(i) * 100;
        c.end_times[i] = c.start_times[i] + 40 + static_cast<std::int64_t>(i % 17);
    }
    c.thread_ids.assign(n, 0);
    return c;
}

// The flusher's write path: one hand-off of the default buffer (99 blocks = 100,980 intervals)
// appended to a rank file and flushed to the page cache, per iteration.
/// twin 0: the rank file written in place (what a file system that cannot swap names gets, and
/// what every file got before the twin); 1: the default, a twin written first, names swapped.
void force_twin(bool twin) {
    if (twin)
        h5::force_swap_methods(std::nullopt);
    else
        h5::force_swap_methods(std::vector<scope_profiler::detail::SwapMethod>{});
}

void BM_FlusherAppend(benchmark::State& state) {
    const std::string path = (bench_dir() / "append.rank0.h5").string();
    const h5::RegionColumns batch = batch_of(99 * 1020, 0);
    force_twin(state.range(0) != 0);
    {
        h5::RankFile file(path, 0);
        for (auto _ : state) file.append(batch);
        file.close();
    }
    force_twin(true);
    fs::remove(path);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch.start_times.size()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * batch.start_times.size() * 20));
}

// End to end: one thread records N calls with flush on (default buffer_limit), then finalize()
// drains the flusher, appends the rest and merges: intervals per second through the whole path.
void BM_RecordFlushFinalize(benchmark::State& state) {
    const auto calls = static_cast<std::size_t>(state.range(0));
    force_twin(state.range(1) != 0);
    for (auto _ : state) {
        sp::ProfileManager::setup(session(true));
        sp::Region& region = sp::ProfileManager::region("recorded");
        for (std::size_t i = 0; i < calls; ++i) sp::RegionScope scope(region);
        sp::ProfileManager::finalize(false);
    }
    force_twin(true);
    fs::remove(bench_dir() / "bench.h5");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * calls));
}

// finalize() on rank 0 of a job: merge ranks' files of N intervals each (10 regions per rank)
// into one file, fsync included. The rank files are written before, untimed.
void BM_MergeRanks(benchmark::State& state) {
    const int ranks = static_cast<int>(state.range(0));
    const auto per_rank = static_cast<std::size_t>(state.range(1));
    const fs::path dir = bench_dir();
    const h5::RegionColumns chunk = batch_of(1'000'000, 0);
    for (auto _ : state) {
        state.PauseTiming();
        std::vector<std::pair<int, std::string>> files;
        for (int r = 0; r < ranks; ++r) {
            files.emplace_back(r, (dir / ("merge.rank" + std::to_string(r) + ".h5")).string());
            h5::RankFile file(files.back().second, r);
            for (std::size_t written = 0; written < per_rank;) {
                h5::RegionColumns c = chunk;
                const std::size_t n = std::min(c.start_times.size(), per_rank - written);
                c.name = "region_" + std::to_string(written / 1'000'000 % 10);
                c.start_times.resize(n);
                c.end_times.resize(n);
                c.thread_ids.resize(n);
                file.append(c);
                written += n;
            }
            file.close();
        }
        state.ResumeTiming();
        h5::merge_rank_files((dir / "merged.h5").string(), h5::collect_metadata(ranks), files);
        state.PauseTiming();
        fs::remove(dir / "merged.h5");
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * ranks *
                            static_cast<std::int64_t>(per_rank));
}

}  // namespace

BENCHMARK(BM_Baseline_SteadyClockPair);
BENCHMARK(BM_EnterExit)->Arg(0)->Arg(1)->ArgName("flush");
BENCHMARK(BM_SingleCallTail)->Arg(0)->Arg(1)->ArgName("flush")->Iterations(1)->Unit(benchmark::kMillisecond);
// Rates by the wall clock: the disk work is what counts, not this thread's CPU time.
BENCHMARK(BM_FlusherAppend)->Arg(0)->Arg(1)->ArgName("twin")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RecordFlushFinalize)->Args({20'000'000, 0})->Args({20'000'000, 1})->ArgNames({"calls", "twin"})
    ->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MergeRanks)->Args({8, 2'000'000})->Args({8, 10'000'000})->Iterations(1)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::error_code ignored;
    fs::remove_all(bench_dir(), ignored);
    return 0;
}
