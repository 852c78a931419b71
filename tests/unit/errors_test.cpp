#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace {

using Errors = Session;

// Death tests re-run this binary for one test, so they see a process that never called setup().
class FreshProcess : public ::testing::Test {
protected:
    void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

void expect_invalid_name(void (*f)()) {
    try {
        f();
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("must not be empty"), std::string::npos) << e.what();
    }
}

TEST_F(Errors, AnEmptyRegionNameThrowsInvalidArgumentWithTheReason) {
    expect_invalid_name([] { (void)sp::ProfileManager::profile_region(""); });
    expect_invalid_name([] { (void)sp::ProfileManager::region(""); });
    expect_invalid_name([] { (void)sp::ProfileManager::profile("", [] {}); });
    expect_invalid_name([] { SCOPE_PROFILE_REGION(""); });
    EXPECT_TRUE(sp::ProfileManager::get_all_regions().empty());
}

TEST_F(FreshProcess, FinalizeBeforeSetupPrintsAMessageAndDoesNotCrash) {
    EXPECT_EXIT(
        {
            sp::ProfileManager::finalize();
            std::exit(sp::ProfileManager::is_active() ? 1 : 0);
        },
        ::testing::ExitedWithCode(0), "finalize\\(\\) called before setup\\(\\)");
}

TEST_F(FreshProcess, RegionsBeforeSetupAreNoOps) {
    EXPECT_EXIT(
        {
            { auto r = sp::ProfileManager::profile_region("early"); }
            { SCOPE_PROFILE_REGION("early_macro"); }
            const bool none = sp::ProfileManager::get_all_regions().empty() &&
                              sp::ProfileManager::region("early").num_calls() == 0;
            std::exit(none ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
}

TEST_F(Errors, FinalizeTwicePrintsAMessageAndKeepsTheData) {
    { auto r = sp::ProfileManager::profile_region("once"); }
    sp::ProfileManager::finalize(false);
    ::testing::internal::CaptureStderr();
    ::testing::internal::CaptureStdout();
    sp::ProfileManager::finalize();
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");  // no second summary
    EXPECT_NE(err.find("finalize() called again"), std::string::npos) << err;
    EXPECT_EQ(calls_of("once"), 1u);
}

TEST_F(Errors, AScopeStillOpenAtFinalizeIsReportedAndNotCounted) {
    { auto r = sp::ProfileManager::profile_region("open"); }
    ::testing::internal::CaptureStderr();
    {
        auto r = sp::ProfileManager::profile_region("open");
        sp::ProfileManager::finalize(false);
    }
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("region 'open' is still open at finalize()"), std::string::npos) << err;
    EXPECT_EQ(calls_of("open"), 1u);
    EXPECT_EQ(sp::ProfileManager::get_region("open")->get_durations().size(), 1u);
}

TEST_F(Errors, AScopeOpenOnAnotherThreadAtFinalizeIsReported) {
    std::atomic<bool> opened{false};
    std::atomic<bool> release{false};
    std::thread worker([&] {
        auto r = sp::ProfileManager::profile_region("worker_open");
        opened = true;
        while (!release) std::this_thread::yield();
    });
    while (!opened) std::this_thread::yield();
    ::testing::internal::CaptureStderr();
    sp::ProfileManager::finalize(false);
    const std::string err = ::testing::internal::GetCapturedStderr();
    release = true;
    worker.join();
    EXPECT_NE(err.find("region 'worker_open' is still open"), std::string::npos) << err;
    EXPECT_EQ(calls_of("worker_open"), 0u);
}

TEST_F(Errors, AnExceptionThrownThroughAScopeStillClosesIt) {
    auto throws = sp::ProfileManager::profile("throws", [] { throw std::runtime_error("boom"); });
    EXPECT_THROW(throws(), std::runtime_error);
    try {
        auto r = sp::ProfileManager::profile_region("scope_throws");
        throw std::runtime_error("boom");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(calls_of("throws"), 1u);
    EXPECT_EQ(calls_of("scope_throws"), 1u);
    ::testing::internal::CaptureStderr();
    sp::ProfileManager::finalize(false);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // nothing left open
}

TEST_F(Errors, ABadConfigAtSetupLosesNoRecordedData) {
    { auto r = sp::ProfileManager::profile_region("precious"); }
    EXPECT_THROW(sp::ProfileManager::setup({.buffer_limit = 0}), std::invalid_argument);
    EXPECT_TRUE(sp::ProfileManager::is_active());
    EXPECT_EQ(calls_of("precious"), 1u);
    { auto r = sp::ProfileManager::profile_region("precious"); }
    EXPECT_EQ(calls_of("precious"), 2u);
}

}  // namespace
