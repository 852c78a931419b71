#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using Regions = Session;

int twice(int x) { return 2 * x; }

std::string function_with_macro() {
    SCOPE_PROFILE_FUNCTION();
    return "done";
}

long fib(int n) {
    auto r = sp::ProfileManager::profile_region("fib");
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

TEST_F(Regions, AScopeRecordsOneIntervalInsideItsLifetime) {
    const std::int64_t before = sp::detail::now_ns();
    { auto r = sp::ProfileManager::profile_region("work"); }
    const std::int64_t after = sp::detail::now_ns();

    const sp::Region* region = sp::ProfileManager::get_region("work");
    ASSERT_NE(region, nullptr);
    EXPECT_EQ(region->name(), "work");
    EXPECT_EQ(region->num_calls(), 1u);
    const sp::HostIntervals iv = region->get_intervals();
    ASSERT_EQ(iv.start_times.size(), 1u);
    EXPECT_LE(before, iv.start_times[0]);
    EXPECT_LE(iv.start_times[0], iv.end_times[0]);
    EXPECT_LE(iv.end_times[0], after);
    EXPECT_EQ(region->get_durations(), std::vector<std::int64_t>{iv.end_times[0] - iv.start_times[0]});
}

TEST_F(Regions, DecoratorAndScopeOfOneNameShareOneRegion) {
    auto compute_batch = sp::ProfileManager::profile("compute", [](int chunks) {
        for (int i = 0; i < chunks; ++i) auto r = sp::ProfileManager::profile_region("compute");
    });
    compute_batch(3);
    compute_batch(2);
    EXPECT_EQ(calls_of("compute"), 2u + 5u);
    EXPECT_EQ(&compute_batch.region(), sp::ProfileManager::get_region("compute"));
    EXPECT_EQ(sp::ProfileManager::get_all_regions().size(), 1u);
}

TEST_F(Regions, TheSameNameFromSeveralCallSitesAccumulates) {
    { auto r = sp::ProfileManager::profile_region("io"); }
    { SCOPE_PROFILE_REGION("io"); }
    sp::Region& handle = sp::ProfileManager::region("io");
    { sp::RegionScope s(handle); }
    { auto r = sp::ProfileManager::profile_region(handle); }
    EXPECT_EQ(&handle, sp::ProfileManager::get_region("io"));
    EXPECT_EQ(handle.num_calls(), 4u);
}

TEST_F(Regions, TheDecoratorForwardsArgumentsAndResults) {
    auto timed_twice = sp::ProfileManager::profile("twice", twice);
    EXPECT_EQ(timed_twice(21), 42);

    auto take = sp::ProfileManager::profile("take", [](std::unique_ptr<int> p) { return *p + 1; });
    EXPECT_EQ(take(std::make_unique<int>(1)), 2);

    int value = 5;
    auto ref = sp::ProfileManager::profile("ref", [&value]() -> int& { return value; });
    ref() = 9;
    EXPECT_EQ(value, 9);

    const auto const_wrapper = sp::ProfileManager::profile("const", twice);
    EXPECT_EQ(const_wrapper(1), 2);
    EXPECT_EQ(calls_of("twice") + calls_of("take") + calls_of("ref") + calls_of("const"), 4u);
}

TEST_F(Regions, TheFunctionMacroNamesTheRegionAfterTheFunction) {
    EXPECT_EQ(function_with_macro(), "done");
    EXPECT_EQ(function_with_macro(), "done");
    EXPECT_EQ(calls_of("function_with_macro"), 2u);
}

TEST_F(Regions, TwoMacrosOnOneLineDoNotCollide) {
    {
        SCOPE_PROFILE_REGION("left"); SCOPE_PROFILE_REGION("right");  // clang-format off
    }
    EXPECT_EQ(calls_of("left"), 1u);
    EXPECT_EQ(calls_of("right"), 1u);
}

TEST_F(Regions, NestedRegionsEachRecordTheirOwnInterval) {
    {
        auto outer = sp::ProfileManager::profile_region("outer");
        for (int i = 0; i < 3; ++i) auto inner = sp::ProfileManager::profile_region("inner");
    }
    const auto outer = sp::ProfileManager::get_region("outer")->get_intervals();
    const auto inner = sp::ProfileManager::get_region("inner")->get_intervals();
    ASSERT_EQ(outer.start_times.size(), 1u);
    ASSERT_EQ(inner.start_times.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_LE(outer.start_times[0], inner.start_times[i]);
        EXPECT_LE(inner.end_times[i], outer.end_times[0]);
        if (i > 0) EXPECT_LE(inner.end_times[i - 1], inner.start_times[i]);
    }
}

TEST_F(Regions, RecursionGivesEveryReentryItsOwnInterval) {
    EXPECT_EQ(fib(10), 55);
    const sp::Region* region = sp::ProfileManager::get_region("fib");
    EXPECT_EQ(region->num_calls(), 177u);  // calls of fib(10): 2 * fib(11) - 1
    const auto iv = region->get_intervals();
    // Completion order: the outermost call, which contains every other, ends last.
    EXPECT_EQ(iv.start_times.back(), *std::min_element(iv.start_times.begin(), iv.start_times.end()));
    EXPECT_EQ(iv.end_times.back(), *std::max_element(iv.end_times.begin(), iv.end_times.end()));
}

TEST_F(Regions, GetRegionIsNullForANameNotUsedInThisSession) {
    EXPECT_EQ(sp::ProfileManager::get_region("never"), nullptr);
    EXPECT_TRUE(sp::ProfileManager::get_all_regions().empty());
}

TEST_F(Regions, GetAllRegionsListsRegionsInFirstUseOrder) {
    auto solver = sp::ProfileManager::profile("solver", twice);  // listed when the wrapper is made
    { auto r = sp::ProfileManager::profile_region("b"); }
    { auto r = sp::ProfileManager::profile_region("a"); }
    solver(1);
    { auto r = sp::ProfileManager::profile_region("b"); }
    std::vector<std::string> names;
    for (const auto& [name, region] : sp::ProfileManager::get_all_regions()) {
        EXPECT_EQ(name, region->name());
        names.emplace_back(name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"solver", "b", "a"}));
}

TEST_F(Regions, SetupAgainClearsRegionsAndEarlierHandlesFeedTheNewSession) {
    auto wrapper = sp::ProfileManager::profile("wrapped", twice);
    sp::Region& handle = sp::ProfileManager::region("handle");
    auto macro_site = [] { SCOPE_PROFILE_REGION("macro_site"); };
    wrapper(1);
    { sp::RegionScope s(handle); }
    macro_site();
    EXPECT_EQ(handle.num_calls(), 1u);

    sp::ProfileManager::setup({.flush_to_disk = false});
    EXPECT_TRUE(sp::ProfileManager::get_all_regions().empty());
    EXPECT_EQ(sp::ProfileManager::get_region("wrapped"), nullptr);
    EXPECT_EQ(handle.num_calls(), 0u);
    EXPECT_TRUE(handle.get_durations().empty());

    wrapper(2);
    wrapper(3);
    { sp::RegionScope s(handle); }
    macro_site();
    EXPECT_EQ(calls_of("wrapped"), 2u);
    EXPECT_EQ(calls_of("handle"), 1u);
    EXPECT_EQ(calls_of("macro_site"), 1u);
    EXPECT_EQ(&handle, sp::ProfileManager::get_region("handle"));
}

TEST_F(Regions, NamesAreKeptByteForByte) {
    const std::vector<std::string> names = {"a/b/c", ".", "ünïcødé ✓", std::string("nul\0byte", 8),
                                            "x", "X", "x "};
    for (const auto& name : names) auto r = sp::ProfileManager::profile_region(name);
    for (const auto& name : names) {
        const sp::Region* region = sp::ProfileManager::get_region(name);
        ASSERT_NE(region, nullptr) << name;
        EXPECT_EQ(region->name(), name);
        EXPECT_EQ(region->num_calls(), 1u) << name;
    }
}

TEST_F(Regions, ThousandsOfRegionsAreFoundAgainByName) {
    std::vector<sp::Region*> handles;
    for (int i = 0; i < 5000; ++i) handles.push_back(&sp::ProfileManager::region("r" + std::to_string(i)));
    for (int i = 0; i < 5000; ++i) {
        EXPECT_EQ(&sp::ProfileManager::region("r" + std::to_string(i)), handles[i]);
        auto r = sp::ProfileManager::profile_region("r" + std::to_string(i));
    }
    EXPECT_EQ(sp::ProfileManager::get_all_regions().size(), 5000u);
    EXPECT_EQ(calls_of("r4999"), 1u);
}

TEST_F(Regions, BufferedCallsSurviveManyBlocksInOrder) {
    constexpr int kCalls = 5 * static_cast<int>(sp::detail::kBlockCapacity) + 17;
    sp::Region& region = sp::ProfileManager::region("many");
    for (int i = 0; i < kCalls; ++i) sp::RegionScope s(region);
    const auto iv = region.get_intervals();
    ASSERT_EQ(iv.start_times.size(), static_cast<std::size_t>(kCalls));
    EXPECT_EQ(region.num_calls(), static_cast<std::uint64_t>(kCalls));
    EXPECT_TRUE(std::is_sorted(iv.end_times.begin(), iv.end_times.end()));
    for (std::size_t i = 1; i < iv.start_times.size(); ++i) EXPECT_LE(iv.end_times[i - 1], iv.start_times[i]);
}

TEST_F(Regions, DataStaysQueryableAfterFinalizeAndLaterScopesRecordNothing) {
    sp::Region& region = sp::ProfileManager::region("kept");
    { sp::RegionScope s(region); }
    sp::ProfileManager::finalize(false);
    EXPECT_FALSE(sp::ProfileManager::is_active());
    { sp::RegionScope s(region); }
    { auto r = sp::ProfileManager::profile_region("kept"); }
    EXPECT_EQ(sp::ProfileManager::get_region("kept"), &region);
    EXPECT_EQ(region.num_calls(), 1u);
    EXPECT_EQ(region.get_durations().size(), 1u);
}

}  // namespace

namespace {

// Blocks come from 2 MiB chunks that are recycled after setup(): several chunks' worth of
// intervals on two threads, twice, must come back exactly, with no interval of the first
// session leaking into the second.
TEST_F(Regions, RecyclingBlockMemoryAcrossSessionsKeepsEveryInterval) {
    constexpr int kCalls = 300000;  // about 2.3 chunks per thread
    for (int session = 0; session < 2; ++session) {
        sp::ProfileManager::setup({.flush_to_disk = false});
        sp::Region& region = sp::ProfileManager::region("recycled");
        auto work = [&region] {
            for (int i = 0; i < kCalls; ++i) sp::RegionScope s(region);
        };
        std::thread other(work);
        work();
        other.join();
        const sp::HostIntervals iv = region.get_intervals();
        ASSERT_EQ(iv.start_times.size(), 2u * kCalls);
        std::map<std::int32_t, std::int64_t> last_end;  // per thread: intervals follow each other
        for (std::size_t i = 0; i < iv.start_times.size(); ++i) {
            ASSERT_LE(iv.start_times[i], iv.end_times[i]);
            std::int64_t& prev = last_end[iv.thread_ids[i]];
            ASSERT_LE(prev, iv.start_times[i]) << "interval " << i << " of session " << session;
            prev = iv.end_times[i];
        }
        EXPECT_EQ(last_end.size(), 2u);
    }
}

}  // namespace
