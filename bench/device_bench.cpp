// The CPU cost of device scopes against raw CUDA event records, the throughput of resolving
// completed pairs, and the cost of NVTX on host regions against a steady_clock-pair baseline.
// bench/device_table.py runs this and prints the table of ratios.
//
// The GPU benchmarks skip themselves ("no usable CUDA device: ...") without a device; the host
// ones run everywhere. No tool is attached to NVTX here: that is the cost every user pays.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <scope_profiler/scope_profiler.hpp>

#include "baseline.hpp"

namespace sp = scope_profiler;

namespace {

// Empty when a device is usable, else why not (asked once).
const std::string& no_device_reason() {
    static const std::string reason = [] {
        int count = 0;
        const cudaError_t e = cudaGetDeviceCount(&count);
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            return std::string("cudaGetDeviceCount: ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
        }
        if (count <= 0) return std::string("cudaGetDeviceCount found no device");
        return std::string();
    }();
    return reason;
}

// True (and the benchmark marked skipped) when there is no usable device.
bool skip_without_gpu(benchmark::State& state) {
    if (no_device_reason().empty()) return false;
    state.SkipWithError(("no usable CUDA device: " + no_device_reason()).c_str());
    return true;
}

bool failed(benchmark::State& state, cudaError_t e, const char* what) {
    if (e == cudaSuccess) return false;
    (void)cudaGetLastError();
    state.SkipWithError((std::string(what) + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e)).c_str());
    return true;
}

const sp::Config kNvtxOn{.flush_to_disk = false, .use_nvtx = true};
const sp::Config kNvtxOff{.flush_to_disk = false, .use_nvtx = false};

// ---- host: must run without a GPU ----

void host_region(benchmark::State& state, const sp::Config& config, const char* name) {
    sp::ProfileManager::setup(config);
    sp::Region& region = sp::ProfileManager::region(name);
    for (auto _ : state) {
        sp::RegionScope scope(region);
        benchmark::ClobberMemory();
    }
    state.counters["calls"] = static_cast<double>(region.num_calls());
}

void BM_HostRegion_NvtxOn(benchmark::State& state) { host_region(state, kNvtxOn, "host_nvtx_on"); }
void BM_HostRegion_NvtxOff(benchmark::State& state) { host_region(state, kNvtxOff, "host_nvtx_off"); }

// ---- device: skipped without a GPU ----

// Two cudaEventRecord on one non-blocking stream, events made beforehand: what a device scope
// cannot avoid.
void BM_RawEventRecordPair(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    cudaStream_t stream = nullptr;
    cudaEvent_t start = nullptr, end = nullptr;
    if (failed(state, cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags") ||
        failed(state, cudaEventCreate(&start), "cudaEventCreate") ||
        failed(state, cudaEventCreate(&end), "cudaEventCreate")) {
        return;
    }
    cudaError_t status = cudaSuccess;
    for (auto _ : state) {
        const cudaError_t a = cudaEventRecord(start, stream);
        const cudaError_t b = cudaEventRecord(end, stream);
        if (a != cudaSuccess || b != cudaSuccess) status = a != cudaSuccess ? a : b;
    }
    const cudaError_t synced = cudaStreamSynchronize(stream);
    if (!failed(state, status, "cudaEventRecord")) (void)failed(state, synced, "cudaStreamSynchronize");
    (void)cudaEventDestroy(start);
    (void)cudaEventDestroy(end);
    (void)cudaStreamDestroy(stream);
}

// An empty device scope (cached Region&, profiling and NVTX on) on the same kind of stream.
void BM_DeviceScope(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    cudaStream_t stream = nullptr;
    if (failed(state, cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags")) {
        return;
    }
    sp::ProfileManager::setup(kNvtxOn);
    sp::Region& region = sp::ProfileManager::region("device_scope");
    { sp::DeviceScope warm_up(region, stream); }  // makes the backend, the anchor and a pair
    for (auto _ : state) {
        sp::DeviceScope scope(region, stream);
    }
    if (!failed(state, cudaStreamSynchronize(stream), "cudaStreamSynchronize")) {
        // Timed on the GPU, not fallen back to the host.
        const sp::DeviceIntervals iv = region.get_device_intervals(true);
        if (iv.host_fallback.empty() || iv.host_fallback.back() != 0) {
            state.SkipWithError("device scopes were timed on the host (fallback), not with CUDA events");
        }
    }
    (void)cudaStreamDestroy(stream);
    sp::ProfileManager::setup(kNvtxOn);  // frees the recorded intervals
}

// Holds a stream until released: a host function enqueued on it waits for the flag.
struct Gate {
    std::atomic<bool> open{false};
    static void CUDART_CB wait(void* self) {  // runs on CUDA's callback thread: no CUDA calls
        auto* gate = static_cast<Gate*>(self);
        while (!gate->open.load(std::memory_order_acquire)) std::this_thread::yield();
    }
};

// N device scopes recorded behind a gate (so none resolves while they are recorded), the stream
// synchronized, then only Region::get_device_durations(false) is timed, resolving them all.
// If recording ever blocked on a full stream queue, a watchdog opens the gate after 5 s and only
// the pairs still pending at the timed call are counted.
void BM_ResolveThroughput(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    const auto n = static_cast<std::size_t>(state.range(0));
    cudaStream_t stream = nullptr;
    if (failed(state, cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags")) {
        return;
    }
    std::int64_t resolved = 0;
    std::int64_t watchdog_fired = 0;
    for (auto _ : state) {
        state.PauseTiming();
        sp::ProfileManager::setup(kNvtxOn);
        sp::Region& region = sp::ProfileManager::region("resolve");
        Gate gate;
        if (failed(state, cudaLaunchHostFunc(stream, &Gate::wait, &gate), "cudaLaunchHostFunc")) break;
        std::mutex m;
        std::condition_variable cv;
        bool recorded = false;
        std::thread watchdog([&] {
            std::unique_lock lock(m);
            if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return recorded; })) ++watchdog_fired;
            gate.open.store(true, std::memory_order_release);
        });
        for (std::size_t i = 0; i < n; ++i) {
            sp::DeviceScope scope(region, stream);
        }
        // Whatever resolved already (only if the watchdog had to open the gate) is not counted.
        const std::size_t before = region.get_device_durations(false).size();
        {
            std::lock_guard lock(m);
            recorded = true;
        }
        cv.notify_one();
        watchdog.join();
        const cudaError_t synced = cudaStreamSynchronize(stream);
        if (failed(state, synced, "cudaStreamSynchronize")) break;
        state.ResumeTiming();

        std::vector<std::int64_t> durations = region.get_device_durations(false);
        benchmark::DoNotOptimize(durations.data());

        state.PauseTiming();
        if (durations.size() != n) {
            state.SkipWithError(("resolved " + std::to_string(durations.size()) + " of " + std::to_string(n) +
                                 " completed pairs")
                                    .c_str());
            break;
        }
        resolved += static_cast<std::int64_t>(durations.size() - before);
        state.ResumeTiming();
    }
    state.SetItemsProcessed(resolved);
    state.counters["pairs_per_call"] =
        state.iterations() > 0 ? static_cast<double>(resolved) / static_cast<double>(state.iterations()) : 0.0;
    state.counters["watchdog_fired"] = static_cast<double>(watchdog_fired);
    (void)cudaStreamDestroy(stream);
    sp::ProfileManager::setup(kNvtxOn);
}

}  // namespace

BENCHMARK(BM_Baseline_SteadyClockPair);
BENCHMARK(BM_HostRegion_NvtxOff);
BENCHMARK(BM_HostRegion_NvtxOn);
BENCHMARK(BM_RawEventRecordPair);
BENCHMARK(BM_DeviceScope);
BENCHMARK(BM_ResolveThroughput)->Arg(100000)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
