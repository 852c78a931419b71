// The simulated CUDA runtime on its own: device model, timing, errors, fault injection,
// capture and graphs. Exact timings use a gate (a host function that holds its stream until the
// test opens it), so what follows it is timed back to back whatever the machine's load. (Over
// 500 lines: one suite for the simulator's whole API surface, sharing its gate and fixtures.)
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <scope_profiler/cuda_sim.hpp>

#include "stream_gate.hpp"

namespace sim = scope_profiler::cuda_sim;
using namespace std::chrono_literals;

namespace {

void fake_kernel() {}  // stands in for a kernel's host stub: launches only need an address
const void* const kKernel = reinterpret_cast<const void*>(&fake_kernel);

cudaError_t launch(cudaStream_t s, std::int64_t ns) {
    sim::set_next_kernel_ns(ns);
    return cudaLaunchKernel(kKernel, dim3(1), dim3(32), nullptr, 0, s);
}

constexpr std::int64_t kMs = 1'000'000;

// The stream gate of the other cudasim tests, checked: every test below counts on the stream
// being held.
struct Gate : StreamGate {
    explicit Gate(cudaStream_t stream) : StreamGate(stream) { EXPECT_EQ(made(), cudaSuccess); }
    void open() { release(); }
};

struct Events {
    cudaEvent_t a = nullptr, b = nullptr;
    Events() {
        EXPECT_EQ(cudaEventCreate(&a), cudaSuccess);
        EXPECT_EQ(cudaEventCreate(&b), cudaSuccess);
    }
    ~Events() {
        cudaEventDestroy(a);
        cudaEventDestroy(b);
    }
    float elapsed() const {
        EXPECT_EQ(cudaEventSynchronize(b), cudaSuccess);
        float ms = -1;
        EXPECT_EQ(cudaEventElapsedTime(&ms, a, b), cudaSuccess);
        return ms;
    }
};

class Sim : public ::testing::Test {
protected:
    void SetUp() override {
        sim::reset();
        ASSERT_EQ(cudaStreamCreate(&s_), cudaSuccess);
        ASSERT_EQ(cudaStreamCreateWithFlags(&ns_, cudaStreamNonBlocking), cudaSuccess);
    }
    void TearDown() override {
        cudaStreamDestroy(s_);
        cudaStreamDestroy(ns_);
        sim::reset();
    }
    cudaStream_t s_ = nullptr;   // blocking
    cudaStream_t ns_ = nullptr;  // non-blocking
};

// ---- device ----

TEST_F(Sim, DeviceCountIsOne) {
    int n = 0;
    ASSERT_EQ(cudaGetDeviceCount(&n), cudaSuccess);
    EXPECT_EQ(n, 1);
}

TEST_F(Sim, PropertiesDescribeTheSimulatedGpu) {
    cudaDeviceProp p{};
    ASSERT_EQ(cudaGetDeviceProperties(&p, 0), cudaSuccess);
    EXPECT_STREQ(p.name, "scope-profiler simulated GPU");
    EXPECT_EQ(p.major, 9);
    EXPECT_EQ(p.minor, 0);
    EXPECT_EQ(p.multiProcessorCount, 132);
    EXPECT_EQ(p.totalGlobalMem, std::size_t{80} << 30);
    EXPECT_EQ(p.warpSize, 32);
    EXPECT_EQ(p.maxThreadsPerBlock, 1024);
    EXPECT_EQ(p.sharedMemPerBlock, 48u * 1024);
}

TEST_F(Sim, AttributesAgreeWithProperties) {
    cudaDeviceProp p{};
    ASSERT_EQ(cudaGetDeviceProperties(&p, 0), cudaSuccess);
    int v = 0;
    ASSERT_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, 0), cudaSuccess);
    EXPECT_EQ(v, p.multiProcessorCount);
    ASSERT_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMajor, 0), cudaSuccess);
    EXPECT_EQ(v, p.major);
    ASSERT_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0), cudaSuccess);
    EXPECT_EQ(static_cast<std::size_t>(v), p.sharedMemPerBlockOptin);
    ASSERT_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrL2CacheSize, 0), cudaSuccess);
    EXPECT_GT(v, 0);
}

TEST_F(Sim, UnknownAttributeIsZero) {
    int v = 7;
    EXPECT_EQ(cudaDeviceGetAttribute(&v, static_cast<cudaDeviceAttr>(100000), 0), cudaSuccess);
    EXPECT_EQ(v, 0);
}

TEST_F(Sim, VersionsAreTheHeadersRuntimeVersion) {
    int rt = 0, drv = 0;
    ASSERT_EQ(cudaRuntimeGetVersion(&rt), cudaSuccess);
    ASSERT_EQ(cudaDriverGetVersion(&drv), cudaSuccess);
    EXPECT_EQ(rt, CUDART_VERSION);
    EXPECT_EQ(drv, CUDART_VERSION);
}

TEST_F(Sim, OnlyDeviceZeroCanBeSelected) {
    EXPECT_EQ(cudaSetDevice(0), cudaSuccess);
    EXPECT_EQ(cudaSetDevice(1), cudaErrorInvalidDevice);
    int d = -1;
    ASSERT_EQ(cudaGetDevice(&d), cudaSuccess);
    EXPECT_EQ(d, 0);
}

TEST_F(Sim, FunctionAttributesAndOccupancyArePlausible) {
    cudaFuncAttributes a{};
    ASSERT_EQ(cudaFuncGetAttributes(&a, kKernel), cudaSuccess);
    EXPECT_EQ(a.maxThreadsPerBlock, 1024);
    EXPECT_EQ(a.ptxVersion, 90);
    int blocks = 0;
    ASSERT_EQ(cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(&blocks, kKernel, 256, 0, 0),
              cudaSuccess);
    EXPECT_EQ(blocks, 8);
}

// ---- errors ----

TEST_F(Sim, ErrorNamesAndStrings) {
    EXPECT_STREQ(cudaGetErrorName(cudaErrorInvalidValue), "cudaErrorInvalidValue");
    EXPECT_STREQ(cudaGetErrorString(cudaErrorInvalidValue), "invalid argument");
    EXPECT_STREQ(cudaGetErrorName(cudaErrorStreamCaptureImplicit),
                 "cudaErrorStreamCaptureImplicit");
    EXPECT_STREQ(cudaGetErrorString(static_cast<cudaError_t>(12345)), "unrecognized error code");
}

TEST_F(Sim, GetLastErrorReturnsAndClears) {
    EXPECT_EQ(cudaSetDevice(3), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST_F(Sim, PeekAtLastErrorDoesNotClear) {
    EXPECT_EQ(cudaSetDevice(3), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidDevice);
}

TEST_F(Sim, LastErrorIsPerThread) {
    EXPECT_EQ(cudaSetDevice(3), cudaErrorInvalidDevice);
    cudaError_t other = cudaErrorUnknown;
    std::thread([&] { other = cudaGetLastError(); }).join();
    EXPECT_EQ(other, cudaSuccess);
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
}

TEST_F(Sim, NullOutPointerIsInvalidValue) {
    EXPECT_EQ(cudaGetDeviceCount(nullptr), cudaErrorInvalidValue);
    EXPECT_EQ(cudaEventCreate(nullptr), cudaErrorInvalidValue);
    EXPECT_EQ(cudaStreamCreate(nullptr), cudaErrorInvalidValue);
}

// ---- fault injection ----

TEST_F(Sim, FailCallFailsTheNthCallOnly) {
    sim::fail_call("cudaGetDevice", 2, cudaErrorLaunchFailure);
    int d = 0;
    EXPECT_EQ(cudaGetDevice(&d), cudaSuccess);
    EXPECT_EQ(cudaGetDevice(&d), cudaErrorLaunchFailure);
    EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
    EXPECT_EQ(cudaGetDevice(&d), cudaSuccess);
}

TEST_F(Sim, FailedCallHasNoEffect) {
    Events ev;
    sim::fail_call("cudaEventRecord", 1, cudaErrorLaunchFailure);
    EXPECT_EQ(cudaEventRecord(ev.a, s_), cudaErrorLaunchFailure);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    ASSERT_EQ(cudaEventSynchronize(ev.b), cudaSuccess);
    float ms = 0;
    EXPECT_EQ(cudaEventElapsedTime(&ms, ev.a, ev.b), cudaErrorInvalidResourceHandle);
}

TEST_F(Sim, SeveralFaultsCoexist) {
    sim::fail_call("cudaGetDevice", 1, cudaErrorLaunchFailure);
    sim::fail_call("cudaSetDevice", 1, cudaErrorIllegalAddress);
    sim::fail_call("cudaGetDevice", 2, cudaErrorNotSupported);
    int d = 0;
    EXPECT_EQ(cudaSetDevice(0), cudaErrorIllegalAddress);
    EXPECT_EQ(cudaGetDevice(&d), cudaErrorLaunchFailure);
    EXPECT_EQ(cudaGetDevice(&d), cudaErrorNotSupported);
    EXPECT_EQ(cudaGetDevice(&d), cudaSuccess);
}

TEST_F(Sim, StickyErrorFailsEveryCallAndNeverClears) {
    sim::set_sticky_error(cudaErrorIllegalAddress);
    int d = 0;
    EXPECT_EQ(cudaGetDevice(&d), cudaErrorIllegalAddress);
    EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);
    EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);
    EXPECT_EQ(cudaPeekAtLastError(), cudaErrorIllegalAddress);
    sim::set_sticky_error(0);
    EXPECT_EQ(cudaGetDevice(&d), cudaSuccess);
}

TEST_F(Sim, NoDeviceReportsZeroDevicesAndFailsEveryCall) {
    sim::set_no_device(cudaErrorNoDevice);
    int n = 5;
    EXPECT_EQ(cudaGetDeviceCount(&n), cudaErrorNoDevice);
    EXPECT_EQ(n, 0);
    cudaEvent_t e = nullptr;
    EXPECT_EQ(cudaEventCreate(&e), cudaErrorNoDevice);
    sim::set_no_device(0);
    EXPECT_EQ(cudaGetDeviceCount(&n), cudaSuccess);
    EXPECT_EQ(n, 1);
}

TEST_F(Sim, CallCountsIncludeFailedCalls) {
    int d = 0;
    cudaGetDevice(&d);
    sim::fail_call("cudaGetDevice", 1, cudaErrorUnknown);
    cudaGetDevice(&d);
    EXPECT_EQ(sim::call_count("cudaGetDevice"), 2u);
    EXPECT_EQ(sim::call_count("cudaMalloc"), 0u);
}

TEST_F(Sim, CallsAreSortedByName) {
    sim::reset();  // forget the fixture's stream creations
    int d = 0;
    cudaSetDevice(0);
    cudaGetDevice(&d);
    const auto all = sim::calls();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].first, "cudaGetDevice");
    EXPECT_EQ(all[1].first, "cudaSetDevice");
}

TEST_F(Sim, ResetClearsCountsFaultsAndQueuedDurations) {
    int d = 0;
    cudaGetDevice(&d);
    sim::fail_call("cudaGetDevice", 1, cudaErrorUnknown);
    sim::set_next_kernel_ns(123);
    sim::set_kernel_ns(5);
    sim::reset();
    EXPECT_EQ(sim::call_count("cudaGetDevice"), 0u);
    EXPECT_EQ(cudaGetDevice(&d), cudaSuccess);
    if (std::getenv("SCOPE_PROFILER_SIM_KERNEL_NS") == nullptr) EXPECT_EQ(sim::kernel_ns(), 10'000);
}

TEST_F(Sim, GarbageEnvironmentDurationWarnsAndUsesTheDefault) {
    ::setenv("SCOPE_PROFILER_SIM_KERNEL_NS", "soon", 1);
    testing::internal::CaptureStderr();
    sim::reset();
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("SCOPE_PROFILER_SIM_KERNEL_NS"), std::string::npos);
    EXPECT_EQ(sim::kernel_ns(), 10'000);
    ::setenv("SCOPE_PROFILER_SIM_KERNEL_NS", "2500", 1);
    sim::reset();
    EXPECT_EQ(sim::kernel_ns(), 2'500);
    ::unsetenv("SCOPE_PROFILER_SIM_KERNEL_NS");
}

// ---- kernels and timing ----

TEST_F(Sim, LaunchOccupiesItsStreamForTheQueuedDuration) {
    Events ev;
    Gate gate(s_);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    ASSERT_EQ(launch(s_, 25 * kMs), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    gate.open();
    EXPECT_EQ(ev.elapsed(), 25.0f);
}

TEST_F(Sim, QueuedDurationsAreTakenInOrder) {
    Events ev;
    Gate gate(s_);
    sim::set_next_kernel_ns(3 * kMs);
    sim::set_next_kernel_ns(4 * kMs);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    ASSERT_EQ(cudaLaunchKernel(kKernel, dim3(1), dim3(1), nullptr, 0, s_), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    gate.open();
    EXPECT_EQ(ev.elapsed(), 3.0f);
    Gate gate2(s_);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    ASSERT_EQ(cudaLaunchKernel(kKernel, dim3(1), dim3(1), nullptr, 0, s_), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    gate2.open();
    EXPECT_EQ(ev.elapsed(), 4.0f);
}

TEST_F(Sim, DefaultDurationAppliesWithoutAQueuedOne) {
    sim::set_kernel_ns(2 * kMs);
    Events ev;
    Gate gate(s_);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    ASSERT_EQ(cudaLaunchKernel(kKernel, dim3(1), dim3(1), nullptr, 0, s_), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    gate.open();
    EXPECT_EQ(ev.elapsed(), 2.0f);
}

TEST_F(Sim, QueuedDurationsBelongToTheirThread) {
    sim::set_next_kernel_ns(7 * kMs);
    Events ev;
    std::thread([&] {
        Gate gate(s_);
        cudaEventRecord(ev.a, s_);
        cudaLaunchKernel(kKernel, dim3(1), dim3(1), nullptr, 0, s_);
        cudaEventRecord(ev.b, s_);
    }).join();
    EXPECT_EQ(ev.elapsed(), static_cast<float>(sim::kernel_ns()) / 1e6f);
}

TEST_F(Sim, LaunchKernelControlTakesItsOwnDurationAndCountsAsALaunch) {
    Events ev;
    Gate gate(s_);
    sim::set_next_kernel_ns(99 * kMs);  // not taken by launch_kernel
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    ASSERT_EQ(sim::launch_kernel(s_, 4 * kMs), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    gate.open();
    EXPECT_EQ(ev.elapsed(), 4.0f);
    EXPECT_EQ(sim::call_count("cudaLaunchKernel"), 1u);
}

TEST_F(Sim, LaunchReturnsBeforeALongKernelEnds) {
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(launch(s_, 200 * kMs), cudaSuccess);
    EXPECT_EQ(cudaStreamQuery(s_), cudaErrorNotReady);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 200ms);
}

TEST_F(Sim, StreamSynchronizeWaitsForTheKernel) {
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(launch(s_, 30 * kMs), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(s_), cudaSuccess);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms);
    EXPECT_EQ(cudaStreamQuery(s_), cudaSuccess);
}

TEST_F(Sim, ZeroGridIsAnInvalidConfiguration) {
    EXPECT_EQ(cudaLaunchKernel(kKernel, dim3(0), dim3(32), nullptr, 0, s_),
              cudaErrorInvalidConfiguration);
    EXPECT_EQ(cudaLaunchKernel(kKernel, dim3(1), dim3(2048), nullptr, 0, s_),
              cudaErrorInvalidConfiguration);
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
}

// ---- events ----

TEST_F(Sim, EventIsNotReadyUntilItsStreamReachesIt) {
    Events ev;
    Gate gate(s_);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    EXPECT_EQ(cudaEventQuery(ev.a), cudaErrorNotReady);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // not ready is no error
    gate.open();
    ASSERT_EQ(cudaEventSynchronize(ev.a), cudaSuccess);
    EXPECT_EQ(cudaEventQuery(ev.a), cudaSuccess);
}

TEST_F(Sim, ElapsedTimeIsNotReadyBeforeCompletion) {
    Events ev;
    Gate gate(s_);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    float ms = 0;
    EXPECT_EQ(cudaEventElapsedTime(&ms, ev.a, ev.b), cudaErrorNotReady);
}

TEST_F(Sim, ElapsedTimeOfANeverRecordedEventIsAnInvalidHandle) {
    Events ev;
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    ASSERT_EQ(cudaEventSynchronize(ev.b), cudaSuccess);
    float ms = 0;
    EXPECT_EQ(cudaEventElapsedTime(&ms, ev.a, ev.b), cudaErrorInvalidResourceHandle);
}

TEST_F(Sim, ElapsedTimeWithoutTimingIsAnInvalidHandle) {
    cudaEvent_t a = nullptr, b = nullptr;
    ASSERT_EQ(cudaEventCreateWithFlags(&a, cudaEventDisableTiming), cudaSuccess);
    ASSERT_EQ(cudaEventCreate(&b), cudaSuccess);
    cudaEventRecord(a, s_);
    cudaEventRecord(b, s_);
    cudaEventSynchronize(b);
    float ms = 0;
    EXPECT_EQ(cudaEventElapsedTime(&ms, a, b), cudaErrorInvalidResourceHandle);
    cudaEventDestroy(a);
    cudaEventDestroy(b);
}

TEST_F(Sim, ReRecordingRestampsTheEvent) {
    Events ev;
    Gate gate(s_);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    ASSERT_EQ(launch(s_, 6 * kMs), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    gate.open();
    EXPECT_EQ(ev.elapsed(), 6.0f);
}

TEST_F(Sim, DestroyedEventIsAnInvalidHandle) {
    cudaEvent_t e = nullptr;
    ASSERT_EQ(cudaEventCreate(&e), cudaSuccess);
    ASSERT_EQ(cudaEventDestroy(e), cudaSuccess);
    EXPECT_EQ(cudaEventDestroy(e), cudaErrorInvalidResourceHandle);
}

// ---- streams ----

TEST_F(Sim, StreamIdsAreUniqueAndStable) {
    unsigned long long legacy = 0, per_thread = 0, a = 0, b = 0, again = 0, other = 0;
    ASSERT_EQ(cudaStreamGetId(nullptr, &legacy), cudaSuccess);
    ASSERT_EQ(cudaStreamGetId(cudaStreamPerThread, &per_thread), cudaSuccess);
    ASSERT_EQ(cudaStreamGetId(s_, &a), cudaSuccess);
    ASSERT_EQ(cudaStreamGetId(ns_, &b), cudaSuccess);
    ASSERT_EQ(cudaStreamGetId(cudaStreamLegacy, &again), cudaSuccess);
    std::thread([&] { cudaStreamGetId(cudaStreamPerThread, &other); }).join();
    EXPECT_EQ(legacy, again);
    const std::vector<unsigned long long> ids{legacy, per_thread, a, b, other};
    for (std::size_t i = 0; i < ids.size(); ++i) {
        for (std::size_t j = i + 1; j < ids.size(); ++j) EXPECT_NE(ids[i], ids[j]);
    }
}

TEST_F(Sim, PriorityRangeIsLeastZeroGreatestMinusFive) {
    int least = 1, greatest = 1;
    ASSERT_EQ(cudaDeviceGetStreamPriorityRange(&least, &greatest), cudaSuccess);
    EXPECT_EQ(least, 0);
    EXPECT_EQ(greatest, -5);
}

TEST_F(Sim, PriorityIsClampedIntoTheRange) {
    cudaStream_t hi = nullptr, lo = nullptr;
    ASSERT_EQ(cudaStreamCreateWithPriority(&hi, cudaStreamDefault, -100), cudaSuccess);
    ASSERT_EQ(cudaStreamCreateWithPriority(&lo, cudaStreamDefault, 7), cudaSuccess);
    int p = 1;
    ASSERT_EQ(cudaStreamGetPriority(hi, &p), cudaSuccess);
    EXPECT_EQ(p, -5);
    ASSERT_EQ(cudaStreamGetPriority(lo, &p), cudaSuccess);
    EXPECT_EQ(p, 0);
    cudaStreamDestroy(hi);
    cudaStreamDestroy(lo);
}

TEST_F(Sim, StreamFlagsAreReported) {
    unsigned flags = 99;
    ASSERT_EQ(cudaStreamGetFlags(ns_, &flags), cudaSuccess);
    EXPECT_EQ(flags, static_cast<unsigned>(cudaStreamNonBlocking));
    ASSERT_EQ(cudaStreamGetFlags(s_, &flags), cudaSuccess);
    EXPECT_EQ(flags, static_cast<unsigned>(cudaStreamDefault));
}

TEST_F(Sim, DestroyedStreamIsAnInvalidHandle) {
    cudaStream_t t = nullptr;
    ASSERT_EQ(cudaStreamCreate(&t), cudaSuccess);
    ASSERT_EQ(cudaStreamDestroy(t), cudaSuccess);
    EXPECT_EQ(launch(t, 1000), cudaErrorInvalidResourceHandle);
    EXPECT_EQ(cudaStreamSynchronize(t), cudaErrorInvalidResourceHandle);
    EXPECT_EQ(cudaStreamDestroy(t), cudaErrorInvalidResourceHandle);
}

TEST_F(Sim, WorkOnADestroyedStreamStillCompletes) {
    cudaStream_t t = nullptr;
    ASSERT_EQ(cudaStreamCreate(&t), cudaSuccess);
    Events ev;
    auto gate = std::make_unique<Gate>(t);
    ASSERT_EQ(cudaEventRecord(ev.a, t), cudaSuccess);
    ASSERT_EQ(launch(t, 5 * kMs), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, t), cudaSuccess);
    ASSERT_EQ(cudaStreamDestroy(t), cudaSuccess);
    gate->open();
    EXPECT_EQ(ev.elapsed(), 5.0f);
}

TEST_F(Sim, StreamWaitEventOrdersAnotherStream) {
    Events ev;
    Gate gate(ns_);
    ASSERT_EQ(cudaEventRecord(ev.a, ns_), cudaSuccess);
    ASSERT_EQ(launch(ns_, 8 * kMs), cudaSuccess);
    cudaEvent_t done = nullptr;
    ASSERT_EQ(cudaEventCreate(&done), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(done, ns_), cudaSuccess);
    cudaStream_t other = nullptr;
    ASSERT_EQ(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking), cudaSuccess);
    ASSERT_EQ(cudaStreamWaitEvent(other, done, 0), cudaSuccess);  // does not block the host
    ASSERT_EQ(launch(other, 2 * kMs), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, other), cudaSuccess);
    EXPECT_EQ(cudaEventQuery(ev.b), cudaErrorNotReady);
    gate.open();
    EXPECT_EQ(ev.elapsed(), 10.0f);
    cudaEventDestroy(done);
    cudaStreamDestroy(other);
}

TEST_F(Sim, LegacyStreamWaitsForBlockingStreams) {
    Events ev;
    Gate gate(s_);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    ASSERT_EQ(launch(s_, 4 * kMs), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, nullptr), cudaSuccess);
    EXPECT_EQ(cudaEventQuery(ev.b), cudaErrorNotReady);
    gate.open();
    EXPECT_EQ(ev.elapsed(), 4.0f);
}

TEST_F(Sim, BlockingStreamWaitsForTheLegacyStream) {
    Events ev;
    Gate gate(nullptr);
    ASSERT_EQ(cudaEventRecord(ev.a, nullptr), cudaSuccess);
    ASSERT_EQ(launch(nullptr, 3 * kMs), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    EXPECT_EQ(cudaEventQuery(ev.b), cudaErrorNotReady);
    gate.open();
    EXPECT_EQ(ev.elapsed(), 3.0f);
}

TEST_F(Sim, NonBlockingStreamIgnoresTheLegacyStream) {
    Events ev;
    Gate gate(nullptr);
    ASSERT_EQ(cudaEventRecord(ev.a, ns_), cudaSuccess);
    ASSERT_EQ(cudaEventSynchronize(ev.a), cudaSuccess);  // returns with the legacy stream held
    EXPECT_EQ(cudaEventQuery(ev.a), cudaSuccess);
}

TEST_F(Sim, PerThreadStreamSynchronizesWithTheLegacyStream) {
    Events ev;
    Gate gate(cudaStreamPerThread);
    ASSERT_EQ(cudaEventRecord(ev.a, nullptr), cudaSuccess);
    EXPECT_EQ(cudaEventQuery(ev.a), cudaErrorNotReady);
}

// ---- host functions ----

TEST_F(Sim, HostFunctionBlocksItsStreamUntilItReturns) {
    Events ev;
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    auto sleeper = [](void*) { std::this_thread::sleep_for(30ms); };
    ASSERT_EQ(cudaLaunchHostFunc(s_, sleeper, nullptr), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    EXPECT_GE(ev.elapsed(), 30.0f);
}

TEST_F(Sim, HostFunctionRunsWhenItsStreamReachesIt) {
    std::atomic<bool> ran{false};
    Gate gate(s_);
    ASSERT_EQ(launch(s_, 1 * kMs), cudaSuccess);
    ASSERT_EQ(cudaLaunchHostFunc(
                  s_, [](void* p) { static_cast<std::atomic<bool>*>(p)->store(true); }, &ran),
              cudaSuccess);
    std::this_thread::sleep_for(5ms);
    EXPECT_FALSE(ran.load());
    gate.open();
    ASSERT_EQ(cudaStreamSynchronize(s_), cudaSuccess);
    EXPECT_TRUE(ran.load());
}

// ---- memory ----

TEST_F(Sim, MemoryRoundTrips) {
    int* d = nullptr;
    ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d), 4 * sizeof(int)), cudaSuccess);
    const int in[4] = {1, 2, 3, 4};
    int out[4] = {};
    ASSERT_EQ(cudaMemcpy(d, in, sizeof in, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_EQ(cudaMemcpyAsync(out, d, sizeof out, cudaMemcpyDeviceToHost, s_), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(s_), cudaSuccess);
    EXPECT_EQ(std::memcmp(in, out, sizeof in), 0);
    ASSERT_EQ(cudaMemsetAsync(d, 0, sizeof in, s_), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(out, d, sizeof out, cudaMemcpyDeviceToHost), cudaSuccess);
    EXPECT_EQ(out[3], 0);
    EXPECT_EQ(cudaFree(d), cudaSuccess);
}

TEST_F(Sim, FreeingAnUnknownPointerIsInvalidValue) {
    int x = 0;
    EXPECT_EQ(cudaFree(&x), cudaErrorInvalidValue);
    EXPECT_EQ(cudaFree(nullptr), cudaSuccess);
    void* h = nullptr;
    ASSERT_EQ(cudaMallocHost(&h, 64), cudaSuccess);
    EXPECT_EQ(cudaFree(h), cudaErrorInvalidValue);
    EXPECT_EQ(cudaFreeHost(h), cudaSuccess);
}

TEST_F(Sim, SynchronousCopyWaitsForBlockingStreams) {
    int src = 1, dst = 0;
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(launch(s_, 30 * kMs), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(&dst, &src, sizeof src, cudaMemcpyHostToHost), cudaSuccess);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms);
    EXPECT_EQ(dst, 1);
}

// ---- capture and graphs ----

TEST_F(Sim, CaptureRecordsLaunchesAsNodesWithoutRunningThem) {
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeGlobal), cudaSuccess);
    ASSERT_EQ(launch(s_, 100 * kMs), cudaSuccess);
    ASSERT_EQ(cudaLaunchKernel(kKernel, dim3(1), dim3(1), nullptr, 0, s_), cudaSuccess);
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    ASSERT_EQ(cudaStreamIsCapturing(s_, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusActive);
    cudaGraph_t g = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(s_, &g), cudaSuccess);
    size_t n = 0;
    ASSERT_EQ(cudaGraphGetNodes(g, nullptr, &n), cudaSuccess);
    EXPECT_EQ(n, 2u);
    std::vector<cudaGraphNode_t> nodes(n);
    ASSERT_EQ(cudaGraphGetNodes(g, nodes.data(), &n), cudaSuccess);
    EXPECT_NE(nodes[0], nullptr);
    EXPECT_EQ(cudaStreamQuery(s_), cudaSuccess);  // the 100 ms kernel never ran
    EXPECT_EQ(cudaGraphDestroy(g), cudaSuccess);
}

TEST_F(Sim, GraphLaunchReplaysTheCapturedDurations) {
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeGlobal), cudaSuccess);
    ASSERT_EQ(launch(s_, 2 * kMs), cudaSuccess);
    ASSERT_EQ(launch(s_, 3 * kMs), cudaSuccess);
    cudaGraph_t g = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(s_, &g), cudaSuccess);
    cudaGraphExec_t exec = nullptr;
    ASSERT_EQ(cudaGraphInstantiate(&exec, g, 0), cudaSuccess);
    Events ev;
    Gate gate(s_);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    ASSERT_EQ(cudaGraphLaunch(exec, s_), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, s_), cudaSuccess);
    gate.open();
    EXPECT_EQ(ev.elapsed(), 5.0f);
    EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
    EXPECT_EQ(cudaGraphDestroy(g), cudaSuccess);
}

TEST_F(Sim, LegacyStreamCannotBeCaptured) {
    EXPECT_EQ(cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeGlobal),
              cudaErrorStreamCaptureUnsupported);
}

TEST_F(Sim, UnsafeCallDuringGlobalCaptureInvalidatesIt) {
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeGlobal), cudaSuccess);
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, 16), cudaErrorStreamCaptureUnsupported);
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    ASSERT_EQ(cudaStreamIsCapturing(s_, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated);
    cudaGraph_t g = reinterpret_cast<cudaGraph_t>(0x10);
    EXPECT_EQ(cudaStreamEndCapture(s_, &g), cudaErrorStreamCaptureInvalidated);
    EXPECT_EQ(g, nullptr);
}

TEST_F(Sim, UnsafeCallFromAnotherThreadBreaksAGlobalCapture) {
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeGlobal), cudaSuccess);
    cudaError_t other = cudaSuccess;
    std::thread([&] { other = cudaDeviceSynchronize(); }).join();
    EXPECT_EQ(other, cudaErrorStreamCaptureUnsupported);
    cudaGraph_t g = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(s_, &g), cudaErrorStreamCaptureInvalidated);
}

TEST_F(Sim, ThreadLocalCaptureAllowsOtherThreads) {
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    cudaError_t other = cudaErrorUnknown;
    void* p = nullptr;
    std::thread([&] { other = cudaMalloc(&p, 16); }).join();
    EXPECT_EQ(other, cudaSuccess);
    cudaGraph_t g = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(s_, &g), cudaSuccess);
    cudaGraphDestroy(g);
    cudaFree(p);
}

TEST_F(Sim, RelaxedThreadMayCallUnsafeFunctions) {
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
    EXPECT_EQ(mode, cudaStreamCaptureModeGlobal);
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeGlobal), cudaSuccess);
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, 16), cudaSuccess);
    cudaGraph_t g = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(s_, &g), cudaSuccess);
    ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
    EXPECT_EQ(mode, cudaStreamCaptureModeRelaxed);
    cudaGraphDestroy(g);
    cudaFree(p);
}

TEST_F(Sim, LegacyStreamUseDuringCaptureIsAnImplicitDependency) {
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeGlobal), cudaSuccess);
    EXPECT_EQ(launch(nullptr, 1000), cudaErrorStreamCaptureImplicit);
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    ASSERT_EQ(cudaStreamIsCapturing(s_, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated);
    cudaGraph_t g = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(s_, &g), cudaErrorStreamCaptureInvalidated);
}

TEST_F(Sim, AskingTheLegacyStreamDuringCaptureFailsWithoutInvalidating) {
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeGlobal), cudaSuccess);
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    EXPECT_EQ(cudaStreamIsCapturing(nullptr, &status), cudaErrorStreamCaptureImplicit);
    ASSERT_EQ(cudaStreamIsCapturing(s_, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusActive);
    cudaGraph_t g = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(s_, &g), cudaSuccess);
    cudaGraphDestroy(g);
}

TEST_F(Sim, NonBlockingCaptureLeavesTheLegacyStreamUsable) {
    ASSERT_EQ(cudaStreamBeginCapture(ns_, cudaStreamCaptureModeRelaxed), cudaSuccess);
    EXPECT_EQ(launch(nullptr, 1000), cudaSuccess);
    cudaGraph_t g = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(ns_, &g), cudaSuccess);
    cudaGraphDestroy(g);
}

TEST_F(Sim, InvalidateCaptureMarksTheCaptureInvalid) {
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeGlobal), cudaSuccess);
    sim::invalidate_capture(s_);
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    ASSERT_EQ(cudaStreamIsCapturing(s_, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated);
    cudaGraph_t g = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(s_, &g), cudaErrorStreamCaptureInvalidated);
}

TEST_F(Sim, CaptureEventForksAndJoinsAnotherStream) {
    Events ev;
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeGlobal), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    ASSERT_EQ(cudaStreamWaitEvent(ns_, ev.a, 0), cudaSuccess);
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    ASSERT_EQ(cudaStreamIsCapturing(ns_, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusActive);
    ASSERT_EQ(launch(ns_, 1000), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.b, ns_), cudaSuccess);
    ASSERT_EQ(cudaStreamWaitEvent(s_, ev.b, 0), cudaSuccess);
    ASSERT_EQ(launch(s_, 1000), cudaSuccess);
    cudaGraph_t g = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(s_, &g), cudaSuccess);
    size_t n = 0;
    ASSERT_EQ(cudaGraphGetNodes(g, nullptr, &n), cudaSuccess);
    EXPECT_EQ(n, 2u);
    ASSERT_EQ(cudaStreamIsCapturing(ns_, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusNone);
    cudaGraphDestroy(g);
}

TEST_F(Sim, QueryingACaptureEventIsUnsupported) {
    Events ev;
    ASSERT_EQ(cudaStreamBeginCapture(s_, cudaStreamCaptureModeRelaxed), cudaSuccess);
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(ev.a, s_), cudaSuccess);
    EXPECT_EQ(cudaEventQuery(ev.a), cudaErrorStreamCaptureUnsupported);
    cudaGraph_t g = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(s_, &g), cudaSuccess);
    ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
    cudaGraphDestroy(g);
}

// ---- threads and reset ----

TEST_F(Sim, ManyThreadsTimeEventPairsConcurrently) {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            cudaStream_t s = nullptr;
            cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
            cudaEvent_t a = nullptr, b = nullptr;
            cudaEventCreate(&a);
            cudaEventCreate(&b);
            for (int i = 0; i < 1000; ++i) {
                sim::set_next_kernel_ns(1000);
                if (cudaEventRecord(a, s) != cudaSuccess ||
                    cudaLaunchKernel(kKernel, dim3(1), dim3(1), nullptr, 0, s) != cudaSuccess ||
                    cudaEventRecord(b, s) != cudaSuccess ||
                    cudaEventSynchronize(b) != cudaSuccess) {
                    ++failures;
                    continue;
                }
                float ms = 0;
                if (cudaEventElapsedTime(&ms, a, b) != cudaSuccess || ms < 0.001f) ++failures;
            }
            cudaEventDestroy(a);
            cudaEventDestroy(b);
            cudaStreamDestroy(s);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
}

TEST_F(Sim, ResetWaitsForEveryStream) {
    ASSERT_EQ(launch(ns_, 20 * kMs), cudaSuccess);
    sim::reset();
    EXPECT_EQ(cudaStreamQuery(ns_), cudaSuccess);
}

}  // namespace
