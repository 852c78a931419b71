// 8 threads x 200,000 calls across shared and private regions, through every kind of handle:
// nothing lost, nothing counted twice. CI runs this binary under ThreadSanitizer as well.
#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

constexpr int kThreads = 8;
constexpr int kCalls = 200000;

TEST(Stress, EightThreadsLoseNoCall) {
    sp::ProfileManager::setup({.flush_to_disk = false});
    sp::Region& shared_handle = sp::ProfileManager::region("shared_handle");
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([t, &shared_handle] {
            const std::string mine = "private_" + std::to_string(t);
            for (int i = 0; i < kCalls; ++i) {
                SCOPE_PROFILE_REGION("shared_macro");  // cached per call site, all threads
                sp::RegionScope a(shared_handle);
                if (i % 2 == 0) {
                    auto b = sp::ProfileManager::profile_region(mine);  // looked up by name
                } else {
                    auto b = sp::ProfileManager::profile_region("shared_by_name");
                }
            }
        });
    }
    // Query while the threads record: counts only grow.
    std::uint64_t last = 0;
    for (int q = 0; q < 50; ++q) {
        const std::uint64_t now = shared_handle.num_calls();
        EXPECT_GE(now, last);
        last = now;
    }
    for (auto& t : threads) t.join();

    constexpr std::uint64_t kAll = static_cast<std::uint64_t>(kThreads) * kCalls;
    EXPECT_EQ(calls_of("shared_macro"), kAll);
    EXPECT_EQ(calls_of("shared_handle"), kAll);
    EXPECT_EQ(calls_of("shared_by_name"), kAll / 2);
    for (int t = 0; t < kThreads; ++t) {
        const sp::Region* mine = sp::ProfileManager::get_region("private_" + std::to_string(t));
        ASSERT_NE(mine, nullptr);
        EXPECT_EQ(mine->num_calls(), static_cast<std::uint64_t>(kCalls / 2));
        const auto ids = mine->get_thread_ids();
        ASSERT_EQ(ids.size(), static_cast<std::size_t>(kCalls / 2));
        EXPECT_TRUE(std::all_of(ids.begin(), ids.end(), [&](std::int32_t id) { return id == ids[0]; }));
    }
    const sp::HostIntervals iv = shared_handle.get_intervals();
    ASSERT_EQ(iv.start_times.size(), kAll);
    std::map<std::int32_t, std::uint64_t> per_thread;
    for (std::size_t i = 0; i < iv.start_times.size(); ++i) {
        ASSERT_LE(iv.start_times[i], iv.end_times[i]);
        ++per_thread[iv.thread_ids[i]];
    }
    EXPECT_EQ(per_thread.size(), static_cast<std::size_t>(kThreads));
    for (const auto& [id, n] : per_thread) EXPECT_EQ(n, static_cast<std::uint64_t>(kCalls));
    EXPECT_EQ(sp::ProfileManager::get_all_regions().size(), 3u + kThreads);
}

}  // namespace
