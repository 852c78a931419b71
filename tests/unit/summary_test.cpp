#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "summary.hpp"
#include "test_support.hpp"

namespace {

using sp::detail::format_seconds;

TEST(FormatSeconds, PrintsLikePythonsRepr) {
    EXPECT_EQ(format_seconds(0.0), "0.0");
    EXPECT_EQ(format_seconds(1.0), "1.0");
    EXPECT_EQ(format_seconds(0.001503709), "0.001503709");
    EXPECT_EQ(format_seconds(3.832e-06), "3.832e-06");
    EXPECT_EQ(format_seconds(12.5), "12.5");
}

TEST(Summary, FinalizePrintsThePythonBlockPerRegionInFirstUseOrder) {
    sp::ProfileManager::setup({.flush_to_disk = false});
    for (int i = 0; i < 3; ++i) auto r = sp::ProfileManager::profile_region("second");
    { auto r = sp::ProfileManager::profile_region("first"); }
    const sp::Stats second = sp::ProfileManager::get_region("second")->host_stats();

    ::testing::internal::CaptureStdout();
    sp::ProfileManager::finalize();
    const std::string out = ::testing::internal::GetCapturedStdout();

    std::ostringstream expected;
    expected << "Region: second\n"
             << "  Total Calls : 3\n"
             << "  Total Time  : " << format_seconds(second.total / 1e9) << " s\n"
             << "  Avg Time    : " << format_seconds(second.mean / 1e9) << " s\n"
             << "  Min Time    : " << format_seconds(second.min / 1e9) << " s\n"
             << "  Max Time    : " << format_seconds(second.max / 1e9) << " s\n"
             << "  Std Dev     : " << format_seconds(second.stddev / 1e9) << " s\n"
             << "  P50 Time    : " << format_seconds(second.p50 / 1e9) << " s\n"
             << "  P95 Time    : " << format_seconds(second.p95 / 1e9) << " s\n"
             << "  P99 Time    : " << format_seconds(second.p99 / 1e9) << " s\n"
             << "----------------------------------------\n"
             << "Region: first\n"
             << "  Total Calls : 1\n";
    EXPECT_EQ(out.substr(0, expected.str().size()), expected.str()) << out;
}

TEST(Summary, CountOnlySessionsPrintCallsOnly) {
    sp::ProfileManager::setup({.time_trace = false, .flush_to_disk = false});
    for (int i = 0; i < 5; ++i) auto r = sp::ProfileManager::profile_region("counted");
    ::testing::internal::CaptureStdout();
    sp::ProfileManager::finalize();
    EXPECT_EQ(::testing::internal::GetCapturedStdout(),
              "Region: counted\n  Total Calls : 5\n----------------------------------------\n");
}

TEST(Summary, FinalizeWithoutVerbosePrintsNothing) {
    sp::ProfileManager::setup({.flush_to_disk = false});
    { auto r = sp::ProfileManager::profile_region("quiet"); }
    ::testing::internal::CaptureStdout();
    sp::ProfileManager::finalize(false);
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
}

TEST(Summary, TheTextWriterWritesGivenSummaries) {
    std::ostringstream out;
    sp::detail::RegionSummary r{.name = "w", .calls = 2, .timed = true,
                                .host = {.count = 2, .total = 3000000000, .mean = 1.5e9,
                                         .min = 1000000000, .max = 2000000000, .stddev = 5e8,
                                         .p50 = 1.5e9, .p95 = 1.95e9, .p99 = 1.99e9}};
    sp::detail::TextSummaryWriter(out).write({&r, 1});
    EXPECT_EQ(out.str(),
              "Region: w\n  Total Calls : 2\n  Total Time  : 3.0 s\n  Avg Time    : 1.5 s\n"
              "  Min Time    : 1.0 s\n  Max Time    : 2.0 s\n  Std Dev     : 0.5 s\n"
              "  P50 Time    : 1.5 s\n  P95 Time    : 1.95 s\n  P99 Time    : 1.99 s\n"
              "----------------------------------------\n");
}

}  // namespace
