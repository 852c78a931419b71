// `scope-profiler pproc`: the charts parse as XML and draw one rectangle per interval on small
// files, stay small on large ones, the exported data matches the numbers, and bad input leaves
// no file behind. (Over 500 lines: one suite for the subcommand, a few cases per chart, sharing
// the files and XML checks at its top.)

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>
#include <map>
#include <nlohmann/json.hpp>
#include <scope_profiler/scope_profiler.hpp>

#include "charts.hpp"
#include "pproc.hpp"
#include "profile_file.hpp"
#include "svg.hpp"
#include "tools_test_support.hpp"

using tools_test::host_region;
using tools_test::read_text;
using tools_test::run_cli;

namespace {

/// A minimal XML well-formedness check (what an SVG viewer needs): balanced tags, quoted
/// attributes, text and attribute values free of '<' and of '&' outside an entity. Returns
/// the number of elements by "name.class" (and by "name"), or fails the test.
std::map<std::string, std::size_t> check_xml(const std::string& doc) {
    std::map<std::string, std::size_t> counts;
    std::vector<std::string> open;
    const auto check_text = [&](std::string_view text) {
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '<') ADD_FAILURE() << "'<' in text or an attribute value";
            if (text[i] != '&') continue;
            const std::size_t semi = text.find(';', i);
            const std::string entity(text.substr(i, semi == std::string::npos ? 8 : semi - i + 1));
            const bool known = entity == "&amp;" || entity == "&lt;" || entity == "&gt;" ||
                               entity == "&quot;" || entity == "&#39;";
            if (!known) ADD_FAILURE() << "unknown entity " << entity;
        }
    };
    std::size_t i = 0;
    bool root_closed = false;
    while (i < doc.size()) {
        const std::size_t lt = doc.find('<', i);
        check_text(std::string_view(doc).substr(i, (lt == std::string::npos ? doc.size() : lt) - i));
        if (lt == std::string::npos) break;
        if (doc.compare(lt, 2, "<?") == 0) {
            i = doc.find("?>", lt) + 2;
            continue;
        }
        const std::size_t gt = doc.find('>', lt);
        if (gt == std::string::npos) {
            ADD_FAILURE() << "unterminated tag";
            break;
        }
        std::string_view tag = std::string_view(doc).substr(lt + 1, gt - lt - 1);
        i = gt + 1;
        if (tag.starts_with('/')) {
            if (open.empty() || open.back() != tag.substr(1)) {
                ADD_FAILURE() << "</" << tag.substr(1) << "> closes " << (open.empty() ? "nothing" : open.back());
                break;
            }
            open.pop_back();
            root_closed = open.empty();
            continue;
        }
        const bool empty = tag.ends_with('/');
        if (empty) tag.remove_suffix(1);
        const std::size_t name_end = std::min(tag.find(' '), tag.size());
        const std::string name(tag.substr(0, name_end));
        EXPECT_FALSE(root_closed) << "content after the root element";
        // Attributes: name="value" pairs.
        std::string css_class;
        std::string_view rest = tag.substr(name_end);
        while (!rest.empty()) {
            while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
            if (rest.empty()) break;
            const std::size_t eq = rest.find("=\"");
            const std::size_t close = eq == std::string::npos ? eq : rest.find('"', eq + 2);
            if (close == std::string::npos) {
                ADD_FAILURE() << "malformed attributes in <" << name << ">";
                break;
            }
            const std::string_view value = rest.substr(eq + 2, close - eq - 2);
            check_text(value);
            if (rest.substr(0, eq) == "class") css_class = value;
            rest.remove_prefix(close + 1);
        }
        ++counts[name];
        if (!css_class.empty()) ++counts[name + "." + css_class];
        if (!empty) open.push_back(name);
    }
    EXPECT_TRUE(open.empty()) << "unclosed <" << (open.empty() ? "" : open.back()) << ">";
    EXPECT_GT(counts["svg"], 0u);
    return counts;
}

/// Parses the file with Python's XML parser too, where a python3 is installed.
void check_with_python(const std::string& path) {
    if (!tools_test::fs::exists("/usr/bin/python3")) return;
    const std::string command = "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' " +
                                tools_test::quoted(path);
    EXPECT_EQ(std::system(command.c_str()), 0) << path << " is not XML Python parses";
}

class Pproc : public tools_test::ScratchDir {
protected:
    /// Thread 0: outer [0, 1000) holding inner [100, 400) and [500, 900); thread 1: inner
    /// [200, 700); stream 7: the device side of inner, [150, 350) and [600, 800).
    void SetUp() override {
        ScratchDir::SetUp();
        auto inner = host_region("inner", {100, 500, 200}, {400, 900, 700});
        inner.thread_ids = {0, 0, 1};
        inner.device_start_times = {150, 600};
        inner.device_end_times = {350, 800};
        inner.device_stream_ids = {7, 7};
        inner.device_host_fallback = {0, 0};
        tools_test::write_ours(file("run.h5"), {{0, {host_region("outer", {0}, {1000}), inner}}});
    }

    [[nodiscard]] std::string out(const std::string& name) const { return (dir_ / "out" / name).string(); }

    void run(std::vector<std::string> files, bool export_data = false, std::string format = "csv",
             std::vector<std::string> include = {}, std::string speedup_metric = "mean") {
        scope_profiler::cli::PprocOptions options;
        options.speedup_metric = std::move(speedup_metric);
        options.files = std::move(files);
        options.output_dir = (dir_ / "out").string();
        options.export_data = export_data;
        options.export_format = std::move(format);
        options.include = std::move(include);
        testing::internal::CaptureStdout();
        scope_profiler::cli::run_pproc(options);
        testing::internal::GetCapturedStdout();
    }
};

TEST_F(Pproc, WritesEveryChartAsXmlWithOneRectanglePerInterval) {
    run({file("run.h5")});
    for (const char* name : {"gantt.svg", "flame.svg", "durations_avg.svg", "durations_min.svg",
                             "durations_max.svg", "durations_total.svg"}) {
        SCOPED_TRACE(name);
        const std::string doc = read_text(out(name));
        ASSERT_FALSE(doc.empty());
        check_xml(doc);
        check_with_python(out(name));
    }
    EXPECT_FALSE(tools_test::fs::exists(out("speedup.svg")));  // one file: no scaling study
    const auto gantt = check_xml(read_text(out("gantt.svg")));
    EXPECT_EQ(gantt.at("rect.iv"), 6u);  // 4 host intervals and 2 device intervals
    EXPECT_NE(read_text(out("gantt.svg")).find("rank 0 \u00b7 stream 7 (GPU)"), std::string::npos);
    const auto flame = check_xml(read_text(out("flame.svg")));
    EXPECT_EQ(flame.at("rect.fr"), 4u);  // all, outer, outer;inner, inner (thread 1)
    const auto avg = check_xml(read_text(out("durations_avg.svg")));
    EXPECT_EQ(avg.at("rect.bar"), 3u);   // outer, inner, inner [GPU]
}

TEST_F(Pproc, ExportedCsvMatchesTheNumbers) {
    run({file("run.h5")}, true);
    const std::string avg = read_text(out("durations_avg.csv"));
    EXPECT_NE(avg.find("file,region,kind,count,avg_ns\n"), std::string::npos) << avg;
    EXPECT_NE(avg.find("run.h5,inner,host,3,400\n"), std::string::npos) << avg;
    EXPECT_NE(avg.find("run.h5,inner,device,2,200\n"), std::string::npos) << avg;
    EXPECT_NE(avg.find("run.h5,outer,host,1,1000\n"), std::string::npos) << avg;
    const std::string total = read_text(out("durations_total.csv"));
    EXPECT_NE(total.find("run.h5,inner,host,3,1200\n"), std::string::npos) << total;
    const std::string flame = read_text(out("flame.csv"));
    EXPECT_EQ(flame.find("file,path,depth,region,calls,total_ns,self_ns,id,parent_id\n"), 0u) << flame;
    EXPECT_NE(flame.find("run.h5,outer,1,outer,1,1000,300,1,0\n"), std::string::npos) << flame;
    EXPECT_NE(flame.find("run.h5,outer;inner,2,inner,2,700,700,2,1\n"), std::string::npos) << flame;
    EXPECT_NE(flame.find("run.h5,inner,1,inner,1,500,500,3,0\n"), std::string::npos) << flame;
    const std::string gantt = read_text(out("gantt.csv"));
    EXPECT_EQ(std::count(gantt.begin(), gantt.end(), '\n'), 7);  // header and 6 intervals
    EXPECT_NE(gantt.find("run.h5,0,thread,0,1,inner,500,900,1\n"), std::string::npos) << gantt;
    EXPECT_NE(gantt.find("run.h5,0,stream,7,0,inner,150,350,1\n"), std::string::npos) << gantt;
}

TEST_F(Pproc, ExportedJsonParsesAndMatches) {
    run({file("run.h5")}, true, "json");
    const auto flame = nlohmann::json::parse(read_text(out("flame.json")));
    ASSERT_TRUE(flame.is_array());
    bool found = false;
    for (const auto& row : flame) {
        if (row["path"] == "outer;inner") {
            found = true;
            EXPECT_EQ(row["total_ns"], 700);
            EXPECT_EQ(row["self_ns"], 700);
            EXPECT_EQ(row["calls"], 2);
            EXPECT_EQ(row["depth"], 2);
            EXPECT_EQ(row["id"], 2);
            EXPECT_EQ(row["parent_id"], 1);  // outer's row
        }
    }
    EXPECT_TRUE(found);
    const auto max = nlohmann::json::parse(read_text(out("durations_max.json")));
    ASSERT_EQ(max.size(), 3u);
    EXPECT_EQ(max[0]["region"], "outer");  // by decreasing value
    EXPECT_EQ(max[0]["max_ns"].get<double>(), 1000.0);
    const auto gantt = nlohmann::json::parse(read_text(out("gantt.json")));
    EXPECT_EQ(gantt.size(), 6u);
    EXPECT_FALSE(tools_test::fs::exists(out("gantt.csv")));
}

TEST_F(Pproc, IncludeChoosesRegions) {
    run({file("run.h5")}, true, "csv", {"^out"});
    const std::string avg = read_text(out("durations_avg.csv"));
    EXPECT_EQ(avg.find("inner"), std::string::npos) << avg;
    EXPECT_EQ(check_xml(read_text(out("gantt.svg"))).at("rect.iv"), 1u);
}

/// A strong-scaling study: 1 rank: work, 2 calls of 500 ns; 2 ranks: 1 call of 500 ns each;
/// 4 ranks: one call each, 250, 250, 250 and 300 ns.
class PprocScaling : public Pproc {
protected:
    void SetUp() override {
        Pproc::SetUp();
        tools_test::write_ours(file("r1.h5"), {{0, {host_region("work", {0, 500}, {500, 1000})}}});
        tools_test::write_ours(file("r2.h5"), {{0, {host_region("work", {0}, {500})}}, {1, {host_region("work", {0}, {500})}}});
        std::vector<std::pair<int, std::vector<tools_test::h5::RegionColumns>>> four;
        for (int r = 0; r < 4; ++r) four.push_back({r, {host_region("work", {0}, {r == 3 ? 300 : 250})}});
        tools_test::write_ours(file("r4.h5"), four);
    }
};

TEST_F(PprocScaling, SpeedupOfTheMeanPerCallByDefaultAsThePythonLibrary) {
    // The mean per call: 500 ns at 1 rank, 500 at 2, (250 * 3 + 300) / 4 = 262.5 at 4.
    run({file("r4.h5"), file("r1.h5"), file("r2.h5")}, true);
    check_xml(read_text(out("speedup.svg")));
    check_with_python(out("speedup.svg"));
    const std::string speedup = read_text(out("speedup.csv"));
    EXPECT_NE(speedup.find("work,1,r1.h5,500,1,1\n"), std::string::npos) << speedup;
    EXPECT_NE(speedup.find("work,2,r2.h5,500,1,2\n"), std::string::npos) << speedup;
    EXPECT_NE(speedup.find("work,4,r4.h5,262.5,1.904762,4\n"), std::string::npos) << speedup;
    EXPECT_NE(read_text(out("speedup.svg")).find("mean duration per call"), std::string::npos);
    // Durations side by side: a bar per file and region.
    EXPECT_EQ(check_xml(read_text(out("durations_total.svg"))).at("rect.bar"), 3u);
}

TEST_F(PprocScaling, SpeedupOfTheSlowestRanksTotalWithTotal) {
    // The largest per-rank total: 1000 ns at 1 rank, 500 at 2, 300 at 4.
    run({file("r4.h5"), file("r1.h5"), file("r2.h5")}, true, "csv", {}, "total");
    const std::string speedup = read_text(out("speedup.csv"));
    EXPECT_NE(speedup.find("work,1,r1.h5,1000,1,1\n"), std::string::npos) << speedup;
    EXPECT_NE(speedup.find("work,2,r2.h5,500,2,2\n"), std::string::npos) << speedup;
    EXPECT_NE(speedup.find("work,4,r4.h5,300,3.333333,4\n"), std::string::npos) << speedup;
    EXPECT_NE(read_text(out("speedup.svg")).find("largest per-rank total"), std::string::npos);
}

TEST_F(PprocScaling, RunsOfOneRankCountAreAveraged) {
    // A second run at 2 ranks, one call of 300 ns each: the mean of the two runs' means is 400.
    tools_test::write_ours(file("r2b.h5"), {{0, {host_region("work", {0}, {300})}}, {1, {host_region("work", {0}, {300})}}});
    run({file("r1.h5"), file("r2.h5"), file("r2b.h5"), file("r4.h5")}, true);
    const std::string speedup = read_text(out("speedup.csv"));
    EXPECT_NE(speedup.find("work,2,r2.h5 + r2b.h5,400,1.25,2\n"), std::string::npos) << speedup;
    run({file("r1.h5"), file("r2.h5"), file("r2b.h5"), file("r4.h5")}, true, "csv", {}, "total");
    EXPECT_NE(read_text(out("speedup.csv")).find("work,2,r2.h5 + r2b.h5,400,2.5,2\n"), std::string::npos);
}

TEST_F(PprocScaling, AnUnknownSpeedupMetricIsBadInput) {
    scope_profiler::cli::PprocOptions options;
    options.files = {file("r1.h5"), file("r2.h5")};
    options.output_dir = out("");
    options.speedup_metric = "median";
    EXPECT_THROW(scope_profiler::cli::run_pproc(options), scope_profiler::cli::InputError);
    EXPECT_FALSE(tools_test::fs::exists(out("")));  // refused before anything is read or written
    const auto cli = run_cli({"pproc", file("r1.h5"), file("r2.h5"), "-o", out(""), "--speedup-metric", "median"}, dir_);
    EXPECT_EQ(cli.code, 2);
    EXPECT_NE(cli.err.find("--speedup-metric"), std::string::npos) << cli.err;
    EXPECT_EQ(std::count(cli.err.begin(), cli.err.end(), '\n'), 1) << cli.err;
}

TEST_F(Pproc, LargeFileMergesSubPixelIntervalsAndStaysSmall) {
    // Two threads of 1,000 outer calls, each holding 1,000 back-to-back inner calls: 2 M
    // intervals, far narrower than a pixel.
    constexpr int kOuter = 1000, kInner = 1000;
    auto outer = host_region("outer", {}, {});
    auto inner = host_region("inner", {}, {});
    for (std::int32_t thread = 0; thread < 2; ++thread) {
        for (int o = 0; o < kOuter; ++o) {
            const std::int64_t base = std::int64_t{o} * (kInner * 100 + 50) + thread * 7;
            outer.start_times.push_back(base);
            outer.end_times.push_back(base + kInner * 100);
            outer.thread_ids.push_back(thread);
            for (int k = 0; k < kInner; ++k) {
                inner.start_times.push_back(base + k * 100);
                inner.end_times.push_back(base + k * 100 + 90);
                inner.thread_ids.push_back(thread);
            }
        }
    }
    tools_test::write_ours(file("large.h5"), {{0, {outer, inner}}});
    run({file("large.h5")});  // (its speed is for docs/cli.md's measurement, not a test's clock)
    const std::string gantt = read_text(out("gantt.svg"));
    EXPECT_LT(gantt.size(), 3u << 20) << "gantt.svg of 4 M intervals is " << gantt.size() << " bytes";
    const auto counts = check_xml(gantt);
    EXPECT_LT(counts.at("rect.iv"), 20000u);
    EXPECT_LT(read_text(out("flame.svg")).size(), 1u << 20);
}

TEST_F(Pproc, ManyLanesOfSparseShortCallsStayWithinTheRectangleBudget) {
    // 128 threads of 480 calls 0.5 px wide, 1.5 px apart: 61,440 rectangles before the budget.
    auto calls = host_region("tick", {}, {});
    for (std::int32_t thread = 0; thread < 128; ++thread) {
        for (int i = 0; i < 480; ++i) {
            calls.start_times.push_back(std::int64_t{i} * 2000);
            calls.end_times.push_back(std::int64_t{i} * 2000 + 500);
            calls.thread_ids.push_back(thread);
        }
    }
    tools_test::write_ours(file("sparse.h5"), {{0, {calls}}});
    run({file("sparse.h5")});
    const std::string gantt = read_text(out("gantt.svg"));
    EXPECT_LE(check_xml(gantt).at("rect.iv"), scope_profiler::cli::kGanttMaxRectangles);
    EXPECT_LT(gantt.size(), 3u << 20);
}

TEST_F(Pproc, ADeepCallChainGivesOutputLinearInItsDepth) {
    // One thread of 20,000 calls, each strictly inside the one before: a call path per depth.
    // Their full folded paths were 20,000^2 / 2 regions: 400 MB of flame.csv, seconds of work,
    // and a chain 100,000 deep ran out of memory. Cut at kFlameMaxDepth regions, a row is
    // bounded, and the chart draws kFlameMaxDepth levels and says so.
    using scope_profiler::cli::kFlameMaxDepth;
    constexpr std::int64_t kDepth = 20000;
    auto a = host_region("a", {}, {});
    auto b = host_region("b", {}, {});
    for (std::int64_t d = 0; d < kDepth; ++d) {
        auto& region = d % 2 == 0 ? a : b;
        region.start_times.push_back(d);
        region.end_times.push_back(4 * kDepth - d);
        region.thread_ids.push_back(0);
    }
    tools_test::write_ours(file("chain.h5"), {{0, {a, b}}});
    run({file("chain.h5")}, true);

    const std::string flame = read_text(out("flame.csv"));
    EXPECT_LT(flame.size(), static_cast<std::size_t>(kDepth) * (2 * kFlameMaxDepth + 100));
    std::istringstream rows(flame);
    std::string row, last;
    std::getline(rows, row);  // the header
    std::int64_t count = 0;
    std::size_t longest = 0;  // regions in a path, the marker included
    while (std::getline(rows, row)) {
        ++count;
        const std::string path = row.substr(row.find(',') + 1, row.find(',', row.find(',') + 1) - row.find(',') - 1);
        longest = std::max<std::size_t>(longest, std::count(path.begin(), path.end(), ';') + 1);
        last = row;
    }
    EXPECT_EQ(count, kDepth);  // a row per depth
    EXPECT_EQ(longest, kFlameMaxDepth + 1);
    // The deepest: the marker, then its innermost regions (b, a, b, ... ending in b at an even depth).
    std::string innermost;
    for (std::uint32_t i = 0; i < kFlameMaxDepth; ++i) innermost += (i % 2 == 0 ? ";a" : ";b");
    const std::string marker = scope_profiler::cli::kFlameCutMarker;
    EXPECT_EQ(last, "chain.h5," + marker + innermost + ",20000,b,1,40002,40002,20000,19999") << last.substr(0, 200);

    const std::string svg = read_text(out("flame.svg"));
    EXPECT_EQ(check_xml(svg).at("rect.fr"), kFlameMaxDepth + 1);  // all, then kFlameMaxDepth levels
    EXPECT_NE(svg.find("Calls nest 20000 deep: the 128 levels nearest the root are drawn"), std::string::npos);
    EXPECT_LT(svg.size(), 1u << 20);
}

TEST_F(Pproc, ManyThreadsStayWithinTheLaneBudgetAndTheDocumentedSize) {
    // 100,000 threads of one call each: a lane each (a background, a label, a rectangle) made
    // a 23 MB gantt.svg, the rectangle budget notwithstanding. Thread 54321 is the busiest.
    using scope_profiler::cli::kGanttMaxLanes;
    constexpr std::int32_t kThreads = 100000;
    auto work = host_region("work", {}, {});
    for (std::int32_t t = 0; t < kThreads; ++t) {
        work.start_times.push_back(std::int64_t{10} * t);
        work.end_times.push_back(std::int64_t{10} * t + (t == 54321 ? 5000 : 1000));
        work.thread_ids.push_back(t);
    }
    tools_test::write_ours(file("threads.h5"), {{0, {work}}});
    run({file("threads.h5")}, true);
    const std::string gantt = read_text(out("gantt.svg"));
    EXPECT_LT(gantt.size(), 3u << 20) << "gantt.svg of " << kThreads << " lanes is " << gantt.size() << " bytes";
    EXPECT_EQ(check_xml(gantt).at("rect.iv"), kGanttMaxLanes);
    EXPECT_NE(gantt.find("99000 more lanes (99000 intervals) not drawn"), std::string::npos);
    // The busiest lanes stay: thread 54321, then the earliest of the equally busy ones.
    EXPECT_NE(gantt.find("rank 0 \u00b7 thread 54321</text>"), std::string::npos);
    EXPECT_NE(gantt.find("rank 0 \u00b7 thread 998</text>"), std::string::npos);
    EXPECT_EQ(gantt.find("rank 0 \u00b7 thread 999</text>"), std::string::npos);
    const std::string csv = read_text(out("gantt.csv"));
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), static_cast<std::ptrdiff_t>(kGanttMaxLanes) + 1);
}

TEST_F(Pproc, BadInputLeavesNoOutput) {
    std::ofstream(file("not.h5")) << "not an HDF5 file";
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"pproc", file("run.h5"), file("missing.h5"), "-o", out("")},
             {"pproc", file("not.h5"), "-o", out("")},
             {"pproc", file("run.h5"), "-o", out(""), "--include", "("},
             {"pproc", file("run.h5"), "-o", out(""), "--export-data-format", "xml"},
             {"pproc", file("run.h5")}}) {
        const auto result = run_cli(args, dir_);
        EXPECT_EQ(result.code, 2) << result.err;
        EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
        EXPECT_FALSE(tools_test::fs::exists(out("gantt.svg")));
    }
    if (tools_test::fs::exists(dir_ / "out")) EXPECT_TRUE(tools_test::fs::is_empty(dir_ / "out"));
}

TEST_F(Pproc, TheCommandWritesTheChartsIntoTheDirectory) {
    const auto result = run_cli({"pproc", file("run.h5"), "-o", out(""), "--export-data"}, dir_);
    ASSERT_EQ(result.code, 0) << result.err;
    EXPECT_NE(result.out.find("gantt.svg"), std::string::npos);
    std::vector<std::string> names;
    for (const auto& e : tools_test::fs::directory_iterator(dir_ / "out")) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"durations_avg.csv", "durations_avg.svg", "durations_max.csv",
                                                "durations_max.svg", "durations_min.csv", "durations_min.svg",
                                                "durations_total.csv", "durations_total.svg", "flame.csv",
                                                "flame.svg", "gantt.csv", "gantt.svg"}));
}

TEST_F(Pproc, ReadsThePythonLayoutWithEveryIntervalOnOneThread) {
    tools_test::write_python(file("py.h5"), {{0, {{"outer", {0}, {100}}, {"inner", {10, 50}, {40, 90}}}}});
    run({file("py.h5")}, true);
    const std::string flame = read_text(out("flame.csv"));
    EXPECT_NE(flame.find("py.h5,outer;inner,2,inner,2,70,70,2,1\n"), std::string::npos) << flame;
    EXPECT_EQ(check_xml(read_text(out("gantt.svg"))).at("rect.iv"), 3u);
}

TEST_F(Pproc, NamesAreEscapedInTheCharts) {
    const std::string name = "a<b> & \"c\" \xff/\u00e9";
    // Not characters XML 1.0 may hold, though each is three bytes of plausible UTF-8: a lone
    // surrogate (U+D800 encoded), U+FFFE, U+FFFF; and an overlong '/'. The library writes such
    // names as it is given them.
    const std::string surrogate = "s\xED\xA0\x80", nonchars = "n\xEF\xBF\xBE\xEF\xBF\xBF", overlong = "o\xC0\xAF";
    tools_test::write_ours(file("names.h5"), {{0,
                                               {host_region(name, {0, 100}, {50, 400}),
                                                host_region(surrogate, {500}, {510}), host_region(nonchars, {520}, {530}),
                                                host_region(overlong, {540}, {550})}}});
    run({file("names.h5")}, true, "json");
    for (const char* chart : {"gantt.svg", "flame.svg", "durations_max.svg"}) {
        SCOPED_TRACE(chart);
        check_xml(read_text(out(chart)));
        check_with_python(out(chart));
    }
    const auto max = nlohmann::json::parse(read_text(out("durations_max.json")));
    ASSERT_EQ(max.size(), 4u);
    EXPECT_EQ(max[0]["max_ns"].get<double>(), 300.0);
    // The Chrome trace is JSON, which must be valid UTF-8 (nlohmann's parser checks it).
    ASSERT_EQ(run_cli({"export", file("names.h5"), "--chrome-trace", file("t.json")}, dir_).code, 0);
    EXPECT_NO_THROW({
        const auto trace = nlohmann::json::parse(read_text(file("t.json")));
        EXPECT_FALSE(trace.empty());
    });
}

TEST_F(Pproc, NothingChosenGivesEmptyChartsAndAbsentRanksAnError) {
    run({file("run.h5")}, false, "csv", {"^no such region$"});
    const auto gantt = check_xml(read_text(out("gantt.svg")));
    EXPECT_EQ(gantt.count("rect.iv"), 0u);
    EXPECT_NE(read_text(out("flame.svg")).find("No intervals"), std::string::npos);
    const auto result = run_cli({"pproc", file("run.h5"), "--ranks", "3-4", "-o", out("other")}, dir_);
    EXPECT_EQ(result.code, 2);
    EXPECT_NE(result.err.find("none of the ranks chosen by --ranks"), std::string::npos) << result.err;
    EXPECT_FALSE(tools_test::fs::exists(out("other")));
}

TEST_F(Pproc, ChartsAFileTheLibraryWrote) {
    namespace sp = scope_profiler;
    tools_test::start_library_session(file("lib.h5"));
    const std::function<void(int)> recurse = [&](int n) {
        auto r = sp::ProfileManager::profile_region("pproc_recurse");
        if (n > 0) recurse(n - 1);
    };
    for (int i = 0; i < 4; ++i) {
        auto outer = sp::ProfileManager::profile_region("pproc_outer");
        recurse(3);
    }
    std::thread([] { auto r = sp::ProfileManager::profile_region("pproc_worker"); }).join();
    sp::ProfileManager::finalize();
    ASSERT_TRUE(tools_test::fs::exists(file("lib.h5")));
    const auto result = run_cli({"pproc", file("lib.h5"), "-o", out(""), "--export-data"}, dir_);
    ASSERT_EQ(result.code, 0) << result.err;
    // The recursion is a tower four deep under pproc_outer, four calls at each level.
    const std::string flame = read_text(out("flame.csv"));
    const std::string tower = "pproc_outer;pproc_recurse;pproc_recurse;pproc_recurse;pproc_recurse,5,pproc_recurse,4,";
    EXPECT_NE(flame.find(tower), std::string::npos) << flame;
    EXPECT_NE(flame.find("lib.h5,pproc_worker,1,pproc_worker,1,"), std::string::npos) << flame;
    // Two lanes holding 4 + 16 + 1 intervals (calls this short merge into fewer rectangles).
    const std::string gantt = read_text(out("gantt.svg"));
    check_xml(gantt);
    EXPECT_NE(gantt.find("rank 0 \u00b7 thread 0"), std::string::npos);
    EXPECT_NE(gantt.find("21 intervals"), std::string::npos);
    std::istringstream rows(read_text(out("gantt.csv")));
    std::string row;
    std::getline(rows, row);  // the header
    std::int64_t intervals = 0;
    while (std::getline(rows, row)) intervals += std::stoll(row.substr(row.rfind(',') + 1));
    EXPECT_EQ(intervals, 21);
}

TEST(GanttLayout, NarrowNeighboursMergeAndDeepCallsAreCounted) {
    using scope_profiler::cli::GanttLane;
    using scope_profiler::cli::Span;
    // 30 calls nested in each other, then 10 calls of 5 ns with gaps of 5 ns, at 10 ns a pixel.
    std::vector<Span> spans;
    for (int d = 0; d < 30; ++d) spans.push_back({1000 + d, 2000 - d, 0});
    for (int i = 0; i < 10; ++i) spans.push_back({3000 + 10 * i, 3005 + 10 * i, 1});
    GanttLane lane;
    scope_profiler::cli::lay_out_lane(spans, 1000, 10.0, lane);
    EXPECT_EQ(lane.intervals, 40u);
    EXPECT_EQ(lane.rows, scope_profiler::cli::kGanttMaxRows);
    EXPECT_EQ(lane.hidden, 30u - scope_profiler::cli::kGanttMaxRows);
    ASSERT_EQ(lane.items.size(), scope_profiler::cli::kGanttMaxRows + 1);
    const auto merged = std::find_if(lane.items.begin(), lane.items.end(), [](const GanttLane::Item& i) { return i.region == 1; });
    ASSERT_NE(merged, lane.items.end());
    EXPECT_EQ(merged->count, 10u);
    EXPECT_EQ(merged->start, 2000);  // relative to the origin, 1000
    EXPECT_EQ(merged->end, 2095);
    EXPECT_EQ(merged->depth, 0u);
}

TEST(GanttLayout, FilesShareTheLaneBudget) {
    // 1,500 lanes of one file and 10 of another, 1,000 drawn: the small file keeps all of its
    // lanes, the large one the rest, its busiest (here those of odd id).
    using scope_profiler::cli::GanttData;
    using scope_profiler::cli::GanttLane;
    GanttData data;
    data.files = {"big.h5", "small.h5"};
    for (std::size_t f = 0; f < 2; ++f) {
        for (int i = 0; i < (f == 0 ? 1500 : 10); ++i) {
            GanttLane& lane = data.lanes.emplace_back();
            lane.file = f;
            lane.id = i;
            lane.intervals = 2;
            lane.busy_ns = i % 2 == 1 ? 100 : 10;
        }
    }
    scope_profiler::cli::limit_lanes(data, 1000);
    ASSERT_EQ(data.lanes.size(), 1000u);
    EXPECT_EQ(data.lanes_left_out, (std::vector<std::size_t>{510, 0}));
    EXPECT_EQ(data.intervals_left_out, 1020u);
    // In their order: the 750 odd lanes of big.h5, then the 240 first even ones, and small.h5.
    std::size_t odd = 0;
    for (std::size_t i = 0; i < 990; ++i) {
        EXPECT_EQ(data.lanes[i].file, 0u);
        if (i > 0) EXPECT_LT(data.lanes[i - 1].id, data.lanes[i].id);
        odd += data.lanes[i].id % 2;
    }
    EXPECT_EQ(odd, 750u);
    EXPECT_EQ(data.lanes[989].id, 1499);
    EXPECT_EQ(data.lanes[990].file, 1u);
    EXPECT_EQ(data.lanes[999].id, 9);
}

TEST(Svg, EscapesTextAndFitsLabels) {
    using namespace scope_profiler::cli::svg;
    EXPECT_EQ(escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
    EXPECT_EQ(escape(std::string("x\x01y\xffz", 5)), "x\uFFFDy\uFFFDz");
    // An encoded surrogate: each byte replaced, as Unicode's "maximal subpart" practice says.
    EXPECT_EQ(escape("a\xED\xA0\x80" "b"), "a\uFFFD\uFFFD\uFFFD" "b");
    EXPECT_EQ(escape("a\xEF\xBF\xBE\xEF\xBF\xBF" "b"), "a\uFFFD\uFFFD" "b");  // U+FFFE, U+FFFF
    EXPECT_EQ(escape("a\xEF\xBF\xBD" "b"), "a\uFFFD" "b");            // U+FFFD itself stays
    EXPECT_EQ(escape("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");      // U+1F600 stays
    EXPECT_EQ(escape("caf\u00e9"), "caf\u00e9");
    EXPECT_EQ(fit_text("short", 100, 10), "short");
    const std::string cut = fit_text("a_rather_long_region_name", 60, 10);
    EXPECT_LE(text_width(cut, 10), 60);
    EXPECT_EQ(cut.substr(cut.size() - 3), "\u2026");
    EXPECT_EQ(fit_text("abc", 3, 10), "");
    EXPECT_EQ(format_duration(850), "850 ns");
    EXPECT_EQ(format_duration(1234567), "1.23 ms");
    EXPECT_EQ(format_duration(12.4e9), "12.4 s");
    EXPECT_EQ(nice_ticks(0, 9.3, 5), (std::vector<double>{0, 2, 4, 6, 8}));
    EXPECT_EQ(css_color(0xFF12AB34u), "#12ab34");
}

}  // namespace
