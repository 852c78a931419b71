// NVTX of device scopes with the real CUDA backend, on the simulated runtime: the ranges Nsight
// Systems would show, observed through the capture library NVTX loads (tests/nvtx_capture).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>
#include <nvtx_capture.h>

#include <scope_profiler/cuda_sim.hpp>
#include <scope_profiler/scope_profiler.hpp>

#include <cstdlib>
#include <thread>
#include <vector>

#include "stream_gate.hpp"

namespace sp = scope_profiler;
namespace sim = scope_profiler::cuda_sim;

namespace {

std::vector<nvtx_capture::Event> ours() {
    std::vector<nvtx_capture::Event> out;
    for (auto& e : nvtx_capture::events()) {
        if (e.domain == "scope_profiler") out.push_back(e);
    }
    return out;
}

class CudaSimNvtx : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_NE(std::getenv("NVTX_INJECTION64_PATH"), nullptr) << "run through ctest";
        sim::reset();
        sp::Config config;
        config.flush_to_disk = false;
        sp::ProfileManager::setup(config);
        ASSERT_TRUE(nvtx_capture::attached());
        ASSERT_EQ(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), cudaSuccess);
        nvtx_capture::clear();
    }
    void TearDown() override { (void)cudaStreamDestroy(stream_); }
    cudaStream_t stream_ = nullptr;
};

TEST_F(CudaSimNvtx, ATimedDeviceScopeIsARangeInTheDeviceCategory) {
    {
        StreamGate gate(stream_);  // the host's gaps between the calls stay out of the interval
        ASSERT_EQ(gate.made(), cudaSuccess);
        auto r = sp::ProfileManager::profile_region("saxpy", stream_);
        sim::launch_kernel(stream_, 30'000);
    }
    const auto events = ours();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].kind, nvtx_capture::Kind::push);
    EXPECT_EQ(events[0].message, "saxpy");
    EXPECT_EQ(events[0].category, 2u);
    EXPECT_EQ(events[0].color, sp::region_color("saxpy"));
    EXPECT_EQ(events[1].kind, nvtx_capture::Kind::pop);
    const sp::DeviceIntervals iv = sp::ProfileManager::get_region("saxpy")->get_device_intervals(true);
    ASSERT_EQ(iv.start_times.size(), 1u);
    EXPECT_EQ(iv.host_fallback[0], 0) << "timed by the CUDA backend, not fallen back";
    EXPECT_EQ(iv.end_times[0] - iv.start_times[0], 30'000);
}

TEST_F(CudaSimNvtx, AScopeOnACapturingStreamStillEmitsItsRange) {
    ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
    {
        auto r = sp::ProfileManager::profile_region("captured", stream_);
        sim::launch_kernel(stream_, 30'000);
    }
    cudaGraph_t graph = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(stream_, &graph), cudaSuccess);
    const auto events = ours();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].message, "captured");
    EXPECT_EQ(events[0].category, 2u);
    EXPECT_EQ(events[1].kind, nvtx_capture::Kind::pop);
    EXPECT_EQ(sp::ProfileManager::get_region("captured")->num_device_calls(), 0u);
    EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
}

TEST_F(CudaSimNvtx, ScopesOnManyThreadsBalanceTheirRanges) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([] {
            for (int i = 0; i < 100; ++i) {
                auto outer = sp::ProfileManager::profile_region("outer");
                auto r = sp::ProfileManager::profile_region("inner", cudaStreamPerThread);
                sim::launch_kernel(cudaStreamPerThread, 1000);
            }
        });
    }
    for (std::thread& t : threads) t.join();
    int pushes = 0, pops = 0, device = 0;
    for (const auto& e : ours()) {
        pushes += e.kind == nvtx_capture::Kind::push;
        pops += e.kind == nvtx_capture::Kind::pop;
        device += e.kind == nvtx_capture::Kind::push && e.category == 2u;
    }
    EXPECT_EQ(pushes, 800);
    EXPECT_EQ(pops, 800);
    EXPECT_EQ(device, 400);
    EXPECT_EQ(sp::ProfileManager::get_region("inner")->get_device_intervals(true).start_times.size(), 400u);
}

}  // namespace
