// One statistics implementation: what the library says of a region (Region::host_stats(), the
// seconds finalize()'s summary prints) and what `report --json` writes for the same file agree
// to the bit. Files recorded in-process: a plain session (several threads), a session that
// flushes to disk, and a file of two rank groups made of two sessions' intervals.
//
// Flushed intervals: the library keeps their moments (exact) and a sketch of them, so count,
// total, min, max, mean and std agree to the bit in every case; the summary's percentiles then
// come from the sketch (within 0.5 %, and the summary says so), the report's from every value.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "filters.hpp"
#include "report.hpp"
#include "stats.hpp"
#include "summary.hpp"
#include "tools_test_support.hpp"

namespace cli = scope_profiler::cli;
namespace d = scope_profiler::detail;
namespace sp = scope_profiler;
using Json = nlohmann::json;

namespace {

/// Work of a length that varies from call to call and from region to region, so the
/// statistics have digits to lose.
void work(std::uint64_t i, std::uint64_t region) {
    volatile std::uint64_t sink = 0;
    const std::uint64_t length = 20 + (i * 7919) % (50 + 40 * region) + (i % 97 == 0 ? 2000 : 0);
    for (std::uint64_t k = 0; k < length; ++k) sink = sink + k * i;
}

/// Records `calls` calls of each region on each of `threads` threads.
void record(const std::vector<std::string>& regions, std::size_t calls, int threads) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (std::size_t i = 0; i < calls; ++i) {
                for (std::size_t r = 0; r < regions.size(); ++r) {
                    auto scope = sp::ProfileManager::profile_region(regions[r]);
                    work(i + static_cast<std::size_t>(t) * 131, r);
                }
            }
        });
    }
    for (auto& thread : pool) thread.join();
}

/// What the library says of one region before finalize(): host_stats() and the summary's lines.
struct Said {
    sp::Stats stats;
    std::map<std::string, double> printed;  // the summary's label -> seconds, as printed
};

Said library_says(const std::string& name) {
    const sp::Region* region = sp::ProfileManager::get_region(name);
    Said said;
    said.stats = region->host_stats();
    const d::RegionSummary summary = d::summarize(*region, true);
    std::ostringstream text;
    d::TextSummaryWriter(text).write(std::span(&summary, 1));
    std::istringstream lines(text.str());
    for (std::string line; std::getline(lines, line);) {
        const auto colon = line.find(" : ");
        const auto unit = line.rfind(" s");
        if (colon == std::string::npos || unit == std::string::npos || unit < colon) continue;
        std::string label = line.substr(0, colon);
        label.erase(0, label.find_first_not_of(' '));
        label.erase(label.find_last_not_of(' ') + 1);
        said.printed[label] = std::strtod(line.substr(colon + 3, unit - colon - 3).c_str(), nullptr);
    }
    return said;
}

std::map<std::string, Said> library_says(const std::vector<std::string>& names) {
    std::map<std::string, Said> out;
    for (const auto& name : names) out[name] = library_says(name);
    return out;
}

/// `report --json` of one file, as the command writes it.
Json report_json(const std::string& path) {
    const cli::ProfileFile file(path);
    std::vector<cli::FileReport> reports{cli::build_report(file, cli::RegionFilter{}, cli::RankSet{})};
    cli::ReportOptions options;
    options.files = {path};
    std::ostringstream out;
    cli::write_json(out, reports, options);
    return Json::parse(out.str());
}

/// Bit-equal doubles (a NaN on either side fails).
void expect_bits(double library, double report, const std::string& what) {
    EXPECT_EQ(library, report) << what << ": library " << std::hexfloat << library << ", report " << report
                               << std::defaultfloat;
}

/// count, total, min, max, mean, std (ns and seconds) equal to the bit; the percentiles too when
/// `exact_percentiles`, else within the sketch's 0.5 % (and a nanosecond of rounding).
void expect_agree(const sp::Stats& s, const Json& j, bool exact_percentiles, const std::string& what) {
    ASSERT_EQ(j.at("count").get<std::uint64_t>(), s.count) << what;
    EXPECT_EQ(j.at("total_duration_ns").get<std::int64_t>(), s.total) << what;
    EXPECT_EQ(j.at("min_duration_ns").get<std::int64_t>(), s.min) << what;
    EXPECT_EQ(j.at("max_duration_ns").get<std::int64_t>(), s.max) << what;
    expect_bits(s.mean, j.at("average_duration_ns").get<double>(), what + " mean");
    expect_bits(s.stddev, j.at("std_duration_ns").get<double>(), what + " std");
    const std::pair<const char*, double> percentiles[] = {{"p50", s.p50}, {"p95", s.p95}, {"p99", s.p99}};
    for (const auto& [key, value] : percentiles) {
        const double report = j.at(std::string(key) + "_duration_ns").get<double>();
        if (exact_percentiles) {
            expect_bits(value, report, what + " " + key);
        } else {
            EXPECT_NEAR(value, report, 0.005 * report + 1.0) << what << " " << key << " (sketch)";
        }
    }
}

/// The seconds the summary printed against the report's seconds fields.
void expect_printed_agree(const Said& said, const Json& j, bool exact_percentiles, const std::string& what) {
    const std::pair<const char*, const char*> pairs[] = {
        {"Total Time", "total_duration_seconds"}, {"Avg Time", "average_duration_seconds"},
        {"Min Time", "min_duration_seconds"},     {"Max Time", "max_duration_seconds"},
        {"Std Dev", "std_duration_seconds"},      {"P50 Time", "p50_duration_seconds"},
        {"P95 Time", "p95_duration_seconds"},     {"P99 Time", "p99_duration_seconds"}};
    for (const auto& [label, key] : pairs) {
        ASSERT_EQ(said.printed.count(label), 1u) << what << ": the summary printed no " << label;
        const double report = j.at(key).get<double>();
        if (exact_percentiles || std::string(label).rfind("P", 0) != 0) {
            expect_bits(said.printed.at(label), report, what + " printed " + label);
        }
    }
}

class StatsAgreement : public tools_test::ScratchDir {
protected:
    void TearDown() override {
        if (sp::ProfileManager::is_active()) sp::ProfileManager::finalize(false);
        ScratchDir::TearDown();
    }
};

/// Enough regions that a statistic computed two ways differs in some region's last digit.
const std::vector<std::string> kRegions = [] {
    std::vector<std::string> names;
    for (int i = 0; i < 16; ++i) names.push_back("region" + std::to_string(i));
    return names;
}();

}  // namespace

TEST_F(StatsAgreement, PlainSessionSummaryAndReportAgreeToTheBit) {
    const std::string path = file("plain.h5");
    sp::ProfileManager::setup({.flush_to_disk = false, .file_path = path, .use_nvtx = false});
    record(kRegions, 3000, 3);
    const auto said = library_says(kRegions);
    sp::ProfileManager::finalize(false);

    const Json json = report_json(path);
    const Json& regions = json.at("files").at(0).at("region_statistics");
    for (const auto& name : kRegions) {
        ASSERT_TRUE(said.at(name).stats.percentiles_exact);
        expect_agree(said.at(name).stats, regions.at(name), true, name);
        expect_printed_agree(said.at(name), regions.at(name), true, name);
    }
}

TEST_F(StatsAgreement, FlushedSessionAgreesExactlyButThePercentilesOfTheSketch) {
    const std::string path = file("flushed.h5");
    sp::ProfileManager::setup({.buffer_limit = sp::detail::kBlockCapacity, .file_path = path,
                               .use_nvtx = false, .flush_interval_ms = 0});
    record(kRegions, 6 * sp::detail::kBlockCapacity + 17, 2);
    // Wait until every region has flushed intervals: then its percentiles come from the sketch.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (const auto& name : kRegions) {
        while (sp::ProfileManager::get_region(name)->host_stats().percentiles_exact &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    const auto said = library_says(kRegions);
    sp::ProfileManager::finalize(false);

    const Json json = report_json(path);
    const Json& regions = json.at("files").at(0).at("region_statistics");
    for (const auto& name : kRegions) {
        ASSERT_FALSE(said.at(name).stats.percentiles_exact) << name << ": nothing was flushed";
        expect_agree(said.at(name).stats, regions.at(name), false, name);
        expect_printed_agree(said.at(name), regions.at(name), false, name);
    }
}

TEST_F(StatsAgreement, TwoRankFileAgreesPerRankAndOverTheRanks) {
    // Two sessions' intervals as the two rank groups of one file (tools_test::write_ours).
    std::vector<std::pair<int, std::vector<tools_test::h5::RegionColumns>>> ranks;
    std::map<std::string, Said> per_rank[2];
    std::map<std::string, std::vector<std::int64_t>> all;  // durations over both ranks
    for (int rank = 0; rank < 2; ++rank) {
        sp::ProfileManager::setup({.flush_to_disk = false, .file_path = file("session.h5"), .use_nvtx = false});
        record(kRegions, 1500 + 700 * static_cast<std::size_t>(rank), 2);
        per_rank[rank] = library_says(kRegions);
        std::vector<tools_test::h5::RegionColumns> columns;
        for (const auto& name : kRegions) {
            const sp::HostIntervals intervals = sp::ProfileManager::get_region(name)->get_intervals();
            columns.push_back(tools_test::host_region(name, intervals.start_times, intervals.end_times));
            columns.back().thread_ids = intervals.thread_ids;
            for (std::size_t i = 0; i < intervals.start_times.size(); ++i)
                all[name].push_back(intervals.end_times[i] - intervals.start_times[i]);
        }
        sp::ProfileManager::finalize(false);
        ranks.emplace_back(rank, std::move(columns));
    }
    const std::string path = file("two_ranks.h5");
    tools_test::write_ours(path, ranks);

    const Json json = report_json(path);
    const Json& regions = json.at("files").at(0).at("region_statistics");
    for (const auto& name : kRegions) {
        for (int rank = 0; rank < 2; ++rank) {
            const Json& j = regions.at(name).at("per_rank").at(std::to_string(rank));
            const std::string what = name + " rank " + std::to_string(rank);
            expect_agree(per_rank[rank].at(name).stats, j, true, what);
            expect_printed_agree(per_rank[rank].at(name), j, true, what);
        }
        // Over the ranks: the library's statistics of every duration of both.
        expect_agree(d::compute_stats(all.at(name)), regions.at(name), true, name + " all ranks");
    }
}
