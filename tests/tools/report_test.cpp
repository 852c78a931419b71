// The report's numbers, computed in-process: statistics against numpy, nesting, filters, sorting,
// and the JSON and CSV writers.

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "filters.hpp"
#include "report.hpp"
#include "tools_test_support.hpp"

namespace cli = scope_profiler::cli;
using tools_test::host_region;

namespace {

cli::DurationStats stats_of(const std::vector<std::int64_t>& values) { return cli::duration_stats(values); }

const cli::RegionReport& region(const std::vector<cli::RegionReport>& regions, const std::string& name) {
    for (const auto& r : regions) {
        if (r.name == name) return r;
    }
    throw std::runtime_error("no region " + name);
}

/// The sample file with its second rank (tools_test::write_sample).
class ReportFile : public tools_test::ScratchDir {
protected:
    void SetUp() override {
        ScratchDir::SetUp();
        tools_test::write_sample(file("run.h5"), true);
    }
    cli::FileReport build(const cli::RegionFilter& filter = {}, const cli::RankSet& ranks = {}) {
        const cli::ProfileFile profile(file("run.h5"));
        return cli::build_report(profile, filter, ranks);
    }
};

}  // namespace

TEST(Percentile, MatchesNumpyLinearInterpolationToTheBit) {
    auto s = stats_of({20, 20, 50});
    EXPECT_EQ(s.p50, 20.0);
    EXPECT_EQ(s.p95, 47.0);
    EXPECT_EQ(s.p99, 49.4);
    s = stats_of({1, 2, 3, 4, 10});
    EXPECT_EQ(s.p50, 3.0);
    EXPECT_EQ(s.p95, 8.799999999999999);
    EXPECT_EQ(s.p99, 9.76);
    s = stats_of({4, 3, 2, 1});
    EXPECT_EQ(s.p50, 2.5);
    EXPECT_EQ(s.p95, 3.8499999999999996);
    EXPECT_EQ(s.p99, 3.9699999999999998);
    s = stats_of({3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5});
    EXPECT_EQ(s.p50, 4.0);
    EXPECT_EQ(s.p95, 7.5);
    EXPECT_EQ(s.p99, 8.700000000000001);
    s = stats_of({7});
    EXPECT_EQ(s.p50, 7.0);
    EXPECT_EQ(s.p99, 7.0);
}

TEST(DurationStats, CountTotalMeanMinMaxAndPopulationStd) {
    const auto s = stats_of({3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5});
    EXPECT_EQ(s.count, 11u);
    EXPECT_EQ(s.total, 44);
    EXPECT_EQ(s.min, 1);
    EXPECT_EQ(s.max, 9);
    EXPECT_DOUBLE_EQ(s.mean, 4.0);
    EXPECT_DOUBLE_EQ(s.std, 2.256304299271065);  // numpy.std, ddof = 0
    EXPECT_EQ(stats_of({}).count, 0u);
}

TEST_F(ReportFile, HostStatisticsPerRegionOverAllRanks) {
    const auto report = build();
    EXPECT_EQ(report.num_ranks, 2);
    const auto& inner = region(report.regions, "inner");
    EXPECT_EQ(inner.host.count, 3u);
    EXPECT_EQ(inner.host.total, 90);
    EXPECT_EQ(inner.host.min, 20);
    EXPECT_EQ(inner.host.max, 50);
    EXPECT_DOUBLE_EQ(inner.host.mean, 30.0);
    EXPECT_DOUBLE_EQ(inner.host.std, 14.142135623730951);
    EXPECT_DOUBLE_EQ(inner.host.p95, 47.0);
    EXPECT_EQ(inner.host.first, 50);  // the call starting first: [0,50) on thread 1
    EXPECT_EQ(inner.host.last, 20);   // the call ending last: [40,60)
    const auto& outer = region(report.regions, "outer");
    EXPECT_EQ(outer.host.count, 2u);
    EXPECT_EQ(outer.host.total, 400);
    EXPECT_DOUBLE_EQ(outer.host.p50, 200.0);
}

TEST_F(ReportFile, PerRankStatistics) {
    const auto report = build();
    ASSERT_EQ(report.ranks.size(), 2u);
    EXPECT_EQ(report.ranks[0].rank, 0);
    EXPECT_EQ(region(report.ranks[0].regions, "outer").host.total, 100);
    EXPECT_EQ(region(report.ranks[1].regions, "outer").host.total, 300);
    EXPECT_EQ(report.ranks[1].regions.size(), 1u);  // "inner" is not on rank 1
}

TEST_F(ReportFile, InclusiveAndSelfTimeFromNestingPerThread) {
    const auto report = build();
    const auto& outer = region(report.ranks[0].regions, "outer");
    EXPECT_EQ(outer.inclusive_ns, 100);
    EXPECT_EQ(outer.self_ns, 60);  // [10,30) and [40,60) are its children; thread 1 is not
    const auto& inner = region(report.regions, "inner");
    EXPECT_EQ(inner.inclusive_ns, 90);
    EXPECT_EQ(inner.self_ns, 90);
    EXPECT_EQ(region(report.regions, "outer").self_ns, 60 + 300);
}

TEST_F(ReportFile, DeviceIntervalsSeparately) {
    const auto report = build();
    const auto& inner = region(report.regions, "inner");
    EXPECT_EQ(inner.device.count, 2u);
    EXPECT_EQ(inner.device.total, 25);
    EXPECT_EQ(inner.device.min, 5);
    EXPECT_EQ(inner.device.max, 20);
    EXPECT_EQ(inner.device_host_fallback, 1u);
    EXPECT_EQ(region(report.regions, "outer").device.count, 0u);
}

TEST_F(ReportFile, ExcludedRegionsStillCountAsChildrenForSelfTime) {
    const auto report = build(cli::RegionFilter({}, {"^inner$"}));
    ASSERT_EQ(report.regions.size(), 1u);
    EXPECT_EQ(report.regions[0].name, "outer");
    EXPECT_EQ(report.regions[0].self_ns, 360);
}

TEST_F(ReportFile, IncludeKeepsOnlyMatchingRegions) {
    const auto report = build(cli::RegionFilter({"nn"}, {}));
    ASSERT_EQ(report.regions.size(), 1u);
    EXPECT_EQ(report.regions[0].name, "inner");
}

TEST_F(ReportFile, RanksChooseWhatIsRead) {
    const auto report = build({}, cli::RankSet("1"));
    ASSERT_EQ(report.ranks.size(), 1u);
    EXPECT_EQ(report.ranks[0].rank, 1);
    ASSERT_EQ(report.regions.size(), 1u);
    EXPECT_EQ(report.regions[0].host.total, 300);
    EXPECT_THROW(build({}, cli::RankSet("5-6")), cli::InputError);
}

TEST_F(ReportFile, SortsByAnyColumn) {
    auto regions = build().regions;
    cli::sort_regions(regions, "total");
    EXPECT_EQ(regions.front().name, "outer");
    cli::sort_regions(regions, "calls");
    EXPECT_EQ(regions.front().name, "inner");
    cli::sort_regions(regions, "name");
    EXPECT_EQ(regions.front().name, "inner");
    cli::sort_regions(regions, "device_total");
    EXPECT_EQ(regions.front().name, "inner");
    EXPECT_THROW(cli::sort_regions(regions, "colour"), cli::InputError);
}

TEST_F(ReportFile, JsonKeepsThePythonKeysAndAddsOurs) {
    const std::vector<cli::FileReport> reports = {build()};
    std::ostringstream out;
    cli::ReportOptions options;
    options.include = {"o"};
    cli::write_json(out, reports, options);
    const auto j = nlohmann::json::parse(out.str());
    EXPECT_EQ(j["units"]["durations"], "seconds");
    EXPECT_EQ(j["filters"]["include"], nlohmann::json::array({"o"}));
    EXPECT_TRUE(j["filters"]["exclude"].is_null());
    EXPECT_TRUE(j["filters"]["ranks"].is_null());
    ASSERT_EQ(j["files"].size(), 1u);
    const auto& f = j["files"][0];
    EXPECT_EQ(f["label"], "run");
    EXPECT_EQ(f["num_ranks"], 2);
    EXPECT_TRUE(f["total_time_seconds"].is_null());
    EXPECT_EQ(f["metadata"]["hostname"], "testhost");
    EXPECT_TRUE(f["metadata"]["mpi_size"].is_number_integer()) << f["metadata"]["mpi_size"];  // not "2"
    EXPECT_EQ(f["metadata"]["mpi_size"], 2);
    const auto& inner = f["region_statistics"]["inner"];
    EXPECT_EQ(inner["count"], 3);
    EXPECT_DOUBLE_EQ(inner["average_duration_seconds"].get<double>(), 30e-9);
    EXPECT_DOUBLE_EQ(inner["min_duration_seconds"].get<double>(), 20e-9);
    EXPECT_DOUBLE_EQ(inner["max_duration_seconds"].get<double>(), 50e-9);
    EXPECT_DOUBLE_EQ(inner["std_duration_seconds"].get<double>(), 14.142135623730951e-9);
    EXPECT_DOUBLE_EQ(inner["total_duration_seconds"].get<double>(), 90e-9);
    EXPECT_DOUBLE_EQ(inner["first_duration_seconds"].get<double>(), 50e-9);
    EXPECT_EQ(inner["total_duration_ns"], 90);
    EXPECT_DOUBLE_EQ(inner["p95_duration_ns"].get<double>(), 47.0);
    EXPECT_EQ(inner["inclusive_ns"], 90);
    EXPECT_EQ(inner["self_ns"], 90);
    EXPECT_EQ(inner["device_count"], 2);
    EXPECT_EQ(inner["device_total_duration_ns"], 25);
    EXPECT_EQ(inner["device_host_fallback_count"], 1);
    EXPECT_EQ(inner["per_rank"]["0"]["count"], 3);
    EXPECT_FALSE(inner["per_rank"].contains("1"));
    const auto& outer = f["region_statistics"]["outer"];
    EXPECT_EQ(outer["per_rank"]["1"]["total_duration_ns"], 300);
    EXPECT_TRUE(outer["device_average_duration_seconds"].is_null());  // no device calls: null, as Python
    EXPECT_EQ(j["common_regions"].size(), 2u);
}

namespace {

/// RFC 4180 rows: quoted fields with doubled quotes.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
    std::vector<std::vector<std::string>> rows(1);
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
            else if (c == '"') quoted = false;
            else field += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            rows.back().push_back(field), field.clear();
        } else if (c == '\n') {
            rows.back().push_back(field), field.clear();
            rows.emplace_back();
        } else {
            field += c;
        }
    }
    rows.pop_back();  // after the last newline
    return rows;
}

}  // namespace

TEST_F(ReportFile, CsvRoundTripsEveryNumberAndName) {
    tools_test::write_ours(file("names.h5"), {{0, {host_region("a,\"b\"\nc", {0, 10}, {5, 17})}}});
    const cli::ProfileFile profile(file("names.h5"));
    const std::vector<cli::FileReport> reports = {cli::build_report(profile, {}, {}), build()};
    std::ostringstream out;
    cli::write_csv(out, reports);
    const auto rows = parse_csv(out.str());
    ASSERT_GE(rows.size(), 2u);
    const auto& header = rows[0];
    auto column = [&](const std::string& name) {
        const auto it = std::find(header.begin(), header.end(), name);
        EXPECT_NE(it, header.end()) << name;
        return static_cast<std::size_t>(it - header.begin());
    };
    for (const auto& row : rows) ASSERT_EQ(row.size(), header.size());
    EXPECT_EQ(rows[1][column("region")], "a,\"b\"\nc");
    EXPECT_EQ(rows[1][column("rank")], "all");
    EXPECT_EQ(std::stoll(rows[1][column("total_ns")]), 12);
    EXPECT_EQ(std::stod(rows[1][column("mean_ns")]), 6.0);
    EXPECT_EQ(std::stod(rows[1][column("std_ns")]), 1.0);
    bool found_device = false;
    for (const auto& row : rows) {
        if (row[column("region")] == "inner" && row[column("rank")] == "all" && row[column("kind")] == "host") {
            EXPECT_EQ(row[column("count")], "3");
            EXPECT_EQ(std::stod(row[column("p99_ns")]), 49.4);
            EXPECT_EQ(row[column("self_ns")], "90");
        }
        if (row[column("region")] == "inner" && row[column("rank")] == "0" && row[column("kind")] == "device") {
            found_device = true;
            EXPECT_EQ(row[column("total_ns")], "25");
            EXPECT_EQ(row[column("host_fallback")], "1");
        }
    }
    EXPECT_TRUE(found_device);
}

TEST(FormatDuration, PicksAUnitPerValue) {
    EXPECT_EQ(cli::format_duration(845), "845 ns");
    EXPECT_EQ(cli::format_duration(12.5), "12.50 ns");
    EXPECT_EQ(cli::format_duration(12345), "12.35 us");
    EXPECT_EQ(cli::format_duration(999.9), "1.000 us");
    EXPECT_EQ(cli::format_duration(250e6), "250.0 ms");
    EXPECT_EQ(cli::format_duration(1.5e9), "1.500 s");
    EXPECT_EQ(cli::format_duration(std::nan("")), "-");
}

TEST(RankSet, ParsesRangesAndLists) {
    const cli::RankSet ranks(" 5, 0-3 ,2");
    EXPECT_FALSE(ranks.all());
    EXPECT_EQ(ranks.ranks(), (std::vector<int>{0, 1, 2, 3, 5}));
    EXPECT_TRUE(ranks.contains(3));
    EXPECT_FALSE(ranks.contains(4));
    EXPECT_TRUE(cli::RankSet("").all());
    EXPECT_TRUE(cli::RankSet("").contains(1234));
}

TEST(RankSet, RejectsMalformedText) {
    for (const char* text : {"3-1", "a", "1,,2", "-1", "1-", "0-3x", "1.5"}) {
        EXPECT_THROW(cli::RankSet{text}, cli::InputError) << text;
    }
    try {
        cli::RankSet("0-2,x");
        FAIL();
    } catch (const cli::InputError& e) {
        EXPECT_NE(std::string(e.what()).find("'x'"), std::string::npos) << e.what();
    }
}

TEST(RegionFilter, IncludeAnyExcludeNone) {
    const cli::RegionFilter filter({"^solve", "io"}, {"_debug$"});
    EXPECT_TRUE(filter.matches("solver"));
    EXPECT_TRUE(filter.matches("read_io"));
    EXPECT_FALSE(filter.matches("setup"));
    EXPECT_FALSE(filter.matches("solve_debug"));
    EXPECT_TRUE(cli::RegionFilter().matches("anything"));
}

TEST(RegionFilter, ANameOfAnyLengthIsMatchedWithoutRecursion) {
    // std::regex (ECMAScript, libstdc++) recursed once per character and overflowed the stack on
    // a 64 KiB name with '^.*$'; the library writes names of any length.
    const std::string name = std::string(1 << 20, 'a') + "_debug";
    EXPECT_TRUE(cli::RegionFilter({"^.*$"}, {}).matches(name));
    EXPECT_TRUE(cli::RegionFilter({"^(a|b)*_debug$"}, {}).matches(name));
    EXPECT_FALSE(cli::RegionFilter({"^.*$"}, {"_debug$"}).matches(name));
    EXPECT_TRUE(cli::RegionFilter({"^ünï$"}, {}).matches("ünï"));  // UTF-8: one character each
    EXPECT_TRUE(cli::RegionFilter({"^..."}, {}).matches("ünï"));
}

TEST(RegionFilter, ABadPatternNamesItself) {
    try {
        cli::RegionFilter({}, {"a[b"});
        FAIL();
    } catch (const cli::InputError& e) {
        EXPECT_NE(std::string(e.what()).find("--exclude: 'a[b'"), std::string::npos) << e.what();
    }
}
