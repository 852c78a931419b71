// Paths of the real CUDA backend (cuda/cuda_backend.cpp) that the GPU tests do not reach, on the
// simulated runtime: the legacy stream while another stream captures, pairs pending at setup(),
// anchors renewed after a second, and the pools reused across all of it.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <scope_profiler/cuda_sim.hpp>
#include <scope_profiler/scope_profiler.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "device_backend.hpp"
#include "sim_session.hpp"
#include "stream_gate.hpp"

namespace sp = scope_profiler;
namespace sim = scope_profiler::cuda_sim;

namespace {

class CudaSimBackend : public SimSessionTest {
protected:
    void SetUp() override {
        SimSessionTest::SetUp();
        start_session();
        ASSERT_EQ(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), cudaSuccess);
    }
    void TearDown() override {
        (void)cudaStreamSynchronize(stream_);
        (void)cudaStreamDestroy(stream_);
        SimSessionTest::TearDown();
    }
    cudaStream_t stream_ = nullptr;
};

// While a blocking stream captures, the legacy default stream may not be used: CUDA answers
// cudaErrorStreamCaptureImplicit. A scope on it then emits NVTX only, and the capture survives.
TEST_F(CudaSimBackend, TheLegacyStreamWhileAnotherStreamCapturesIsNotTouched) {
    cudaStream_t blocking = nullptr;
    ASSERT_EQ(cudaStreamCreate(&blocking), cudaSuccess);
    ASSERT_EQ(cudaStreamBeginCapture(blocking, cudaStreamCaptureModeGlobal), cudaSuccess);
    { auto r = sp::ProfileManager::profile_region("legacy_during_capture", nullptr); }
    EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "the library left its own error behind";
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    ASSERT_EQ(cudaStreamIsCapturing(blocking, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusActive) << "the scope invalidated the capture";
    cudaGraph_t graph = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(blocking, &graph), cudaSuccess);
    EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
    const sp::Region* region = sp::ProfileManager::get_region("legacy_during_capture");
    EXPECT_EQ(region->num_calls(), 1u);
    EXPECT_EQ(region->num_device_calls(), 0u);
    EXPECT_EQ(cudaStreamDestroy(blocking), cudaSuccess);
}

// The same when the capture begins while the scope is open: the end event is not recorded.
TEST_F(CudaSimBackend, ACaptureBegunElsewhereWhileALegacyScopeIsOpenLosesOnlyThatInterval) {
    cudaStream_t blocking = nullptr;
    ASSERT_EQ(cudaStreamCreate(&blocking), cudaSuccess);
    cudaGraph_t graph = nullptr;
    {
        auto r = sp::ProfileManager::profile_region("legacy_straddles", nullptr);
        ASSERT_EQ(cudaStreamBeginCapture(blocking, cudaStreamCaptureModeGlobal), cudaSuccess);
    }
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    ASSERT_EQ(cudaStreamIsCapturing(blocking, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusActive);
    ASSERT_EQ(cudaStreamEndCapture(blocking, &graph), cudaSuccess);
    EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
    const sp::Region* region = sp::ProfileManager::get_region("legacy_straddles");
    EXPECT_TRUE(region->get_device_durations(true).empty());
    EXPECT_EQ(region->num_device_calls(), 1u);
    EXPECT_EQ(sp::detail::device_intervals_failed(), 1u);
    EXPECT_EQ(cudaStreamDestroy(blocking), cudaSuccess);
}

// setup() while pairs are still queued behind a long kernel: they are discarded (not filed in
// the new session), and their events go back to the pool for the next scopes.
TEST_F(CudaSimBackend, PairsPendingAtSetupAreDiscardedAndReused) {
    StreamGate gate(stream_);  // held: the pairs below stay pending
    ASSERT_EQ(gate.made(), cudaSuccess);
    for (int i = 0; i < 50; ++i) {
        auto r = sp::ProfileManager::profile_region("pending", stream_);
    }
    EXPECT_TRUE(sp::ProfileManager::get_region("pending")->get_device_durations().empty());
    start_session();  // a new session
    const std::uint64_t created = sim::call_count("cudaEventCreate");
    for (int i = 0; i < 50; ++i) {
        auto r = sp::ProfileManager::profile_region("after", stream_);
        sim::launch_kernel(stream_, 1000);
    }
    gate.release();  // everything behind the gate now runs back to back
    const sp::DeviceIntervals iv = sp::ProfileManager::get_region("after")->get_device_intervals(true);
    ASSERT_EQ(iv.start_times.size(), 50u);
    for (std::size_t i = 0; i < iv.start_times.size(); ++i) {
        EXPECT_EQ(iv.host_fallback[i], 0);
        EXPECT_EQ(iv.end_times[i] - iv.start_times[i], 1000);
    }
    // No new pair (two events); one event is allowed for a new anchor, should this run have
    // taken over a second.
    EXPECT_LE(sim::call_count("cudaEventCreate") - created, 1u) << "the discarded pairs were not reused";
    EXPECT_EQ(sp::detail::device_intervals_failed(), 0u);
    const sp::Region* old = sp::ProfileManager::get_region("pending");
    EXPECT_TRUE(old == nullptr || old->get_device_durations(true).empty());
}

// An anchor older than a second is replaced at the next scope's entry; intervals placed through
// the old and the new anchor both lie inside their host intervals.
TEST_F(CudaSimBackend, AnchorsAreRenewedAfterASecondAndPlaceIntervalsOnTheHostTimeline) {
    auto timed_call = [&](const char* name) {
        auto host = sp::ProfileManager::profile_region("host_of_device");
        {
            auto device = sp::ProfileManager::profile_region(name, stream_);
            sim::launch_kernel(stream_, 50'000);
        }
        ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
    };
    timed_call("before");
    const std::uint64_t records = sim::call_count("cudaEventRecord");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    timed_call("after");
    // The second scope recorded its start and end, plus at least one new anchor.
    EXPECT_GE(sim::call_count("cudaEventRecord") - records, 3u) << "no new anchor after 1.1 s";
    const sp::HostIntervals host = sp::ProfileManager::get_region("host_of_device")->get_intervals();
    ASSERT_EQ(host.start_times.size(), 2u);
    int call = 0;
    for (const char* name : {"before", "after"}) {
        SCOPED_TRACE(name);
        const sp::DeviceIntervals iv = sp::ProfileManager::get_region(name)->get_device_intervals(true);
        ASSERT_EQ(iv.start_times.size(), 1u);
        EXPECT_GE(iv.start_times[0], host.start_times[call]);
        EXPECT_LE(iv.end_times[0], host.end_times[call] + 4'000) << "placed after its host interval ended";
        EXPECT_GE(iv.end_times[0] - iv.start_times[0], 50'000);
        ++call;
    }
}

}  // namespace
