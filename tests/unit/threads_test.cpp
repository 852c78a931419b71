#include <algorithm>
#include <atomic>
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
