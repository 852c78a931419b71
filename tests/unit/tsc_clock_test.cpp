// Config::clock = tsc: scopes read the time-stamp counter, and every time the library returns is
// still steady_clock nanoseconds (core/tick_clock.hpp). Where the counter is not usable the
// tests that need it skip, saying why; the fallback to steady_clock is tested everywhere.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"
#include "tick_clock.hpp"

namespace {

using sp::detail::TickClock;

/// The error the map may have: 100 ns, or the widest pair of counter reads of a calibration
/// point where reading steady_clock is slower than that (under a sanitizer).
std::int64_t error_bound() {
    return std::max<std::int64_t>(100, TickClock::instance().calibration().widest_point_ns);
}

void spin_until(std::int64_t deadline_ns) {
    while (sp::detail::now_ns() < deadline_ns) {
    }
}

class TscClock : public ::testing::Test {
protected:
    void SetUp() override {
        sp::ProfileManager::setup({.flush_to_disk = false, .clock = sp::Clock::tsc});
        if (!TickClock::instance().active()) GTEST_SKIP() << "the time-stamp counter is not usable here";
    }
    void TearDown() override {
        TickClock::refresh_always_for_tests(false);
        sp::ProfileManager::setup({.flush_to_disk = false});
    }
};

}  // namespace

// 4 threads, regions from about 1 ns to 1 s, while another thread loads the machine: each
// recorded interval lies within the two steady_clock reads around it, to the stated bound.
TEST_F(TscClock, ARegionLiesBetweenTheSteadyClockReadsAroundIt) {
    std::atomic<bool> loading{true};
    std::thread load([&] {
        while (loading.load(std::memory_order_relaxed)) {
        }
    });
    const std::vector<std::int64_t> lengths = {0, 100, 10'000, 1'000'000, 50'000'000};
    struct Bracket {
        std::int64_t before, after;
    };
    std::vector<std::vector<Bracket>> brackets(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            const std::string name = "bracket_" + std::to_string(t);
            for (int repeat = 0; repeat < 3; ++repeat) {
                for (const std::int64_t length : lengths) {
                    const std::int64_t before = sp::detail::now_ns();
                    {
                        auto r = sp::ProfileManager::profile_region(name);
                        if (length > 0) spin_until(before + length);
                    }
                    brackets[t].push_back({before, sp::detail::now_ns()});
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    {  // one region of a whole second
        const std::int64_t before = sp::detail::now_ns();
        {
            auto r = sp::ProfileManager::profile_region("bracket_4");
            spin_until(before + 1'000'000'000);
        }
        brackets.push_back({{before, sp::detail::now_ns()}});
    }
    loading = false;
    load.join();

    const std::int64_t bound = error_bound();
    for (std::size_t t = 0; t < brackets.size(); ++t) {
        const sp::HostIntervals iv = sp::ProfileManager::get_region("bracket_" + std::to_string(t))->get_intervals();
        ASSERT_EQ(iv.start_times.size(), brackets[t].size());
        for (std::size_t i = 0; i < brackets[t].size(); ++i) {
            EXPECT_GE(iv.start_times[i], brackets[t][i].before - bound) << "thread " << t << ", call " << i;
            EXPECT_LE(iv.end_times[i], brackets[t][i].after + bound) << "thread " << t << ", call " << i;
            EXPECT_LE(iv.start_times[i], iv.end_times[i]);
        }
    }
}

// Each call timed by both clocks: the interval the tsc session records, and steady_clock read
// inside the scope, first and last thing, around a spin on steady_clock. The two differ by the
// few instructions between the scope's counter reads and those steady_clock reads, the same for
// every length, and by the map's error: over 21 calls of each length (1 us to 2 ms), the median
// difference moves from the empty calls' by at most 1 % of the length and the error bound.
// (Preemption inside a call lengthens both the same; the median passes over one between a read
// and the scope.) Under ThreadSanitizer the instrumented instructions around the reads cost
// hundreds of ns and vary with what ran before them, so there the test says so and skips; the
// bracket test above still runs.
TEST_F(TscClock, DurationsAgreeWithSteadyClock) {
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "an accuracy of 1 % of 1 us cannot be measured through ThreadSanitizer's instrumentation";
#endif
    const auto median_difference = [](std::int64_t length) {
        const std::string name = "spin_" + std::to_string(length);
        std::vector<std::int64_t> steady;
        for (int i = 0; i < 21; ++i) {
            auto r = sp::ProfileManager::profile_region(name);
            const std::int64_t first = sp::detail::now_ns();
            if (length > 0) spin_until(first + length);
            steady.push_back(sp::detail::now_ns() - first);
        }
        const std::vector<std::int64_t> tsc = sp::ProfileManager::get_region(name)->get_durations();
        EXPECT_EQ(tsc.size(), steady.size());
        std::vector<std::int64_t> differences;
        for (std::size_t i = 0; i < tsc.size() && i < steady.size(); ++i) differences.push_back(tsc[i] - steady[i]);
        std::nth_element(differences.begin(), differences.begin() + 10, differences.end());
        return differences[10];
    };
    const std::int64_t own_cost = median_difference(0);
    const std::int64_t bound = error_bound();
    EXPECT_GE(own_cost, -bound) << "a recorded call shorter than the steady_clock reads inside it";
    for (const std::int64_t length : {1'000, 100'000, 2'000'000}) {
        const std::int64_t difference = median_difference(length);
        EXPECT_LE(std::abs(difference - own_cost), length / 100 + bound)
            << "length " << length << " ns: " << difference << " ns against " << own_cost << " ns for empty calls";
    }
}

// Many calibration points while a thread records: per thread, no interval ends before it starts
// and none starts before the one before it (sequential calls, in completion order).
TEST_F(TscClock, TimesStayMonotonicPerThreadAcrossRecalibrations) {
    TickClock::refresh_always_for_tests(true);
    const std::uint64_t points_before = TickClock::instance().calibration().added;
    std::atomic<bool> recording{true};
    std::thread recorder([&] {
        while (recording.load(std::memory_order_relaxed)) auto r = sp::ProfileManager::profile_region("steps");
    });
    // Calibration points while it records (the hook lifts the 10 ms limit), as the flusher and
    // the queries add them; the conversions at the end then cross 200 segments or more.
    while (sp::ProfileManager::get_region("steps") == nullptr) std::this_thread::yield();
    for (int i = 0; i < 100'000 && TickClock::instance().calibration().added < points_before + 200; ++i) {
        TickClock::instance().refresh();
        volatile int sink = 0;
        for (int spin = 0; spin < 2000; ++spin) sink = spin;
    }
    recording = false;
    recorder.join();
    EXPECT_GE(TickClock::instance().calibration().added, points_before + 200) << "too few recalibrations";
    const sp::HostIntervals iv = sp::ProfileManager::get_region("steps")->get_intervals();
    ASSERT_GT(iv.start_times.size(), 0u);
    for (std::size_t i = 0; i < iv.start_times.size(); ++i) {
        ASSERT_LE(iv.start_times[i], iv.end_times[i]) << i;
        if (i > 0) ASSERT_LE(iv.start_times[i - 1], iv.start_times[i]) << i;
    }
}

// A run converts in one pass where it lies on one segment of the map, value by value where it
// crosses calibration points or starts before the first: both give the same nanoseconds, so a
// time does not depend on which run it was read in.
TEST_F(TscClock, ARunConvertsAsItsTicksDoOneByOne) {
    TickClock& clock = TickClock::instance();
    TickClock::refresh_always_for_tests(true);
    std::vector<std::int64_t> ticks;
    for (int segment = 0; segment < 20; ++segment) {
        for (int i = 0; i < 100; ++i) ticks.push_back(sp::detail::read_ticks());
        clock.refresh();
    }
    const std::int64_t first = ticks.front();
    ticks.push_back(first - 1'000'000'000);  // before setup()
    std::vector<std::int64_t> together(ticks.size());
    clock.to_ns(ticks.data(), together.data(), ticks.size());
    std::vector<std::int64_t> alone(ticks.size());
    for (std::size_t i = 0; i < ticks.size(); ++i) alone[i] = clock.to_ns(ticks[i]);
    EXPECT_EQ(together, alone);
    EXPECT_TRUE(std::is_sorted(together.begin(), together.end() - 1));
    EXPECT_LT(together.back(), together.front());
    // Within one segment: the run of the first 100 ticks, each as its own run.
    std::vector<std::int64_t> head(100);
    clock.to_ns(ticks.data(), head.data(), head.size());
    EXPECT_TRUE(std::equal(head.begin(), head.end(), alone.begin()));
}

TEST(TscClockFallback, AnUnusableCounterMeansSteadyClockAndOneWarning) {
    TickClock::force_unusable_for_tests("no invariant counter (test)");
    ::testing::internal::CaptureStderr();
    sp::ProfileManager::setup({.flush_to_disk = false, .clock = sp::Clock::tsc});
    const std::string err = ::testing::internal::GetCapturedStderr();
    TickClock::force_unusable_for_tests(nullptr);
    EXPECT_NE(err.find("clock=tsc: no invariant counter (test); scopes read steady_clock"), std::string::npos) << err;
    EXPECT_FALSE(TickClock::instance().active());
    const std::int64_t before = sp::detail::now_ns();
    { auto r = sp::ProfileManager::profile_region("fallback"); }
    const std::int64_t after = sp::detail::now_ns();
    const sp::HostIntervals iv = sp::ProfileManager::get_region("fallback")->get_intervals();
    ASSERT_EQ(iv.start_times.size(), 1u);
    EXPECT_LE(before, iv.start_times[0]);
    EXPECT_LE(iv.end_times[0], after);
    sp::ProfileManager::setup({.flush_to_disk = false});
}
