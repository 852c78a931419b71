// The library's messages: one line each, "scope_profiler: " first, and SCOPE_PROFILER_LOG_LEVEL
// choosing which levels are printed (a bad value said once, everything then printed).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "diagnostics.hpp"
#include "scope_profiler/scope_profiler.hpp"

namespace sp = scope_profiler;
using sp::detail::LogLevel;

namespace {

class Diagnostics : public ::testing::Test {
protected:
    void TearDown() override {
        ::unsetenv("SCOPE_PROFILER_LOG_LEVEL");
        sp::detail::reread_log_level_for_tests();
    }

    /// What the three levels print with SCOPE_PROFILER_LOG_LEVEL = `level` (nullptr: unset).
    static std::string printed(const char* level) {
        if (level != nullptr)
            ::setenv("SCOPE_PROFILER_LOG_LEVEL", level, 1);
        else
            ::unsetenv("SCOPE_PROFILER_LOG_LEVEL");
        sp::detail::reread_log_level_for_tests();
        ::testing::internal::CaptureStderr();
        sp::detail::log(LogLevel::error, "E");
        sp::detail::log(LogLevel::warning, "W");
        sp::detail::logf(LogLevel::info, "I %d", 3);
        return ::testing::internal::GetCapturedStderr();
    }
};

TEST_F(Diagnostics, TheLevelChoosesWhatIsPrinted) {
    const std::string all = "scope_profiler: error: E\nscope_profiler: warning: W\nscope_profiler: I 3\n";
    EXPECT_EQ(printed(nullptr), all);
    EXPECT_EQ(printed("info"), all);
    EXPECT_EQ(printed("WARNING"), "scope_profiler: error: E\nscope_profiler: warning: W\n");
    EXPECT_EQ(printed("error"), "scope_profiler: error: E\n");
}

TEST_F(Diagnostics, ABadLevelIsSaidOnceAndEverythingIsPrinted) {
    const std::string out = printed("loud");
    EXPECT_EQ(out.rfind("scope_profiler: error: SCOPE_PROFILER_LOG_LEVEL='loud' is none of error, warning, info", 0), 0u)
        << out;
    EXPECT_NE(out.find("scope_profiler: I 3\n"), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4) << out;
}

TEST_F(Diagnostics, AMessageIsOneLine) {
    ::testing::internal::CaptureStderr();
    sp::detail::log(LogLevel::warning, "two\nlines\n");
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "scope_profiler: warning: two lines\n");
}

// The library's own warnings go through it: at level error, misuse says nothing.
TEST_F(Diagnostics, TheLibrarysWarningsFollowTheLevel) {
    ::setenv("SCOPE_PROFILER_LOG_LEVEL", "error", 1);
    sp::detail::reread_log_level_for_tests();
    sp::ProfileManager::setup({.flush_to_disk = false});
    sp::ProfileManager::finalize(false);
    ::testing::internal::CaptureStderr();
    sp::ProfileManager::finalize(false);  // called again: a warning
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    ::unsetenv("SCOPE_PROFILER_LOG_LEVEL");
    sp::detail::reread_log_level_for_tests();
    ::testing::internal::CaptureStderr();
    sp::ProfileManager::finalize(false);
    EXPECT_NE(::testing::internal::GetCapturedStderr().find("scope_profiler: warning: finalize() called again"),
              std::string::npos);
}

}  // namespace
