// Compiled with SCOPE_PROFILER_DISABLE: the macros expand to nothing, the types still compile
// and are inert, and the library (built without the definition) still works for what is called.
#include "test_support.hpp"

#ifndef SCOPE_PROFILER_DISABLE
#error "this test must be compiled with SCOPE_PROFILER_DISABLE"
#endif

namespace {

int twice(int x) {
    SCOPE_PROFILE_FUNCTION();
    return 2 * x;
}

TEST(CompiledOut, MacrosAndScopesRecordNothingWhileProfilingIsOn) {
    sp::ProfileManager::setup({.flush_to_disk = false});
    {
        SCOPE_PROFILE_REGION("macro"); SCOPE_PROFILE_REGION("macro2");
        auto r = sp::ProfileManager::profile_region("by_name");
        sp::RegionScope s(sp::ProfileManager::region("by_handle"));
        EXPECT_EQ(sp::ProfileManager::profile("wrapped", twice)(4), 8);
    }
    EXPECT_EQ(sp::ProfileManager::get_region("macro"), nullptr);
    EXPECT_EQ(sp::ProfileManager::get_region("twice"), nullptr);
    EXPECT_EQ(calls_of("by_name"), 0u);
    EXPECT_EQ(calls_of("by_handle"), 0u);
    EXPECT_EQ(calls_of("wrapped"), 0u);
}

}  // namespace
