// Every region is an NVTX range, observed the way Nsight observes it: through an injection
// library (tests/nvtx_capture) that NVTX loads from NVTX_INJECTION64_PATH.
#include <nvtx_capture.h>

#include <map>
#include <thread>
#include <vector>

#include "fake_device_backend.hpp"
#include "test_support.hpp"

namespace {

constexpr const char* kDomain = "scope_profiler";

std::vector<nvtx_capture::Event> ours() {
    std::vector<nvtx_capture::Event> out;
    for (auto& e : nvtx_capture::events()) {
        if (e.domain == kDomain) out.push_back(e);
    }
    return out;
}

class Nvtx : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_NE(std::getenv("NVTX_INJECTION64_PATH"), nullptr) << "run through ctest";
        sp::ProfileManager::setup({.flush_to_disk = false});
        ASSERT_TRUE(nvtx_capture::attached());
        nvtx_capture::clear();
    }
};

TEST_F(Nvtx, AHostRegionIsARangeWithItsNameColorAndCategory) {
    { auto r = sp::ProfileManager::profile_region("rhs_evaluation"); }
    const auto events = ours();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].kind, nvtx_capture::Kind::push);
    EXPECT_EQ(events[0].message, "rhs_evaluation");
    EXPECT_TRUE(events[0].message_registered);
    EXPECT_TRUE(events[0].has_color);
    EXPECT_EQ(events[0].color, sp::region_color("rhs_evaluation"));
    EXPECT_EQ(events[0].category, 1u);
    EXPECT_EQ(events[1].kind, nvtx_capture::Kind::pop);
    EXPECT_EQ(events[1].depth_after, 0);
}

TEST_F(Nvtx, TheDomainNamesItsCategories) {
    const auto names = nvtx_capture::category_names(kDomain);
    EXPECT_EQ(names.at(1), "host");
    EXPECT_EQ(names.at(2), "device");
}

TEST_F(Nvtx, StringsAreRegisteredOncePerRegionNotPerCall) {
    const std::size_t before = nvtx_capture::registered_string_count(kDomain);
    for (int i = 0; i < 100; ++i) {
        auto a = sp::ProfileManager::profile_region("registered_once_a");
        SCOPE_PROFILE_REGION("registered_once_b");
    }
    EXPECT_EQ(nvtx_capture::registered_string_count(kDomain) - before, 2u);
    EXPECT_EQ(ours().size(), 400u);
}

TEST_F(Nvtx, NestingIsMirroredAndBalancedOnEveryThread) {
    auto work = [] {
        auto outer = sp::ProfileManager::profile_region("outer");
        for (int i = 0; i < 3; ++i) {
            SCOPE_PROFILE_REGION("inner");
            auto deepest = sp::ProfileManager::profile_region("deepest");
        }
    };
    std::thread t1(work), t2(work);
    t1.join();
    t2.join();
    std::map<std::uint64_t, int> depth;
    std::map<std::uint64_t, int> max_depth;
    for (const auto& e : ours()) {
        depth[e.thread] += e.kind == nvtx_capture::Kind::push ? 1 : -1;
        EXPECT_EQ(e.depth_after, depth[e.thread]);
        max_depth[e.thread] = std::max(max_depth[e.thread], depth[e.thread]);
        if (e.kind == nvtx_capture::Kind::push) {
            const int expected = e.message == "outer" ? 1 : e.message == "inner" ? 2 : 3;
            EXPECT_EQ(e.depth_after, expected) << e.message;
        }
    }
    ASSERT_EQ(depth.size(), 2u);
    for (const auto& [thread, d] : depth) {
        EXPECT_EQ(d, 0) << "thread " << thread;
        EXPECT_EQ(max_depth[thread], 3);
    }
}

TEST_F(Nvtx, ADeviceScopeIsARangeInTheDeviceCategory) {
    fake::Installed gpu;
    { auto r = sp::ProfileManager::profile_region("saxpy", fake::stream(1)); }
    { auto r = sp::ProfileManager::profile_region("saxpy"); }
    const auto events = ours();
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].category, 2u);
    EXPECT_EQ(events[2].category, 1u);
    EXPECT_EQ(events[0].color, events[2].color);  // one color per name, host or device
}

TEST_F(Nvtx, AScopeThrownThroughStillPops) {
    try {
        auto r = sp::ProfileManager::profile_region("throws");
        throw std::runtime_error("boom");
    } catch (const std::runtime_error&) {
    }
    const auto events = ours();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].kind, nvtx_capture::Kind::pop);
}

TEST_F(Nvtx, CountOnlySessionsEmitRangesToo) {
    sp::ProfileManager::setup({.time_trace = false, .flush_to_disk = false});
    { auto r = sp::ProfileManager::profile_region("counted"); }
    EXPECT_EQ(ours().size(), 2u);
}

TEST_F(Nvtx, UseNvtxFalseEmitsNothing) {
    sp::ProfileManager::setup({.flush_to_disk = false, .use_nvtx = false});
    { auto r = sp::ProfileManager::profile_region("quiet"); }
    { SCOPE_PROFILE_REGION("quiet"); }
    EXPECT_TRUE(ours().empty());
    EXPECT_EQ(calls_of("quiet"), 2u);  // still profiled
}

TEST_F(Nvtx, ProfilingOffEmitsNothing) {
    sp::ProfileManager::setup({.profiling_activated = false, .flush_to_disk = false});
    { auto r = sp::ProfileManager::profile_region("off"); }
    EXPECT_TRUE(ours().empty());
}

TEST_F(Nvtx, NothingGoesToTheDefaultDomainAndOneDomainIsMade) {
    { auto r = sp::ProfileManager::profile_region("x"); }
    sp::ProfileManager::setup({.flush_to_disk = false});
    { auto r = sp::ProfileManager::profile_region("x"); }
    for (const auto& e : nvtx_capture::events()) EXPECT_EQ(e.domain, kDomain);
    std::size_t made = 0;
    for (const auto& d : nvtx_capture::domains()) made += d == kDomain ? 1 : 0;
    EXPECT_EQ(made, 1u);
}

}  // namespace
