#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using Threads = Session;

TEST_F(Threads, EachIntervalKnowsItsThread) {
    constexpr int kThreads = 4;
    constexpr int kCalls = 100;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([] {
            for (int i = 0; i < kCalls; ++i) auto r = sp::ProfileManager::profile_region("shared");
        });
    }
    for (auto& t : threads) t.join();  // the threads are gone; their data stays

    const sp::HostIntervals iv = sp::ProfileManager::get_region("shared")->get_intervals();
    ASSERT_EQ(iv.thread_ids.size(), static_cast<std::size_t>(kThreads * kCalls));
    std::map<std::int32_t, int> per_thread;
    for (const std::int32_t id : iv.thread_ids) ++per_thread[id];
    ASSERT_EQ(per_thread.size(), static_cast<std::size_t>(kThreads));
    for (const auto& [id, n] : per_thread) EXPECT_EQ(n, kCalls) << "thread " << id;
    EXPECT_TRUE(std::is_sorted(iv.end_times.begin(), iv.end_times.end()));  // one completion order
}

TEST_F(Threads, AQueryWhileOtherThreadsRecordSeesConsistentData) {
    constexpr int kThreads = 3;
    constexpr int kCalls = 20000;
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    sp::Region& region = sp::ProfileManager::region("live");
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kCalls; ++i) sp::RegionScope s(region);
            ++done;
        });
    }
    std::uint64_t last = 0;
    while (done.load() < kThreads) {
        const std::uint64_t calls = region.num_calls();
        EXPECT_GE(calls, last);  // never goes back
        last = calls;
        const sp::HostIntervals iv = region.get_intervals();
        ASSERT_EQ(iv.start_times.size(), iv.end_times.size());
        ASSERT_EQ(iv.start_times.size(), iv.thread_ids.size());
        for (std::size_t i = 0; i < iv.start_times.size(); ++i) ASSERT_LE(iv.start_times[i], iv.end_times[i]);
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(region.num_calls(), static_cast<std::uint64_t>(kThreads) * kCalls);
    EXPECT_EQ(region.get_durations().size(), static_cast<std::size_t>(kThreads) * kCalls);
}

TEST_F(Threads, ThreadsFirstUseOfARegionListsItOnce) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([] { auto r = sp::ProfileManager::profile_region("first_use"); });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(sp::ProfileManager::get_all_regions().size(), 1u);
    EXPECT_EQ(calls_of("first_use"), 8u);
}

}  // namespace

namespace {

TEST(SetupWhileRecording, ScopesThatStraddleSetupAreDroppedAndNothingFreedIsTouched) {
    // 4 threads in tight scope loops (a cached handle, a macro, by name, nested) while the main
    // thread calls setup() 100 times, switching between timing and counting. Each setup() frees
    // the old session's recorders, which a thread may have read a moment before: under ASan and
    // TSan (the sanitizer builds run this test too) that was a heap-use-after-free. Every
    // interval of a session started after that session's setup() began.
    constexpr int kThreads = 4;
    constexpr int kSetups = 100;
    std::atomic<bool> stop{false};
    sp::ProfileManager::setup({.flush_to_disk = false});
    sp::Region& handle = sp::ProfileManager::region("handle");
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!stop.load(std::memory_order_relaxed)) {
                switch (t) {
                    case 0: { sp::RegionScope s(handle); } break;
                    case 1: { SCOPE_PROFILE_REGION("macro"); } break;
                    case 2: { auto r = sp::ProfileManager::profile_region("by_name"); } break;
                    default: {
                        sp::RegionScope outer(handle);
                        auto inner = sp::ProfileManager::profile_region("nested");
                    }
                }
            }
        });
    }
    for (int i = 0; i < kSetups; ++i) {
        const auto before = std::chrono::steady_clock::now();
        const std::int64_t began = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       before.time_since_epoch()).count();
        const bool timed = i % 3 != 2;
        sp::ProfileManager::setup({.time_trace = timed, .flush_to_disk = false});
        std::this_thread::yield();
        if (!timed) continue;
        for (const char* name : {"handle", "macro", "by_name", "nested"}) {
            const sp::Region* region = sp::ProfileManager::get_region(name);
            if (region == nullptr) continue;
            const std::vector<std::int64_t> starts = region->get_start_times();
            for (const std::int64_t start : starts)
                ASSERT_GE(start, began) << name << ": a call of an earlier session, setup " << i;
        }
    }
    stop.store(true);
    for (auto& thread : threads) thread.join();

    // And the library is whole afterwards: exact counts in a fresh session.
    sp::ProfileManager::setup({.flush_to_disk = false});
    std::vector<std::thread> counted;
    for (int t = 0; t < kThreads; ++t)
        counted.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) sp::RegionScope s(handle);
        });
    for (auto& thread : counted) thread.join();
    EXPECT_EQ(handle.num_calls(), static_cast<std::uint64_t>(kThreads) * 1000);
    EXPECT_EQ(handle.get_start_times().size(), static_cast<std::size_t>(kThreads) * 1000);
}

}  // namespace
