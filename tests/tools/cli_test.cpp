// The built program run as a user runs it: exit codes, one-line messages, no partial output
// files, the JSON/CSV/Chrome trace it writes, and a file the library itself wrote.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <scope_profiler/scope_profiler.hpp>

#include "tools_test_support.hpp"

using tools_test::host_region;
using tools_test::PythonRegion;
using tools_test::run_cli;

namespace {

class Cli : public tools_test::ScratchDir {
protected:
    void SetUp() override {
        ScratchDir::SetUp();
        tools_test::write_sample(file("run.h5"), false);
    }

    /// Runs a command that must fail on bad input: exit code 2, exactly one line on stderr
    /// holding `expected`, nothing on stdout, and no file left but the inputs.
    void expect_bad_input(const std::vector<std::string>& args, const std::string& expected) {
        auto before = files();
        const auto run = run_cli(args, dir_);
        EXPECT_EQ(run.code, 2) << run.err;
        EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
        EXPECT_EQ(run.err.rfind("scope-profiler: ", 0), 0u) << run.err;
        EXPECT_NE(run.err.find(expected), std::string::npos) << run.err;
        auto after = files();
        std::sort(before.begin(), before.end());
        std::sort(after.begin(), after.end());
        EXPECT_EQ(after, before) << "a command that failed left a file behind";
    }
};

}  // namespace

TEST_F(Cli, ReportPrintsATablePerFile) {
    const auto run = run_cli({"report", file("run.h5")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    EXPECT_TRUE(run.err.empty()) << run.err;
    EXPECT_NE(run.out.find("inner"), std::string::npos);
    EXPECT_NE(run.out.find("p99"), std::string::npos);
    EXPECT_NE(run.out.find("device intervals"), std::string::npos);
    EXPECT_LT(run.out.find("outer"), run.out.find("inner"));  // sorted by total: 100 ns before 90 ns
    const auto by_calls = run_cli({"report", file("run.h5"), "--sort", "calls"}, dir_);
    EXPECT_LT(by_calls.out.find("inner"), by_calls.out.find("outer"));
}

TEST_F(Cli, OptionsMayComeBeforeTheFiles) {
    const auto run = run_cli({"report", "--include", "inn", "--exclude", "x", "--sort", "name", file("run.h5")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    EXPECT_NE(run.out.find("inner"), std::string::npos);
    EXPECT_EQ(run.out.find("outer"), std::string::npos);
}

TEST_F(Cli, ReportWritesJsonAndCsv) {
    const auto run = run_cli({"report", file("run.h5"), "--json", file("s.json"), "--csv", file("s.csv")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    const auto j = nlohmann::json::parse(tools_test::read_text(file("s.json")));
    EXPECT_EQ(j["files"][0]["region_statistics"]["inner"]["count"], 3);
    EXPECT_EQ(j["files"][0]["region_statistics"]["outer"]["self_ns"], 60);
    const std::string csv = tools_test::read_text(file("s.csv"));
    EXPECT_EQ(csv.rfind("file,rank,region,kind,count,total_ns,", 0), 0u);
    EXPECT_NE(csv.find(",all,inner,host,3,90,30,20,50,"), std::string::npos) << csv;
}

TEST_F(Cli, ReportReadsThePythonLayout) {
    tools_test::write_python(file("py.h5"), {{0, {PythonRegion{"solve", {0, 100}, {10, 130}}}},
                                             {1, {PythonRegion{"solve", {0}, {50}}}}});
    const auto run = run_cli({"report", file("py.h5"), "--ranks", "1", "--json", file("py.json")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    const auto j = nlohmann::json::parse(tools_test::read_text(file("py.json")));
    const auto& solve = j["files"][0]["region_statistics"]["solve"];
    EXPECT_EQ(solve["count"], 1);
    EXPECT_EQ(solve["total_duration_ns"], 50);
    EXPECT_EQ(j["filters"]["ranks"], nlohmann::json::array({1}));
    // The metadata's values as the file holds them: integers, floats, text.
    const auto& metadata = j["files"][0]["metadata"];
    EXPECT_EQ(metadata["user"], "alice");
    EXPECT_TRUE(metadata["omp_num_threads"].is_number_integer()) << metadata["omp_num_threads"];
    EXPECT_EQ(metadata["omp_num_threads"], 8);
    EXPECT_TRUE(metadata["load"].is_number_float()) << metadata["load"];
    EXPECT_EQ(metadata["load"], 0.5);
    EXPECT_EQ(metadata["modules"], "gcc/12, hdf5/1.10");  // an array: its elements joined, as text
}

TEST_F(Cli, ReportOfSeveralFilesListsCommonRegions) {
    tools_test::write_ours(file("other.h5"), {{0, {host_region("outer", {0}, {10})}}});
    const auto run = run_cli({"report", file("run.h5"), file("other.h5"), "--json", file("s.json")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    const auto j = nlohmann::json::parse(tools_test::read_text(file("s.json")));
    EXPECT_EQ(j["files"].size(), 2u);
    EXPECT_EQ(j["common_regions"], nlohmann::json::array({"outer"}));
}

TEST_F(Cli, BadInputExitsWithCodeTwoAndOneLine) {
    std::ofstream(file("text.h5")) << "hello\n";
    const std::string bytes = tools_test::read_text(file("run.h5"));
    std::ofstream(file("cut.h5"), std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    tools_test::write_python(file("nodata.h5"), {{0, {PythonRegion{"solve", {0}, {}, false}}}});
    tools_test::write_python(file("mismatch.h5"), {{0, {PythonRegion{"solve", {0, 1}, {3}}}}});
    const std::string json = file("out.json");
    expect_bad_input({"report", file("absent.h5"), "--json", json}, "absent.h5: no such file");
    expect_bad_input({"report", file("text.h5"), "--json", json}, "not an HDF5 file");
    expect_bad_input({"report", file("cut.h5"), "--json", json}, "truncated or damaged");
    expect_bad_input({"report", file("nodata.h5"), "--json", json}, "solve/end_times is missing");
    expect_bad_input({"report", file("mismatch.h5"), "--json", json}, "end_times has 1 elements but start_times has 2");
    expect_bad_input({"report", file("run.h5"), "--json", json, "--include", "(unclosed"}, "--include: '(unclosed'");
    expect_bad_input({"report", file("run.h5"), "--json", json, "--ranks", "3-1"}, "--ranks");
    expect_bad_input({"report", file("run.h5"), "--json", json, "--ranks", "7"}, "none of the ranks");
    expect_bad_input({"report", file("run.h5"), "--json", json, "--sort", "colour"}, "--sort: unknown column");
    expect_bad_input({"report", file("run.h5"), "--json", json, "--frobnicate"}, "--frobnicate");
    expect_bad_input({"report"}, "files is required");
    expect_bad_input({}, "subcommand");
    expect_bad_input({"export", file("cut.h5"), "--chrome-trace", file("t.json")}, "truncated or damaged");
    expect_bad_input({"export", file("run.h5"), "--chrome-trace", file("t.json"), "--ranks", "4"}, "none of the ranks");
    expect_bad_input({"export", file("run.h5"), "--chrome-trace", file("no/such/dir/t.json")}, "cannot write");
}

TEST_F(Cli, AnOutputThatIsAnInputIsRefusedAndTheInputKept) {
    // `report p.h5 --json p.h5` once replaced the profile with its report.
    const std::string input = file("run.h5");
    const std::string before = tools_test::read_text(input);
    std::filesystem::create_hard_link(input, file("alias.h5"));  // the same file under another name
    expect_bad_input({"report", input, "--json", input}, "it is the input");
    expect_bad_input({"report", input, "--csv", file("alias.h5")}, "it is the input");
    expect_bad_input({"export", input, "--chrome-trace", input}, "it is the input");
    EXPECT_EQ(tools_test::read_text(input), before);
}

TEST_F(Cli, AnInputThatIsNotARegularFileIsRefusedAtOnce) {
    // A FIFO once made the command wait for ever.
    const std::string fifo = file("fifo.h5");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    expect_bad_input({"report", fifo}, "is not a regular file");
    expect_bad_input({"export", fifo, "--chrome-trace", file("t.json")}, "is not a regular file");
}

TEST_F(Cli, AFailedReportLeavesAnExistingOutputAsItWas) {
    std::ofstream(file("keep.json")) << "{\"old\": true}";
    const auto run = run_cli({"report", file("absent.h5"), "--json", file("keep.json")}, dir_);
    EXPECT_EQ(run.code, 2);
    EXPECT_EQ(tools_test::read_text(file("keep.json")), "{\"old\": true}");
}

TEST_F(Cli, HelpAndVersionExitZero) {
    EXPECT_EQ(run_cli({"--help"}, dir_).code, 0);
    EXPECT_EQ(run_cli({"report", "--help"}, dir_).code, 0);
    const auto version = run_cli({"--version"}, dir_);
    EXPECT_EQ(version.code, 0);
    EXPECT_EQ(version.out.rfind(scope_profiler::version_string, 0), 0u) << version.out;
}

TEST_F(Cli, ChromeTraceHasAProcessPerRankATrackPerThreadAndStream) {
    const auto run = run_cli({"export", file("run.h5"), "--chrome-trace", file("trace.json")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    const auto trace = nlohmann::json::parse(tools_test::read_text(file("trace.json")));
    EXPECT_EQ(trace["otherData"]["hostname"], "testhost");
    EXPECT_TRUE(trace["otherData"]["mpi_size"].is_number_integer()) << trace["otherData"]["mpi_size"];
    std::map<long long, std::string> track_names;
    std::vector<nlohmann::json> complete;
    std::string process;
    for (const auto& e : trace["traceEvents"]) {
        if (e["ph"] == "X") complete.push_back(e);
        if (e["ph"] == "M" && e["name"] == "thread_name") track_names[e["tid"]] = e["args"]["name"];
        if (e["ph"] == "M" && e["name"] == "process_name") process = e["args"]["name"];
    }
    EXPECT_EQ(process, "rank 0");
    ASSERT_EQ(complete.size(), 6u);  // 4 host + 2 device intervals
    EXPECT_EQ(track_names[0], "thread 0");
    EXPECT_EQ(track_names[1], "thread 1");
    EXPECT_EQ(track_names[1000], "stream 7");
    double earliest = 1e300;
    int fallback = 0, on_stream = 0;
    for (const auto& e : complete) {
        earliest = std::min(earliest, e["ts"].get<double>());
        if (e["cat"] == "device") {
            ++on_stream;
            EXPECT_EQ(e["tid"], 1000);
            if (e.contains("args") && e["args"]["host_fallback"] == true) ++fallback;
        }
        if (e["name"] == "inner" && e["tid"] == 0 && e["ts"].get<double>() == 0.01) {
            EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 0.02);  // [10,30) ns in microseconds
        }
    }
    EXPECT_EQ(earliest, 0.0);
    EXPECT_EQ(on_stream, 2);
    EXPECT_EQ(fallback, 1);
}

TEST_F(Cli, ChromeTraceHasAProcessPerRank) {
    tools_test::write_sample(file("two.h5"), true);
    const auto run = run_cli({"export", file("two.h5"), "--chrome-trace", file("t.json")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    const auto trace = nlohmann::json::parse(tools_test::read_text(file("t.json")));
    std::map<int, std::string> processes;
    std::map<int, int> events;
    for (const auto& e : trace["traceEvents"]) {
        if (e["ph"] == "M" && e["name"] == "process_name") processes[e["pid"]] = e["args"]["name"];
        if (e["ph"] == "X") ++events[e["pid"]];
    }
    EXPECT_EQ(processes, (std::map<int, std::string>{{0, "rank 0"}, {1, "rank 1"}}));
    EXPECT_EQ(events[0], 6);
    EXPECT_EQ(events[1], 1);
    const auto only_one = run_cli({"export", file("two.h5"), "--chrome-trace", file("t1.json"), "--ranks", "1"}, dir_);
    ASSERT_EQ(only_one.code, 0) << only_one.err;
    int rank0_events = 0;
    const auto rank1_trace = nlohmann::json::parse(tools_test::read_text(file("t1.json")));
    for (const auto& e : rank1_trace["traceEvents"]) {
        rank0_events += e["pid"] == 0;
    }
    EXPECT_EQ(rank0_events, 0);
}

TEST_F(Cli, ChromeTraceFiltersRegions) {
    const auto run = run_cli({"export", file("run.h5"), "--chrome-trace", file("t.json"), "--exclude", "inner"}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    const auto trace = nlohmann::json::parse(tools_test::read_text(file("t.json")));
    int complete = 0;
    for (const auto& e : trace["traceEvents"]) complete += e["ph"] == "X";
    EXPECT_EQ(complete, 1);
}

TEST_F(Cli, ReportsAFileTheLibraryWrote) {
    namespace sp = scope_profiler;
    tools_test::start_library_session(file("e2e.h5"));
    for (int i = 0; i < 5; ++i) {
        auto outer = sp::ProfileManager::profile_region("e2e_outer");
        for (int k = 0; k < 3; ++k) auto inner = sp::ProfileManager::profile_region("e2e_inner");
    }
    sp::ProfileManager::finalize();
    ASSERT_TRUE(tools_test::fs::exists(file("e2e.h5")));
    const auto run = run_cli({"report", file("e2e.h5"), "--json", file("e2e.json")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    const auto j = nlohmann::json::parse(tools_test::read_text(file("e2e.json")));
    const auto& regions = j["files"][0]["region_statistics"];
    EXPECT_EQ(regions["e2e_outer"]["count"], 5);
    EXPECT_EQ(regions["e2e_inner"]["count"], 15);
    // Nesting: the outer scopes hold the inner ones, so outer's self time is its total minus inner's.
    EXPECT_EQ(regions["e2e_outer"]["inclusive_ns"], regions["e2e_outer"]["total_duration_ns"]);
    EXPECT_EQ(regions["e2e_outer"]["self_ns"].get<std::int64_t>(),
              regions["e2e_outer"]["total_duration_ns"].get<std::int64_t>() -
                  regions["e2e_inner"]["total_duration_ns"].get<std::int64_t>());
}
