// Device scopes on a real GPU: durations against raw CUDA events, one timeline with host regions,
// no blocking on the hot path, many streams and threads, graph capture, pool growth.
//
// Every test first checks for a usable device and reports itself SKIPPED when there is none
// (never passed). scripts/gpu_check.sh treats a skip on a GPU machine as a failure.
//
// The kernels spin on %globaltimer for a requested number of nanoseconds, so their length is known.
//
// The same tests run a second time on the simulated CUDA runtime (scope_profiler::cuda_sim,
// SCOPE_PROFILER_TEST_ON_SIM, label cudasim): there a kernel body never runs and a launch
// occupies its stream for the duration queued with cuda_sim::set_next_kernel_ns.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <scope_profiler/scope_profiler.hpp>
#if SCOPE_PROFILER_TEST_ON_SIM
#include <scope_profiler/cuda_sim.hpp>

#include "../cudasim/stream_gate.hpp"
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace sp = scope_profiler;

namespace {

__device__ __forceinline__ unsigned long long global_timer_ns() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// Busy-waits for `ns` nanoseconds of GPU time (one thread is enough); optionally sets a flag.
__global__ void spin_kernel(unsigned long long ns, int* flag) {
    const unsigned long long start = global_timer_ns();
    while (global_timer_ns() - start < ns) {
    }
    if (flag != nullptr) *flag = 1;
}

void spin(cudaStream_t stream, std::int64_t ns, int* flag = nullptr) {
#if SCOPE_PROFILER_TEST_ON_SIM
    scope_profiler::cuda_sim::set_next_kernel_ns(ns);
#endif
    spin_kernel<<<1, 1, 0, stream>>>(static_cast<unsigned long long>(ns), flag);
}

std::int64_t host_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string describe(cudaError_t e) {
    return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

// Empty when a device is usable, else why not.
std::string no_device_reason() {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return "cudaGetDeviceCount failed (" + describe(e) + ")";
    }
    if (count <= 0) return "cudaGetDeviceCount found no device";
    return {};
}

#define CUDA_ASSERT(call)                                                                     \
    do {                                                                                      \
        const cudaError_t cuda_assert_error_ = (call);                                        \
        ASSERT_EQ(cuda_assert_error_, cudaSuccess) << #call << ": " << describe(cuda_assert_error_); \
    } while (0)

#define CUDA_EXPECT(call)                                                                     \
    do {                                                                                      \
        const cudaError_t cuda_expect_error_ = (call);                                        \
        EXPECT_EQ(cuda_expect_error_, cudaSuccess) << #call << ": " << describe(cuda_expect_error_); \
    } while (0)

// Every test: skip without a usable device, then a fresh in-memory session.
class Gpu : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string why = no_device_reason();
        if (!why.empty()) GTEST_SKIP() << "no usable CUDA device: " << why;
        sp::ProfileManager::setup({.flush_to_disk = false});
    }
};

// A stream that is destroyed with the test.
struct Stream {
    cudaStream_t s = nullptr;
    cudaError_t made;
    explicit Stream(unsigned flags = cudaStreamNonBlocking) : made(cudaStreamCreateWithFlags(&s, flags)) {}
    ~Stream() {
        if (s != nullptr) {
            (void)cudaStreamSynchronize(s);
            (void)cudaStreamDestroy(s);
        }
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
};

struct Event {
    cudaEvent_t e = nullptr;
    cudaError_t made;
    Event() : made(cudaEventCreate(&e)) {}
    ~Event() {
        if (e != nullptr) (void)cudaEventDestroy(e);
    }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
};

// A device scope's duration matches a raw event pair recorded around the same launch.
TEST_F(Gpu, DeviceDurationMatchesRawEventPair) {
    Stream stream;
    CUDA_ASSERT(stream.made);
    Event raw_start, raw_end;
    CUDA_ASSERT(raw_start.made);
    CUDA_ASSERT(raw_end.made);
    // Warm up: the first launch loads the module, the first scope makes the backend and an anchor.
    spin(stream.s, 1000);
    { auto r = sp::ProfileManager::profile_region("warm_up", stream.s); }
    CUDA_ASSERT(cudaStreamSynchronize(stream.s));

    for (const std::int64_t length : {20'000LL, 200'000LL, 2'000'000LL, 20'000'000LL}) {
        SCOPED_TRACE("kernel length " + std::to_string(length) + " ns");
        const std::string name = "spin_" + std::to_string(length);
        // A gate kernel keeps the GPU busy while the five commands are enqueued, so the GPU runs
        // them back to back and host-side gaps between the calls do not show up in either pair.
#if SCOPE_PROFILER_TEST_ON_SIM
        // On the simulator, a gate that holds the stream until all five are enqueued, however
        // slow this host is (a loaded CI machine can take longer than any gate kernel).
        StreamGate gate(stream.s);
        CUDA_ASSERT(gate.made());
#else
        spin(stream.s, 2'000'000);
#endif
        CUDA_ASSERT(cudaEventRecord(raw_start.e, stream.s));
        {
            auto r = sp::ProfileManager::profile_region(name, stream.s);
            spin(stream.s, length);
        }
        CUDA_ASSERT(cudaEventRecord(raw_end.e, stream.s));
        CUDA_ASSERT(cudaGetLastError());
#if SCOPE_PROFILER_TEST_ON_SIM
        gate.release();
#endif

        const sp::Region* region = sp::ProfileManager::get_region(name);
        ASSERT_NE(region, nullptr);
        const std::vector<std::int64_t> device = region->get_device_durations(true);
        ASSERT_EQ(device.size(), 1u);
        CUDA_ASSERT(cudaEventSynchronize(raw_end.e));
        float raw_ms = 0.0f;
        CUDA_ASSERT(cudaEventElapsedTime(&raw_ms, raw_start.e, raw_end.e));
        const auto raw_ns = static_cast<std::int64_t>(static_cast<double>(raw_ms) * 1e6);
        const std::int64_t tolerance = std::max<std::int64_t>(1000, raw_ns / 100);
        EXPECT_NEAR(static_cast<double>(device[0]), static_cast<double>(raw_ns), static_cast<double>(tolerance))
            << "scope " << device[0] << " ns, raw pair " << raw_ns << " ns";
        EXPECT_GE(device[0], length - 1000) << "the kernel spins for at least the requested time";
#if SCOPE_PROFILER_TEST_ON_SIM
        EXPECT_NEAR(static_cast<double>(device[0]), static_cast<double>(length), 1000.0)
            << "the simulated kernel's duration, within 1 us";
#endif
        EXPECT_EQ(region->num_device_calls(), 1u);
        EXPECT_EQ(region->get_device_intervals().host_fallback, std::vector<std::uint8_t>{0});
    }
}

// Host and device intervals share one timeline: the device interval of a synchronous launch lies
// inside the host interval of the enclosing host region.
TEST_F(Gpu, DeviceIntervalLiesInsideEnclosingHostInterval) {
    Stream stream;
    CUDA_ASSERT(stream.made);
    spin(stream.s, 1000);  // module loading, outside the measurement
    { auto r = sp::ProfileManager::profile_region("warm_up", stream.s); }
    CUDA_ASSERT(cudaStreamSynchronize(stream.s));

    constexpr std::int64_t kSlackNs = 5000;  // the anchor's placement
    const std::int64_t lengths[] = {10'000, 100'000, 1'000'000, 5'000'000};
    for (const std::int64_t length : lengths) {
        for (int repeat = 0; repeat < 5; ++repeat) {
            auto host = sp::ProfileManager::profile_region("outer");
            {
                auto device = sp::ProfileManager::profile_region("inner", stream.s);
                spin(stream.s, length);
            }
            CUDA_ASSERT(cudaStreamSynchronize(stream.s));
        }
    }
    const sp::HostIntervals host = sp::ProfileManager::get_region("outer")->get_intervals();
    const sp::DeviceIntervals device = sp::ProfileManager::get_region("inner")->get_device_intervals(true);
    ASSERT_EQ(host.start_times.size(), 20u);
    ASSERT_EQ(device.start_times.size(), 20u);
    // Both in call order (one thread; device intervals come in device start order).
    for (std::size_t i = 0; i < host.start_times.size(); ++i) {
        SCOPED_TRACE("call " + std::to_string(i));
        EXPECT_EQ(device.host_fallback[i], 0);
        EXPECT_GE(device.start_times[i], host.start_times[i] - kSlackNs)
            << "device start is " << (host.start_times[i] - device.start_times[i])
            << " ns before the host region's start";
        EXPECT_LE(device.end_times[i], host.end_times[i] + kSlackNs)
            << "device end is " << (device.end_times[i] - host.end_times[i])
            << " ns after the host region's end";
        EXPECT_LT(device.start_times[i], device.end_times[i]);
    }
}

// Exiting a device scope does not wait for its kernel, and a query without `wait` leaves a
// still-running scope out without waiting either.
TEST_F(Gpu, NoBlockingOnTheHotPath) {
    Stream stream;
    CUDA_ASSERT(stream.made);
    Event after;
    CUDA_ASSERT(after.made);
    spin(stream.s, 1000);
    { auto r = sp::ProfileManager::profile_region("warm_up", stream.s); }
    CUDA_ASSERT(cudaStreamSynchronize(stream.s));

#if SCOPE_PROFILER_TEST_ON_SIM
    constexpr std::int64_t kKernelNs = 300'000'000;  // the simulator costs no GPU time: be safe
#else
    constexpr std::int64_t kKernelNs = 50'000'000;
#endif
    std::int64_t exit_began = 0;
    {
        auto r = sp::ProfileManager::profile_region("long", stream.s);
        spin(stream.s, kKernelNs);
        exit_began = host_now_ns();
    }
    const std::int64_t exit_ns = host_now_ns() - exit_began;
    EXPECT_LT(exit_ns, 5'000'000) << "the scope's exit took " << exit_ns << " ns: it waited for the kernel";

    CUDA_ASSERT(cudaEventRecord(after.e, stream.s));
    const sp::Region* region = sp::ProfileManager::get_region("long");
    ASSERT_NE(region, nullptr);
    const std::int64_t query_began = host_now_ns();
    EXPECT_TRUE(region->get_device_durations(false).empty());
    const std::int64_t query_ns = host_now_ns() - query_began;
    EXPECT_EQ(cudaEventQuery(after.e), cudaErrorNotReady)
        << "the kernel finished before the checks: the scope or the query waited for it";
    (void)cudaGetLastError();
    EXPECT_LT(query_ns, 5'000'000) << "get_device_durations(false) took " << query_ns << " ns";
    EXPECT_EQ(region->num_device_calls(), 1u);
    EXPECT_EQ(region->num_calls(), 1u);

    const std::vector<std::int64_t> done = region->get_device_durations(true);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_GE(done[0], kKernelNs - 1000);
    EXPECT_LT(done[0], kKernelNs + 5'000'000);
}

// 4 threads, each on its own stream, 1000 device scopes each.
TEST_F(Gpu, ManyStreamsAndThreads) {
    constexpr int kThreads = 4;
    constexpr int kScopes = 1000;
    sp::Region& region = sp::ProfileManager::region("tiny");
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            cudaStream_t stream = nullptr;
            if (cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess) {
                ++failures;
                return;
            }
            for (int i = 0; i < kScopes; ++i) {
                auto r = sp::ProfileManager::profile_region(region, stream);
                spin(stream, 1000);
            }
            if (cudaGetLastError() != cudaSuccess) ++failures;
            if (cudaStreamSynchronize(stream) != cudaSuccess) ++failures;
            if (cudaStreamDestroy(stream) != cudaSuccess) ++failures;
        });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_EQ(failures.load(), 0) << "a CUDA call failed in a worker thread";

    EXPECT_EQ(region.num_calls(), static_cast<std::uint64_t>(kThreads * kScopes));
    EXPECT_EQ(region.num_device_calls(), static_cast<std::uint64_t>(kThreads * kScopes));
    const sp::DeviceIntervals iv = region.get_device_intervals(true);
    ASSERT_EQ(iv.start_times.size(), static_cast<std::size_t>(kThreads * kScopes));
    std::vector<std::int64_t> streams = iv.stream_ids;
    std::sort(streams.begin(), streams.end());
    EXPECT_EQ(std::unique(streams.begin(), streams.end()) - streams.begin(), kThreads) << "one id per stream";
    int non_positive = 0;
    for (std::size_t i = 0; i < iv.start_times.size(); ++i) {
        if (iv.end_times[i] - iv.start_times[i] <= 0) ++non_positive;
        EXPECT_EQ(iv.host_fallback[i], 0);
    }
    EXPECT_EQ(non_positive, 0);
    EXPECT_EQ(region.get_device_durations(true).size(), static_cast<std::size_t>(kThreads * kScopes));
}

// The legacy default stream (0) and cudaStreamPerThread, from the main thread and from others.
TEST_F(Gpu, LegacyDefaultStreamAndPerThreadStream) {
    constexpr int kScopes = 200;
    for (int i = 0; i < kScopes; ++i) {
        auto r = sp::ProfileManager::profile_region("legacy", static_cast<cudaStream_t>(0));
        spin(0, 1000);
    }
    auto per_thread = [] {
        for (int i = 0; i < kScopes; ++i) {
            auto r = sp::ProfileManager::profile_region("per_thread", cudaStreamPerThread);
            spin(cudaStreamPerThread, 1000);
        }
        (void)cudaStreamSynchronize(cudaStreamPerThread);
    };
    per_thread();
    std::thread other(per_thread);
    other.join();
    CUDA_ASSERT(cudaGetLastError());
    CUDA_ASSERT(cudaDeviceSynchronize());

    for (const auto& [name, expected] : {std::pair{"legacy", kScopes}, std::pair{"per_thread", 2 * kScopes}}) {
        SCOPED_TRACE(name);
        const sp::Region* region = sp::ProfileManager::get_region(name);
        ASSERT_NE(region, nullptr);
        EXPECT_EQ(region->num_device_calls(), static_cast<std::uint64_t>(expected));
        const sp::DeviceIntervals iv = region->get_device_intervals(true);
        ASSERT_EQ(iv.start_times.size(), static_cast<std::size_t>(expected));
        for (std::size_t i = 0; i < iv.start_times.size(); ++i) {
            EXPECT_GT(iv.end_times[i], iv.start_times[i]);
            EXPECT_EQ(iv.host_fallback[i], 0);
        }
    }
}

// A device scope on a stream being captured into a graph emits NVTX only: the capture succeeds,
// the call counts as a call but not as a device call, and the graph runs.
TEST_F(Gpu, GraphCaptureIsNotBroken) {
    Stream stream;
    CUDA_ASSERT(stream.made);
    int* flag = nullptr;
    CUDA_ASSERT(cudaMalloc(&flag, sizeof(int)));
    CUDA_ASSERT(cudaMemset(flag, 0, sizeof(int)));
    CUDA_ASSERT(cudaDeviceSynchronize());

    cudaGraph_t graph = nullptr;
    CUDA_ASSERT(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
    {
        auto r = sp::ProfileManager::profile_region("captured", stream.s);
        spin(stream.s, 10'000, flag);
    }
    CUDA_EXPECT(cudaGetLastError());
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    CUDA_EXPECT(cudaStreamIsCapturing(stream.s, &status));
    EXPECT_EQ(status, cudaStreamCaptureStatusActive) << "the capture was invalidated inside the scope";
    CUDA_ASSERT(cudaStreamEndCapture(stream.s, &graph));
    ASSERT_NE(graph, nullptr);
    std::size_t nodes = 0;
    CUDA_EXPECT(cudaGraphGetNodes(graph, nullptr, &nodes));
    EXPECT_EQ(nodes, 1u) << "only the kernel: the scope added nothing to the graph";

    cudaGraphExec_t exec = nullptr;
    CUDA_ASSERT(cudaGraphInstantiate(&exec, graph, 0));
#if SCOPE_PROFILER_TEST_ON_SIM
    // No kernel body runs on the simulator: the graph's kernel shows as its captured duration.
    Event before, after;
    CUDA_ASSERT(before.made);
    CUDA_ASSERT(after.made);
    CUDA_ASSERT(cudaEventRecord(before.e, stream.s));
    CUDA_ASSERT(cudaGraphLaunch(exec, stream.s));
    CUDA_ASSERT(cudaEventRecord(after.e, stream.s));
    CUDA_ASSERT(cudaStreamSynchronize(stream.s));
    float graph_ms = 0.0f;
    CUDA_ASSERT(cudaEventElapsedTime(&graph_ms, before.e, after.e));
    EXPECT_GE(static_cast<double>(graph_ms) * 1e6, 10'000 - 1) << "the graph's kernel ran";
#else
    CUDA_ASSERT(cudaGraphLaunch(exec, stream.s));
    CUDA_ASSERT(cudaStreamSynchronize(stream.s));
    int host_flag = 0;
    CUDA_ASSERT(cudaMemcpy(&host_flag, flag, sizeof(int), cudaMemcpyDeviceToHost));
    EXPECT_EQ(host_flag, 1) << "the graph's kernel ran";
#endif

    const sp::Region* region = sp::ProfileManager::get_region("captured");
    ASSERT_NE(region, nullptr);
    EXPECT_EQ(region->num_calls(), 1u);
    EXPECT_EQ(region->num_device_calls(), 0u);
    EXPECT_TRUE(region->get_device_durations(true).empty());

    CUDA_EXPECT(cudaGraphExecDestroy(exec));
    CUDA_EXPECT(cudaGraphDestroy(graph));
    CUDA_EXPECT(cudaFree(flag));
}

// The pool grows instead of blocking: 10,000 scopes in flight behind a long kernel, none resolved
// while it runs, all resolved afterwards.
TEST_F(Gpu, PoolGrowsWithThousandsInFlight) {
    constexpr int kScopes = 10000;
    Stream stream;
    CUDA_ASSERT(stream.made);
    Event blocker_done;
    CUDA_ASSERT(blocker_done.made);
    spin(stream.s, 1000);
    CUDA_ASSERT(cudaStreamSynchronize(stream.s));

    sp::Region& region = sp::ProfileManager::region("queued");
    spin(stream.s, 1'000'000'000);  // 1 s
    CUDA_ASSERT(cudaEventRecord(blocker_done.e, stream.s));
    const std::int64_t began = host_now_ns();
    for (int i = 0; i < kScopes; ++i) {
        auto r = sp::ProfileManager::profile_region(region, stream.s);
    }
    const std::int64_t recording_ns = host_now_ns() - began;
    const std::size_t resolved_early = region.get_device_durations(false).size();
    const cudaError_t blocker = cudaEventQuery(blocker_done.e);
    (void)cudaGetLastError();
    ASSERT_EQ(blocker, cudaErrorNotReady)
        << "the 1 s kernel ended before the " << kScopes << " scopes were recorded (" << recording_ns / 1000
        << " us): recording blocked";
    EXPECT_EQ(resolved_early, 0u) << "scopes queued behind a running kernel cannot have completed";
    EXPECT_EQ(region.num_device_calls(), static_cast<std::uint64_t>(kScopes));

    const sp::DeviceIntervals iv = region.get_device_intervals(true);
    ASSERT_EQ(iv.start_times.size(), static_cast<std::size_t>(kScopes));
    int bad = 0;
    for (std::size_t i = 0; i < iv.start_times.size(); ++i) {
        if (iv.end_times[i] < iv.start_times[i] || iv.host_fallback[i] != 0) ++bad;
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(cudaEventQuery(blocker_done.e), cudaSuccess);
    std::printf("[ info ] recorded %d device scopes in %.3f ms while the stream was busy\n", kScopes,
                static_cast<double>(recording_ns) / 1e6);
}

}  // namespace
