#include "test_support.hpp"

namespace {

int twice(int x) { return 2 * x; }

void use_every_kind_of_region() {
    { auto r = sp::ProfileManager::profile_region("by_name"); }
    { SCOPE_PROFILE_REGION("by_macro"); }
    { sp::RegionScope s(sp::ProfileManager::region("by_handle")); }
    EXPECT_EQ(sp::ProfileManager::profile("by_wrapper", twice)(2), 4);
}

TEST(Modes, DisabledRecordsNothingAndListsNoRegion) {
    sp::ProfileManager::setup({.profiling_activated = false, .flush_to_disk = false});
    use_every_kind_of_region();
    EXPECT_TRUE(sp::ProfileManager::get_all_regions().empty());
    EXPECT_EQ(sp::ProfileManager::get_region("by_name"), nullptr);
    EXPECT_EQ(sp::ProfileManager::region("by_handle").num_calls(), 0u);
}

TEST(Modes, DisabledStillRejectsAnEmptyName) {
    sp::ProfileManager::setup({.profiling_activated = false, .flush_to_disk = false});
    EXPECT_THROW((void)sp::ProfileManager::profile_region(""), std::invalid_argument);
    EXPECT_THROW({ SCOPE_PROFILE_REGION(""); }, std::invalid_argument);
}

TEST(Modes, CountOnlyCountsCallsAndKeepsNoTimestamps) {
    sp::ProfileManager::setup({.time_trace = false, .flush_to_disk = false});
    for (int i = 0; i < 3; ++i) use_every_kind_of_region();
    for (const char* name : {"by_name", "by_macro", "by_handle", "by_wrapper"}) {
        const sp::Region* region = sp::ProfileManager::get_region(name);
        ASSERT_NE(region, nullptr) << name;
        EXPECT_EQ(region->num_calls(), 3u) << name;
        EXPECT_TRUE(region->get_durations().empty()) << name;
    }
}

TEST(Modes, EachSessionRecordsInItsOwnMode) {
    sp::ProfileManager::setup({.time_trace = false, .flush_to_disk = false});
    use_every_kind_of_region();
    sp::ProfileManager::setup({.flush_to_disk = false});
    use_every_kind_of_region();
    use_every_kind_of_region();
    EXPECT_EQ(calls_of("by_macro"), 2u);
    EXPECT_EQ(sp::ProfileManager::get_region("by_macro")->get_durations().size(), 2u);
    sp::ProfileManager::setup({.profiling_activated = false, .flush_to_disk = false});
    use_every_kind_of_region();
    EXPECT_EQ(calls_of("by_macro"), 0u);
}

TEST(Modes, ACallBelongsToTheSessionItStartedIn) {
    // A scope open across setup() is dropped, whether or not the mode changes.
    for (const bool time_trace : {false, true}) {
        sp::ProfileManager::setup({.time_trace = time_trace, .flush_to_disk = false});
        {
            auto r = sp::ProfileManager::profile_region("straddle");
            sp::ProfileManager::setup({.flush_to_disk = false});
            auto inner = sp::ProfileManager::profile_region("straddle");  // this one is whole
        }
        EXPECT_EQ(calls_of("straddle"), 1u) << "time_trace=" << time_trace;
    }
    // Across finalize() and a new setup(), even after the thread recorded in the new session.
    sp::ProfileManager::setup({.flush_to_disk = false});
    {
        SCOPE_PROFILE_REGION("old");
        sp::ProfileManager::finalize(false);
        sp::ProfileManager::setup({.flush_to_disk = false});
        { SCOPE_PROFILE_REGION("old"); }
    }
    EXPECT_EQ(calls_of("old"), 1u);
    EXPECT_EQ(sp::ProfileManager::get_region("old")->get_durations().size(), 1u);
}

}  // namespace
