// scope-profiler compare: its statistics against values worked out by hand or by brute force,
// and the command on files made with known distributions (a region 10 % slower, one unchanged,
// one 1 % slower with huge noise): verdicts, thresholds, exit codes, determinism, bad input.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "compare.hpp"
#include "compare_stats.hpp"
#include "tools_test_support.hpp"

namespace cli = scope_profiler::cli;
namespace h5 = scope_profiler::detail::h5;
using tools_test::host_region;
using tools_test::run_cli;

namespace {

// ---- the statistics ----

TEST(CompareStats, PercentilesAreNumpys) {
    const std::vector<std::int64_t> v = {10, 20, 30, 40};
    EXPECT_DOUBLE_EQ(cli::sorted_percentile(v, 50), 25);    // numpy.percentile([10,20,30,40], 50)
    EXPECT_DOUBLE_EQ(cli::sorted_percentile(v, 95), 38.5);  // 30 + 0.85 * 10
    EXPECT_DOUBLE_EQ(cli::sorted_percentile({7}, 95), 7);
}

TEST(CompareStats, MannWhitneyMatchesTheNormalApproximationByHand) {
    // No overlap, 5 and 5: U = 25, mean 12.5, variance 5*5*11/12; z = (25 - 12.5 - 0.5) / sd.
    const auto t = cli::mann_whitney({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
    EXPECT_DOUBLE_EQ(t.u, 25);
    EXPECT_DOUBLE_EQ(t.next_larger, 1);
    EXPECT_NEAR(t.z, 12.0 / std::sqrt(25.0 * 11 / 12), 1e-12);
    EXPECT_NEAR(t.p, 0.012185, 1e-6);  // scipy.stats.mannwhitneyu(..., method="asymptotic")
    // Ties: base {1,1,2}, new {2,3,3}. Pooled ranks: 1,1 -> 1.5; 2,2 -> 3.5; 3,3 -> 5.5.
    // R(new) = 3.5 + 5.5 + 5.5 = 14.5, U = 14.5 - 6 = 8.5; ties: 3 runs of 2 -> sum t^3 - t = 18;
    // variance = 9/12 * (7 - 18/30) = 4.8; z = (8.5 - 4.5 - 0.5) / sqrt(4.8).
    const auto tied = cli::mann_whitney({1, 1, 2}, {2, 3, 3});
    EXPECT_DOUBLE_EQ(tied.u, 8.5);
    EXPECT_NEAR(tied.z, 3.5 / std::sqrt(4.8), 1e-12);
    // The same calls on both sides: no evidence either way.
    const auto same = cli::mann_whitney({5, 5, 5}, {5, 5});
    EXPECT_DOUBLE_EQ(same.p, 1);
    EXPECT_DOUBLE_EQ(same.next_larger, 0.5);
}

/// Mean and p95 of many bootstrap draws of `metric`, drawn by bootstrap_draw and by resampling
/// the calls and computing the metric of each resample directly.
std::pair<std::array<double, 2>, std::array<double, 2>> draws(const cli::Sample& sample, cli::Metric metric) {
    constexpr int kDraws = 20'000;
    cli::Random fast(11), slow(12);
    std::vector<double> a, b;
    const std::size_t n = sample.sorted.size();
    for (int i = 0; i < kDraws; ++i) {
        a.push_back(cli::bootstrap_draw(sample, metric, fast));
        std::vector<std::int64_t> resample(n);
        for (auto& v : resample) v = sample.sorted[slow.below(n)];
        b.push_back(cli::metric_of(cli::make_sample(resample, sample.runs), metric));
    }
    auto summary = [](std::vector<double>& d) {
        std::sort(d.begin(), d.end());
        double mean = 0;
        for (const double v : d) mean += v / static_cast<double>(d.size());
        return std::array<double, 2>{mean, d[d.size() * 95 / 100]};
    };
    return {summary(a), summary(b)};
}

// The percentile draws come from order statistics of uniforms, not from resampling: their
// distribution must be the resampled one's. Checked against brute force on 41 skewed calls
// (mean and 95th percentile of 20,000 draws each, within a few standard errors).
TEST(CompareStats, PercentileDrawsFollowTheResampledPercentile) {
    std::vector<std::int64_t> calls;
    for (int i = 0; i < 41; ++i) calls.push_back(1000 + (i * i * 37) % 5000);
    const cli::Sample sample = cli::make_sample(calls, 1);
    for (const cli::Metric metric : {cli::Metric::p50, cli::Metric::p95}) {
        const auto [fast, slow] = draws(sample, metric);
        const double spread = std::max(50.0, std::abs(slow[1] - slow[0]));
        EXPECT_NEAR(fast[0], slow[0], 0.05 * spread) << cli::metric_name(metric);
        EXPECT_NEAR(fast[1], slow[1], 0.1 * spread) << cli::metric_name(metric);
    }
}

// Above kResampledMeanLimit calls the mean is drawn from its normal limit: its spread must be
// the resampled mean's.
TEST(CompareStats, LargeSamplesDrawTheMeanFromItsNormalLimit) {
    std::vector<std::int64_t> calls;
    cli::Random random(3);
    for (std::size_t i = 0; i < cli::kResampledMeanLimit + 1; ++i)
        calls.push_back(static_cast<std::int64_t>(1000 * std::exp(0.5 * random.normal())));
    const cli::Sample sample = cli::make_sample(calls, 1);
    cli::Random draw(4);
    std::vector<double> means;
    for (int i = 0; i < 4000; ++i) means.push_back(cli::bootstrap_draw(sample, cli::Metric::mean, draw));
    double m = 0, v = 0;
    for (const double x : means) m += x / 4000;
    for (const double x : means) v += (x - m) * (x - m) / 4000;
    const double expected_sd = std::sqrt(sample.variance / static_cast<double>(calls.size()));
    EXPECT_NEAR(m, sample.sum / static_cast<double>(calls.size()), 0.1 * expected_sd);
    EXPECT_NEAR(std::sqrt(v), expected_sd, 0.05 * expected_sd);
}

TEST(CompareStats, TheSameSeedGivesTheSameInterval) {
    const cli::Sample a = cli::make_sample({100, 110, 120, 130, 140, 150, 160}, 1);
    const cli::Sample b = cli::make_sample({105, 118, 125, 140, 150, 155, 170}, 1);
    cli::Random r1(cli::region_seed(7, "x", false)), r2(cli::region_seed(7, "x", false));
    const auto i1 = cli::bootstrap_ratio(a, b, cli::Metric::p50, 0.95, 500, r1);
    const auto i2 = cli::bootstrap_ratio(a, b, cli::Metric::p50, 0.95, 500, r2);
    EXPECT_EQ(i1.low, i2.low);
    EXPECT_EQ(i1.high, i2.high);
    EXPECT_NE(cli::region_seed(7, "x", false), cli::region_seed(7, "x", true));
    EXPECT_NE(cli::region_seed(7, "x", false), cli::region_seed(8, "x", false));
}

// ---- the command ----

/// n durations, lognormal around `median` ns with shape `sigma`, as back-to-back intervals.
h5::RegionColumns lognormal_region(const std::string& name, std::size_t n, double median, double sigma,
                                   std::uint64_t seed) {
    cli::Random random(seed);
    std::vector<std::int64_t> starts, ends;
    std::int64_t t = 1000;
    for (std::size_t i = 0; i < n; ++i) {
        const auto d = static_cast<std::int64_t>(std::llround(median * std::exp(sigma * random.normal())));
        starts.push_back(t);
        ends.push_back(t + d);
        t += d + 10;
    }
    return host_region(name, starts, ends);
}

/// Neither a regression nor an improvement: within the threshold, or not significant.
bool not_flagged(const nlohmann::json& verdict) {
    return verdict == "unchanged" || verdict == "slower" || verdict == "faster";
}

class Compare : public tools_test::ScratchDir {
protected:
    /// A run of the known distributions; `slowdown` multiplies "slower" (and 1 + (slowdown - 1)
    /// / 10 "noisy"). Each run draws its own noise (seed).
    void write_run(const std::string& name, double slowdown, std::uint64_t seed, bool with_extra) {
        std::vector<h5::RegionColumns> regions = {
            lognormal_region("slower", 1000, 1e5 * slowdown, 0.1, seed),
            lognormal_region("same", 1000, 5e4, 0.1, seed + 1),
            lognormal_region("noisy", 1000, 2e5 * (1 + (slowdown - 1) / 10), 1.0, seed + 2),
            lognormal_region("rare", 3, 1e6 * slowdown, 0.01, seed + 3),
        };
        regions.push_back(lognormal_region(with_extra ? "only_new" : "only_base", 20, 1e4, 0.1, seed + 4));
        tools_test::write_ours(file(name), {{0, regions}});
    }

    nlohmann::json verdicts(const std::string& json_path) {
        const auto j = nlohmann::json::parse(tools_test::read_text(json_path));
        nlohmann::json out;
        for (const auto& r : j["regions"]) out[r["name"].get<std::string>()] = r["verdict"];
        return out;
    }
};

TEST_F(Compare, FlagsTheSlowerRegionAndNotTheUnchangedOrTheNoisyOne) {
    write_run("base.h5", 1.0, 100, false);
    write_run("new.h5", 1.10, 200, true);
    const auto run = run_cli({"compare", file("base.h5"), file("new.h5"), "--json", file("c.json"),
                              "--chart", file("c.svg")},
                             dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(run.err, "");
    const auto v = verdicts(file("c.json"));
    EXPECT_EQ(v["slower"], "regression");
    EXPECT_TRUE(not_flagged(v["same"])) << v["same"];
    EXPECT_TRUE(not_flagged(v["noisy"])) << v["noisy"];
    EXPECT_EQ(v["rare"], "too few calls");
    EXPECT_EQ(v["only_base"], "only in base");
    EXPECT_EQ(v["only_new"], "only in new");
    const auto j = nlohmann::json::parse(tools_test::read_text(file("c.json")));
    for (const auto& r : j["regions"]) {
        if (r["name"] != "slower") continue;
        EXPECT_NEAR(r["change"]["p50"].get<double>(), 0.10, 0.02);
        EXPECT_GT(r["interval"]["low"].get<double>(), 1.05);
        EXPECT_LT(r["interval"]["high"].get<double>(), 1.15);
        EXPECT_LT(r["u_test"]["p"].get<double>(), 1e-6);
        EXPECT_EQ(r["base"]["calls"], 1000);
    }
    EXPECT_EQ(j["seed"], 1);
    EXPECT_EQ(j["verdicts"]["regression"], 1);
    // The table says it too, with the seed; the chart names the regions.
    EXPECT_NE(run.out.find("regression"), std::string::npos);
    EXPECT_NE(run.out.find("seed 1"), std::string::npos);
    EXPECT_NE(run.out.find("1 regression,"), std::string::npos) << run.out;
    const std::string svg = tools_test::read_text(file("c.svg"));
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    EXPECT_NE(svg.rfind("</svg>"), std::string::npos);
    EXPECT_NE(svg.find(">slower<"), std::string::npos);
}

TEST_F(Compare, ExitCodesGateOnRegressionsAboveTheThreshold) {
    write_run("base.h5", 1.0, 100, false);
    write_run("new.h5", 1.10, 200, false);
    EXPECT_EQ(run_cli({"compare", file("base.h5"), file("new.h5"), "--fail-on-regression"}, dir_).code, 1);
    // 10 % is within a 15 % threshold: significant, but not a regression.
    const auto lenient = run_cli({"compare", file("base.h5"), file("new.h5"), "--fail-on-regression",
                                  "--threshold", "15", "--json", file("c.json")},
                                 dir_);
    EXPECT_EQ(lenient.code, 0) << lenient.out;
    EXPECT_EQ(verdicts(file("c.json"))["slower"], "slower");
    // The other way round it is an improvement, and nothing fails.
    const auto back = run_cli({"compare", file("new.h5"), file("base.h5"), "--fail-on-regression", "--json",
                               file("c.json")},
                              dir_);
    EXPECT_EQ(back.code, 0);
    EXPECT_EQ(verdicts(file("c.json"))["slower"], "improvement");
    // --include leaves the slower region out: nothing to fail on.
    EXPECT_EQ(run_cli({"compare", file("base.h5"), file("new.h5"), "--fail-on-regression", "--exclude", "^slower$"},
                      dir_)
                  .code,
              0);
}

TEST_F(Compare, EveryMetricJudgesItsOwnNumber) {
    write_run("base.h5", 1.0, 100, false);
    write_run("new.h5", 1.10, 200, false);
    for (const std::string metric : {"mean", "p50", "p95", "total"}) {
        const auto run = run_cli({"compare", file("base.h5"), file("new.h5"), "--metric", metric, "--json",
                                  file("c.json")},
                                 dir_);
        ASSERT_EQ(run.code, 0) << metric << run.err;
        const auto j = nlohmann::json::parse(tools_test::read_text(file("c.json")));
        EXPECT_EQ(j["metric"], metric);
        for (const auto& r : j["regions"]) {
            if (r["name"] == "slower") {
                EXPECT_EQ(r["verdict"], "regression") << metric;
                const double ratio = r["new"][metric + "_ns"].get<double>() / r["base"][metric + "_ns"].get<double>();
                EXPECT_DOUBLE_EQ(r["ratio"].get<double>(), ratio) << metric;
            }
            // Unchanged: at 95 % confidence, "slower" or "faster" (within the threshold) one time
            // in twenty, which these seeds give for the mean and the total; never flagged.
            if (r["name"] == "same" || r["name"] == "noisy") EXPECT_TRUE(not_flagged(r["verdict"])) << metric;
        }
    }
}

TEST_F(Compare, SeveralRunsPerSideArePooled) {
    write_run("a1.h5", 1.0, 100, false);
    write_run("a2.h5", 1.0, 300, false);
    write_run("b1.h5", 1.10, 200, false);
    write_run("b2.h5", 1.10, 400, false);
    const auto run = run_cli({"compare", "--base", file("a1.h5"), file("a2.h5"), "--new", file("b1.h5"),
                              file("b2.h5"), "--json", file("c.json")},
                             dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    const auto j = nlohmann::json::parse(tools_test::read_text(file("c.json")));
    for (const auto& r : j["regions"]) {
        if (r["name"] != "slower") continue;
        EXPECT_EQ(r["base"]["calls"], 2000);
        EXPECT_EQ(r["base"]["runs"], 2);
        // The total is per run: two runs of 1000 calls are not twice as long as one.
        EXPECT_NEAR(r["base"]["total_ns"].get<double>(), 1000 * r["base"]["mean_ns"].get<double>(), 1);
        EXPECT_EQ(r["verdict"], "regression");
        // "rare" has 6 calls a side now: judged, not "too few calls".
    }
    EXPECT_EQ(verdicts(file("c.json"))["rare"], "regression");
}

TEST_F(Compare, TheSameInputsGiveTheSameOutputAndTheSeedIsTheirs) {
    write_run("base.h5", 1.0, 100, false);
    write_run("new.h5", 1.02, 200, false);
    const auto first = run_cli({"compare", file("base.h5"), file("new.h5"), "--json", file("1.json")}, dir_);
    const auto second = run_cli({"compare", file("base.h5"), file("new.h5"), "--json", file("2.json")}, dir_);
    EXPECT_EQ(first.out, second.out);
    EXPECT_EQ(tools_test::read_text(file("1.json")), tools_test::read_text(file("2.json")));
    // A region's interval does not depend on which other regions are compared.
    run_cli({"compare", file("base.h5"), file("new.h5"), "--include", "^slower$", "--json", file("3.json")}, dir_);
    auto interval_of = [&](const std::string& path) {
        const auto j = nlohmann::json::parse(tools_test::read_text(path));
        for (const auto& r : j["regions"])
            if (r["name"] == "slower") return r["interval"];
        return nlohmann::json();
    };
    EXPECT_EQ(interval_of(file("1.json")), interval_of(file("3.json")));
    const auto other = run_cli({"compare", file("base.h5"), file("new.h5"), "--seed", "2", "--json", file("4.json")}, dir_);
    EXPECT_NE(other.out.find("seed 2"), std::string::npos);
    EXPECT_NE(interval_of(file("1.json")), interval_of(file("4.json")));
}

// compare and report compute a region's mean and percentiles the same way: on the same file
// they agree to the bit.
TEST_F(Compare, ItsNumbersAreReportsToTheBit) {
    write_run("base.h5", 1.0, 100, false);
    ASSERT_EQ(run_cli({"report", file("base.h5"), "--json", file("r.json")}, dir_).code, 0);
    ASSERT_EQ(run_cli({"compare", file("base.h5"), file("base.h5"), "--json", file("c.json")}, dir_).code, 0);
    const auto report = nlohmann::json::parse(tools_test::read_text(file("r.json")));
    const auto compared = nlohmann::json::parse(tools_test::read_text(file("c.json")));
    const auto& regions = report["files"][0]["region_statistics"];
    std::size_t checked = 0;
    for (const auto& r : compared["regions"]) {
        const auto& stats = regions[r["name"].get<std::string>()];
        EXPECT_EQ(r["base"]["calls"], stats["count"]);
        EXPECT_EQ(r["base"]["mean_ns"].get<double>(), stats["average_duration_ns"].get<double>()) << r["name"];
        EXPECT_EQ(r["base"]["p50_ns"].get<double>(), stats["p50_duration_ns"].get<double>()) << r["name"];
        EXPECT_EQ(r["base"]["p95_ns"].get<double>(), stats["p95_duration_ns"].get<double>()) << r["name"];
        EXPECT_EQ(r["base"]["total_ns"].get<double>(), stats["total_duration_ns"].get<double>()) << r["name"];
        // A file against itself: no change, nothing flagged.
        EXPECT_EQ(r["ratio"], 1.0);
        EXPECT_EQ(r["verdict"], r["name"] == "rare" ? "too few calls" : "unchanged") << r["name"];
        ++checked;
    }
    EXPECT_EQ(checked, 5u);
}

TEST_F(Compare, BadInputExitsWithTwoAndOneLine) {
    write_run("base.h5", 1.0, 100, false);
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"compare", file("base.h5")}, "two files"},
        {{"compare", file("base.h5"), file("missing.h5")}, "missing.h5"},
        {{"compare", "--base", file("base.h5")}, "both sides"},
        {{"compare", file("base.h5"), file("base.h5"), "--base", file("base.h5")}, "not both"},
        {{"compare", file("base.h5"), file("base.h5"), "--threshold", "-1"}, "--threshold"},
        {{"compare", file("base.h5"), file("base.h5"), "--confidence", "2"}, "--confidence"},
        {{"compare", file("base.h5"), file("base.h5"), "--metric", "p42"}, "--metric"},
        {{"compare", file("base.h5"), file("base.h5"), "--ranks", "7"}, "rank"},
        {{"compare", file("base.h5"), file("base.h5"), "--json", file("base.h5")}, "base.h5"},
    };
    for (const auto& [args, expected] : cases) {
        const auto run = run_cli(args, dir_);
        EXPECT_EQ(run.code, 2) << expected << ": " << run.err;
        EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
        EXPECT_NE(run.err.find(expected), std::string::npos) << run.err;
        EXPECT_EQ(run.out, "") << expected;
    }
}

}  // namespace
