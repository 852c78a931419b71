// The device-timing pipeline behind the backend seam, with a fake GPU whose completion the test
// controls: lazy resolution, many pairs in flight, out-of-order streams, host and device calls in
// one region, sessions, graph capture and the no-GPU fallback.
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "fake_device_backend.hpp"
#include "test_support.hpp"

namespace {

class Device : public Session {
protected:
    fake::Installed fake_;
    fake::Backend& gpu() { return *fake_.backend; }
};

CUstream_st* const kStreamA = fake::stream(0xA);
CUstream_st* const kStreamB = fake::stream(0xB);

TEST_F(Device, ADeviceScopeResolvesLazilyAndNeverWaits) {
    { auto r = sp::ProfileManager::profile_region("saxpy", kStreamA); }
    const sp::Region* region = sp::ProfileManager::get_region("saxpy");
    ASSERT_NE(region, nullptr);
    EXPECT_EQ(region->num_calls(), 1u);         // the call, counted at exit
    EXPECT_EQ(region->num_device_calls(), 1u);
    EXPECT_EQ(region->get_durations().size(), 1u);          // its CPU-side time
    EXPECT_TRUE(region->get_device_durations().empty());    // still running on the "GPU"
    ASSERT_EQ(gpu().begun, 1);
    EXPECT_TRUE(gpu().pairs.at(1).ended);

    gpu().complete(1, 5000, 5750);
    EXPECT_EQ(region->get_device_durations(), std::vector<std::int64_t>{750});
    const sp::DeviceIntervals iv = region->get_device_intervals();
    EXPECT_EQ(iv.start_times, std::vector<std::int64_t>{5000});
    EXPECT_EQ(iv.stream_ids, std::vector<std::int64_t>{0xA});
    EXPECT_EQ(iv.host_fallback, std::vector<std::uint8_t>{0});
    EXPECT_EQ(gpu().waits, 0);  // nothing synchronized
}

TEST_F(Device, WaitTrueResolvesEveryPendingScope) {
    for (int i = 0; i < 5; ++i) auto r = sp::ProfileManager::profile_region("k", kStreamA);
    const sp::Region* region = sp::ProfileManager::get_region("k");
    EXPECT_TRUE(region->get_device_durations(false).empty());
    EXPECT_EQ(region->get_device_durations(true).size(), 5u);
    EXPECT_EQ(gpu().waits, 5);
}

TEST_F(Device, StreamsCompleteOutOfOrder) {
    { auto r = sp::ProfileManager::profile_region("mix", kStreamA); }  // ticket 1
    { auto r = sp::ProfileManager::profile_region("mix", kStreamA); }  // ticket 2
    { auto r = sp::ProfileManager::profile_region("mix", kStreamB); }  // ticket 3
    gpu().complete(3, 300, 400);  // B finished; A is still busy
    const sp::Region* region = sp::ProfileManager::get_region("mix");
    EXPECT_EQ(region->get_device_intervals().stream_ids, std::vector<std::int64_t>{0xB});
    gpu().complete(1, 100, 200);
    gpu().complete(2, 200, 250);
    const sp::DeviceIntervals iv = region->get_device_intervals();
    EXPECT_EQ(iv.start_times, (std::vector<std::int64_t>{100, 200, 300}));  // device start order
    EXPECT_EQ(iv.stream_ids, (std::vector<std::int64_t>{0xA, 0xA, 0xB}));
    EXPECT_EQ(region->get_device_durations(), (std::vector<std::int64_t>{100, 50, 100}));
}

TEST_F(Device, HostAndDeviceScopesOfOneNameAreOneRegion) {
    for (int i = 0; i < 2; ++i) auto r = sp::ProfileManager::profile_region("step");
    for (int i = 0; i < 3; ++i) auto r = sp::ProfileManager::profile_region("step", kStreamA);
    { SCOPE_PROFILE_REGION("step"); }
    const sp::Region* region = sp::ProfileManager::get_region("step");
    EXPECT_EQ(sp::ProfileManager::get_all_regions().size(), 1u);
    EXPECT_EQ(region->num_calls(), 6u);
    EXPECT_EQ(region->get_durations().size(), 6u);
    EXPECT_EQ(region->num_device_calls(), 3u);
    EXPECT_EQ(region->get_device_durations(true).size(), 3u);
}

TEST_F(Device, ThousandsInFlightNeitherBlockNorQueryEveryPairEachTime) {
    constexpr int kScopes = 10000;
    sp::Region& region = sp::ProfileManager::region("flood");
    for (int i = 0; i < kScopes; ++i) sp::DeviceScope s(region, i % 2 ? kStreamA : kStreamB);
    EXPECT_EQ(gpu().begun, kScopes);
    EXPECT_EQ(gpu().waits, 0);
    // Lazy polls happen every 256 exits, and stop at the first running pair of each stream.
    EXPECT_LE(gpu().polls, 2 * (kScopes / 256 + 1));
    for (std::uint64_t t = 1; t <= kScopes; ++t) gpu().complete(t, 10 * t, 10 * t + 5);
    EXPECT_EQ(region.get_device_durations().size(), static_cast<std::size_t>(kScopes));
    EXPECT_EQ(gpu().released_count(), static_cast<std::size_t>(kScopes));
}

TEST_F(Device, SetupWhilePairsArePendingDiscardsThem) {
    for (int i = 0; i < 4; ++i) auto r = sp::ProfileManager::profile_region("old", kStreamA);
    sp::ProfileManager::setup({.flush_to_disk = false});
    EXPECT_EQ(gpu().discarded, 4);
    for (std::uint64_t t = 1; t <= 4; ++t) gpu().complete(t, 1, 2);
    sp::Region& region = sp::ProfileManager::region("old");
    EXPECT_EQ(region.num_device_calls(), 0u);
    EXPECT_TRUE(region.get_device_durations(true).empty());
    { auto r = sp::ProfileManager::profile_region("old", kStreamA); }
    EXPECT_EQ(region.get_device_durations(true).size(), 1u);
}

TEST_F(Device, AScopeOpenAcrossSetupReleasesItsPairAndIsNotCounted) {
    {
        auto r = sp::ProfileManager::profile_region("straddle", kStreamA);
        sp::ProfileManager::setup({.flush_to_disk = false});
    }
    EXPECT_EQ(gpu().discarded, 1);
    EXPECT_EQ(calls_of("straddle"), 0u);
    EXPECT_EQ(sp::ProfileManager::region("straddle").num_device_calls(), 0u);
}

TEST_F(Device, AStreamCapturingAGraphGetsNoEvents) {
    gpu().capturing.insert(kStreamB);
    { auto r = sp::ProfileManager::profile_region("graph", kStreamB); }
    const sp::Region* region = sp::ProfileManager::get_region("graph");
    EXPECT_EQ(gpu().begun, 0);            // nothing recorded into the capture
    EXPECT_EQ(region->num_calls(), 1u);   // the host call still counts
    EXPECT_EQ(region->num_device_calls(), 0u);
}

TEST_F(Device, CountOnlySessionsCountDeviceCallsWithoutEvents) {
    sp::ProfileManager::setup({.time_trace = false, .flush_to_disk = false});
    for (int i = 0; i < 3; ++i) auto r = sp::ProfileManager::profile_region("counted", kStreamA);
    EXPECT_EQ(gpu().begun, 0);
    EXPECT_EQ(calls_of("counted"), 3u);
    EXPECT_EQ(sp::ProfileManager::get_region("counted")->num_device_calls(), 3u);
}

TEST_F(Device, DisabledDeviceScopesDoNothing) {
    sp::ProfileManager::setup({.profiling_activated = false, .flush_to_disk = false});
    { auto r = sp::ProfileManager::profile_region("off", kStreamA); }
    EXPECT_EQ(gpu().begun, 0);
    EXPECT_EQ(sp::ProfileManager::get_region("off"), nullptr);
    EXPECT_THROW((void)sp::ProfileManager::profile_region("", kStreamA), std::invalid_argument);
}

TEST_F(Device, FinalizeWaitsForPendingPairsAndPrintsDeviceLines) {
    for (int i = 0; i < 2; ++i) auto r = sp::ProfileManager::profile_region("gpu_work", kStreamA);
    ::testing::internal::CaptureStdout();
    sp::ProfileManager::finalize();
    const std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(gpu().waits, 2);
    EXPECT_NE(out.find("  Device Calls: 2\n"), std::string::npos) << out;
    EXPECT_NE(out.find("  Device Avg  : 1e-08 s\n"), std::string::npos) << out;  // the fake's 10 ns
    EXPECT_EQ(out.find("Fallback"), std::string::npos) << out;
}

TEST_F(Device, AFailedPairIsLostAndReportedAtFinalize) {
    { auto r = sp::ProfileManager::profile_region("broken", kStreamA); }
    { auto r = sp::ProfileManager::profile_region("broken", kStreamA); }
    gpu().fail(1);
    gpu().complete(2, 10, 20);
    ::testing::internal::CaptureStderr();
    sp::ProfileManager::finalize(false);
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("1 device intervals were lost"), std::string::npos) << err;
    EXPECT_EQ(sp::ProfileManager::get_region("broken")->get_device_durations().size(), 1u);
}

TEST_F(Device, ThreadsOnTheirOwnStreamsWhileAnotherThreadResolves) {
    constexpr int kThreads = 4;
    constexpr int kScopes = 2000;
    sp::Region& region = sp::ProfileManager::region("threads");
    std::atomic<bool> done{false};
    std::thread resolver([&] {
        while (!done) {
            {  // the "GPU" finishes whatever has ended so far
                std::lock_guard lock(gpu().mutex);
                for (auto& [ticket, pair] : gpu().pairs) {
                    if (pair.ended && !pair.complete) {
                        pair.complete = true;
                        pair.start = static_cast<std::int64_t>(ticket);
                        pair.end = pair.start + 1;
                    }
                }
            }
            (void)region.get_device_durations(false);
        }
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&region, t] {
            for (int i = 0; i < kScopes; ++i) sp::DeviceScope s(region, fake::stream(100 + t));
        });
    }
    for (auto& t : threads) t.join();
    done = true;
    resolver.join();
    EXPECT_EQ(region.num_calls(), static_cast<std::uint64_t>(kThreads * kScopes));
    EXPECT_EQ(region.num_device_calls(), static_cast<std::uint64_t>(kThreads * kScopes));
    const sp::DeviceIntervals iv = region.get_device_intervals(true);
    ASSERT_EQ(iv.start_times.size(), static_cast<std::size_t>(kThreads * kScopes));
    std::map<std::int64_t, int> per_stream;
    for (const std::int64_t id : iv.stream_ids) ++per_stream[id];
    EXPECT_EQ(per_stream.size(), static_cast<std::size_t>(kThreads));
    for (const auto& [id, n] : per_stream) EXPECT_EQ(n, kScopes) << "stream " << id;
}

TEST(DeviceFallback, WithoutAGpuDeviceScopesAreHostTimedMarkedAndWarnedOnce) {
    sp::ProfileManager::setup({.flush_to_disk = false});
    sp::detail::set_device_backend(sp::detail::make_host_fallback_backend("no GPU in this test"));
    ::testing::internal::CaptureStderr();
    for (int i = 0; i < 3; ++i) auto r = sp::ProfileManager::profile_region("fallback", kStreamA);
    const std::string err = ::testing::internal::GetCapturedStderr();
    const sp::Region* region = sp::ProfileManager::get_region("fallback");
    const sp::DeviceIntervals device = region->get_device_intervals();
    const sp::HostIntervals host = region->get_intervals();
    EXPECT_EQ(region->num_device_calls(), 3u);
    EXPECT_EQ(device.host_fallback, (std::vector<std::uint8_t>{1, 1, 1}));
    EXPECT_EQ(device.start_times, host.start_times);  // the host interval stands in
    EXPECT_EQ(device.end_times, host.end_times);
    const std::string warning = "no GPU in this test; device scopes are timed on the host";
    ASSERT_NE(err.find(warning), std::string::npos) << err;
    EXPECT_EQ(err.find(warning, err.find(warning) + 1), std::string::npos) << "warned twice: " << err;

    ::testing::internal::CaptureStdout();
    sp::ProfileManager::finalize();
    const std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(out.find("  Fallback    : 3 of 3 (100.0%) device intervals timed on the host"), std::string::npos) << out;
    sp::detail::set_device_backend(nullptr);
}

// With Config::clock = tsc the host interval is ticks until it is read; the device interval a
// fallback makes of it is nanoseconds at once. Both land on the steady_clock timeline: the
// same times, to the map's error (the host's are converted later, through more points).
TEST(DeviceFallback, WithTheTimeStampCounterTheHostIntervalStandsInInNanoseconds) {
    sp::ProfileManager::setup({.flush_to_disk = false, .clock = sp::Clock::tsc});
    sp::detail::set_device_backend(sp::detail::make_host_fallback_backend("no GPU in this test"));
    ::testing::internal::CaptureStderr();
    const std::int64_t before = sp::detail::now_ns();
    for (int i = 0; i < 3; ++i) auto r = sp::ProfileManager::profile_region("fallback_tsc", kStreamA);
    const std::int64_t after = sp::detail::now_ns();
    (void)::testing::internal::GetCapturedStderr();
    const sp::Region* region = sp::ProfileManager::get_region("fallback_tsc");
    const sp::DeviceIntervals device = region->get_device_intervals();
    const sp::HostIntervals host = region->get_intervals();
    ASSERT_EQ(device.start_times.size(), 3u);
    ASSERT_EQ(host.start_times.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_NEAR(static_cast<double>(device.start_times[i]), static_cast<double>(host.start_times[i]), 100.0);
        EXPECT_NEAR(static_cast<double>(device.end_times[i]), static_cast<double>(host.end_times[i]), 100.0);
        EXPECT_GE(device.start_times[i], before - 100);
        EXPECT_LE(device.end_times[i], after + 100);
    }
    sp::detail::set_device_backend(nullptr);
    sp::ProfileManager::setup({.flush_to_disk = false});
}

}  // namespace
