// Damaged files: whatever byte of a file's metadata is changed, the command ends with exit code
// 0 or 2 and one line, never with a signal, and leaves no output file behind when it fails.
// libhdf5 1.10 itself crashes (SIGSEGV in H5HG_read, H5F__accum_read) or loops for ever on some
// of these files; the command survives them because it reads in a supervised child process
// (tools/supervisor.hpp). Under AddressSanitizer the child's SIGSEGV must stay a signal
// (handle_segv=0) for the supervisor to see it, which is what the program does without ASan.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools_test_support.hpp"

using tools_test::run_cli;

namespace {

class DamagedFile : public tools_test::ScratchDir {
protected:
    void SetUp() override {
        ScratchDir::SetUp();
        set("SCOPE_PROFILER_READ_STALL_S", "2");
        const char* asan = std::getenv("ASAN_OPTIONS");
        // libhdf5's own out-of-bounds copies are not reported (tests/fuzz/libhdf5.supp), and an
        // impossible allocation it asks for (99 TB, seen) gets NULL as from glibc, not an abort.
        // Any other report (an invalid free() by libhdf5, seen) goes to a file (log_path) and
        // ends the process with SIGABRT, as the crash it would be without ASan; the supervisor
        // then says exit 2, and asan_reports_blame_libhdf5() checks every report's first frame.
        set("ASAN_OPTIONS", std::string(asan != nullptr ? asan : "") +
                                ":handle_segv=0:handle_sigbus=0:handle_sigfpe=0:print_suppressions=0:allocator_may_return_null=1:"
                                "abort_on_error=1:log_path=" + file("asan") + ":suppressions="
                                SCOPE_PROFILER_ASAN_SUPPRESSIONS);
        // Nor what libhdf5 keeps of a file it failed to parse (tests/fuzz/libhdf5_leaks.supp).
        const char* lsan = std::getenv("LSAN_OPTIONS");
        // (print_suppressions=0: the sanitizers' table of suppressions used would be more lines.)
        set("LSAN_OPTIONS", std::string(lsan != nullptr ? lsan : "") +
                                ":print_suppressions=0:suppressions=" SCOPE_PROFILER_LSAN_SUPPRESSIONS);
    }
    void TearDown() override {
        for (const auto& [name, value] : saved_) {
            if (value.has_value()) {
                ::setenv(name.c_str(), value->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
        ScratchDir::TearDown();
    }
    void set(const std::string& name, const std::string& value) {
        const char* old = std::getenv(name.c_str());
        saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
        ::setenv(name.c_str(), value.c_str(), 1);
    }

    /// Every sanitizer report left in the scratch directory (asan.<pid>) has its first frame
    /// outside the sanitizer runtime and libc in libhdf5; they are removed. Without ASan there
    /// are none.
    void asan_reports_blame_libhdf5(const std::string& where) {
        for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
            const std::string name = entry.path().filename().string();
            if (name.rfind("asan.", 0) != 0) continue;
            std::istringstream report(tools_test::read_text(entry.path().string()));
            std::string first;
            bool error = false;  // only a warning ("failed to allocate": NULL returned) otherwise
            for (std::string line; std::getline(report, line);) {
                error = error || line.find("ERROR: ") != std::string::npos;
                const auto hash = line.find_first_not_of(' ');
                if (hash == std::string::npos || line[hash] != '#') continue;
                const bool runtime = line.find("__asan") != std::string::npos ||
                                     line.find("__interceptor") != std::string::npos ||
                                     line.find("__sanitizer") != std::string::npos ||
                                     line.find("libc.so") != std::string::npos ||
                                     line.find("/libsanitizer/") != std::string::npos;
                if (!runtime) {
                    first = line;
                    break;
                }
            }
            if (error) EXPECT_NE(first.find("libhdf5"), std::string::npos) << where << "a report outside libhdf5: " << first;
            std::filesystem::remove(entry.path());
        }
    }

    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

/// stderr less ASan's own line for an allocation it refused ("==PID==WARNING: AddressSanitizer
/// failed to allocate ..."): where libhdf5 asks for an impossible size, glibc returns NULL
/// silently and the ASan build says so first; the command's own output is the rest.
std::string without_allocator_warnings(const std::string& err) {
    std::string kept;
    std::size_t begin = 0;
    while (begin < err.size()) {
        std::size_t end = err.find('\n', begin);
        end = end == std::string::npos ? err.size() : end + 1;
        const std::string line = err.substr(begin, end - begin);
        if (!(line.rfind("==", 0) == 0 && line.find("WARNING: AddressSanitizer failed to allocate") != std::string::npos)) {
            kept += line;
        }
        begin = end;
    }
    return kept;
}

std::vector<char> bytes_of(const std::string& path) {
    const std::string text = tools_test::read_text(path);
    return {text.begin(), text.end()};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_F(DamagedFile, ByteFlipsAroundTheGlobalHeapNeverEndInASignal) {
    tools_test::write_sample(file("sample.h5"), true);
    const std::vector<char> original = bytes_of(file("sample.h5"));
    std::filesystem::remove(file("sample.h5"));
    // The metadata's text attributes are variable-length strings: the attribute messages point
    // into a global heap collection ("GCOL"), where libhdf5 trusts every length and index it
    // reads. Flip bytes from 600 before the collection to 400 into it.
    const std::string gcol = "GCOL";
    const auto found = std::search(original.begin(), original.end(), gcol.begin(), gcol.end());
    ASSERT_NE(found, original.end()) << "the writer no longer makes a global heap: aim the flips anew";
    const auto heap = static_cast<std::size_t>(found - original.begin());
    const std::size_t first = heap > 600 ? heap - 600 : 0;
    const std::size_t last = std::min(original.size(), heap + 400);

    int failed = 0, crashed = 0, stalled = 0, runs = 0;
    for (std::size_t offset = first; offset < last; offset += 5, ++runs) {
        std::vector<char> damaged = original;
        damaged[offset] = static_cast<char>(damaged[offset] ^ 0x5a);
        write_bytes(file("f.h5"), damaged);
        // Each command in turn, each with an output that must not survive a failure.
        std::vector<std::string> args;
        switch (runs % 3) {
            case 0: args = {"report", file("f.h5"), "--json", file("r.json")}; break;
            case 1: args = {"pproc", file("f.h5"), "-o", file("charts")}; break;
            default: args = {"export", file("f.h5"), "--chrome-trace", file("t.json")}; break;
        }
        auto run = run_cli(args, dir_);
        run.err = without_allocator_warnings(run.err);
        const std::string where = "byte " + std::to_string(offset) + " flipped, " + args[0] + ": ";
        asan_reports_blame_libhdf5(where);
        ASSERT_TRUE(run.code == 0 || run.code == 2) << where << "exit " << run.code << "\n" << run.err;
        if (run.code == 2) {
            ++failed;
            EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << where << run.err;
            EXPECT_EQ(run.err.rfind("scope-profiler: ", 0), 0u) << where << run.err;
            crashed += run.err.find("crashed reading") != std::string::npos;
            stalled += run.err.find("made no progress") != std::string::npos;
            std::vector<std::string> left = files();
            std::erase_if(left, [](const std::string& name) { return name == "f.h5" || name == "charts"; });
            EXPECT_TRUE(left.empty()) << where << "left " << left.front();
            if (std::filesystem::exists(file("charts"))) {
                EXPECT_TRUE(std::filesystem::is_empty(file("charts"))) << where << "pproc left charts";
            }
        }
        std::filesystem::remove_all(file("charts"));
        std::filesystem::remove(file("r.json"));
        std::filesystem::remove(file("t.json"));
    }
    // What libhdf5 did with these files, for the log (its crashes are its own; the numbers
    // depend on its version).
    std::cout << runs << " damaged files: " << failed << " refused (exit 2), of which libhdf5 crashed on " << crashed
              << " and looped on " << stalled << std::endl;
    EXPECT_GE(runs, 150);
}

TEST_F(DamagedFile, ABadStallLimitIsBadInput) {
    tools_test::write_sample(file("run.h5"), false);
    set("SCOPE_PROFILER_READ_STALL_S", "soon");
    const auto run = run_cli({"report", file("run.h5")}, dir_);
    EXPECT_EQ(run.code, 2);
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    EXPECT_NE(run.err.find("SCOPE_PROFILER_READ_STALL_S='soon'"), std::string::npos) << run.err;
}

namespace {

/// A region "big" whose start_times and end_times are chunked, hold 10 written intervals, and
/// declare `declared` (HDF5 would return fill values for the rest).
void write_declaring(const std::string& path, hsize_t declared) {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t rank = H5Gcreate2(file, "rank0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t regions = H5Gcreate2(rank, "regions", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t group = H5Gcreate2(regions, "big", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (const char* name : {"start_times", "end_times"}) {
        const hsize_t ten = 10, unlimited = H5S_UNLIMITED, chunk = 1024;
        const hid_t space = H5Screate_simple(1, &ten, &unlimited);
        const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(dcpl, 1, &chunk);
        const hid_t dataset = H5Dcreate2(group, name, H5T_STD_I64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        const std::vector<std::int64_t> values = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        H5Dwrite(dataset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
        ASSERT_GE(H5Dset_extent(dataset, &declared), 0);
        H5Dclose(dataset);
        H5Pclose(dcpl);
        H5Sclose(space);
    }
    H5Gclose(group);
    H5Gclose(regions);
    H5Gclose(rank);
    H5Fclose(file);
}

}  // namespace

// Before: 10^9 declared made `report` pass 8 GiB of memory, 10^12 made pproc and export run
// for minutes without progress. Now every command refuses the file at once.
TEST_F(DamagedFile, ADatasetDeclaringMoreThanItStoresIsRefused) {
    for (const hsize_t declared : {hsize_t{1'000'000'000}, hsize_t{1'000'000'000'000}}) {
        write_declaring(file("big.h5"), declared);
        EXPECT_LT(std::filesystem::file_size(file("big.h5")), 100'000u);
        const std::string expected = "rank0/regions/big/start_times declares " + std::to_string(declared) + " elements";
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"report", file("big.h5")},
              std::vector<std::string>{"pproc", file("big.h5"), "-o", file("charts")},
              std::vector<std::string>{"export", file("big.h5"), "--chrome-trace", file("t.json")},
              std::vector<std::string>{"compare", file("big.h5"), file("big.h5"), "--json", file("t.json")}}) {
            const auto run = run_cli(args, dir_);
            EXPECT_EQ(run.code, 2) << args[0] << ": " << run.err;
            EXPECT_NE(run.err.find(expected), std::string::npos) << args[0] << ": " << run.err;
            EXPECT_FALSE(std::filesystem::exists(file("t.json")));
        }
    }
    // What is stored is read as before: the same file without the extension.
    write_declaring(file("big.h5"), 10);
    const auto run = run_cli({"report", file("big.h5")}, dir_);
    EXPECT_EQ(run.code, 0) << run.err;
    EXPECT_NE(run.out.find("big"), std::string::npos);
}

namespace {

/// Adds groups (with nothing in them) and, when `offset` is set, a clock_offset_ns to rank0.
void amend(const std::string& path, const std::vector<std::string>& groups, std::optional<std::int64_t> offset) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    for (const auto& name : groups) H5Gclose(H5Gcreate2(file, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (offset) {
        const hid_t rank = H5Gopen2(file, "rank0", H5P_DEFAULT);
        const hid_t scalar = H5Screate(H5S_SCALAR);
        const hid_t attribute = H5Acreate2(rank, "clock_offset_ns", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(attribute, H5T_NATIVE_INT64, &*offset);
        H5Aclose(attribute);
        H5Sclose(scalar);
        H5Gclose(rank);
    }
    H5Fclose(file);
}

std::size_t lines_of(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

// Before: such intervals went into every result (a negative duration in the statistics, UBSan
// overflows in the nesting and the charts, `"ts":--9223372036854775.(0(` in the Chrome trace).
TEST_F(DamagedFile, IntervalsNoClockGivesAreLeftOutAndSaidSo) {
    constexpr std::int64_t kBeyond = (std::int64_t{1} << 62) + 1;
    tools_test::write_python(file("odd.h5"),
                             {{0, {{"r", {10, -5, 50, 100, 0, INT64_MIN}, {20, 5, 40, kBeyond, 30, INT64_MAX}}}}});
    amend(file("odd.h5"), {"rankX", "rank-1"}, std::nullopt);
    const auto run = run_cli({"report", file("odd.h5"), "--json", file("r.json")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(lines_of(run.err), 2u) << run.err;
    EXPECT_NE(run.err.find("warning: " + file("odd.h5") + ": left out 4 intervals whose times no clock gives"),
              std::string::npos) << run.err;
    EXPECT_NE(run.err.find("first: rank0/regions/r, host interval 1: start -5 ns, end 5 ns"), std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find("left out the groups rank-1, rankX, which are not rank<N>"), std::string::npos)
        << run.err;
    const auto json = nlohmann::json::parse(tools_test::read_text(file("r.json")));
    const auto& r = json["files"][0]["region_statistics"]["r"];
    EXPECT_EQ(r["count"], 2);  // [10, 20) and [0, 30)
    EXPECT_EQ(r["total_duration_ns"], 40);
    EXPECT_EQ(r["min_duration_ns"], 10);

    const auto trace = run_cli({"export", file("odd.h5"), "--chrome-trace", file("t.json")}, dir_);
    ASSERT_EQ(trace.code, 0) << trace.err;
    std::size_t intervals = 0;
    const auto events = nlohmann::json::parse(tools_test::read_text(file("t.json")));
    for (const auto& event : events["traceEvents"]) {
        if (event["ph"] != "X") continue;
        ++intervals;
        EXPECT_GE(event["ts"].get<double>(), 0.0);
        EXPECT_GE(event["dur"].get<double>(), 0.0);
    }
    EXPECT_EQ(intervals, 2u);
    EXPECT_EQ(run_cli({"pproc", file("odd.h5"), "-o", file("charts")}, dir_).code, 0);
}

TEST_F(DamagedFile, AClockOffsetThatCarriesTimesOutOf64BitsLeavesThemOut) {
    tools_test::write_python(file("offset.h5"), {{0, {{"r", {10, 20}, {15, 30}}}}});
    amend(file("offset.h5"), {}, INT64_MAX - 12);
    const auto run = run_cli({"report", file("offset.h5"), "--json", file("r.json")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    EXPECT_NE(run.err.find("left out 2 intervals"), std::string::npos) << run.err;
    const auto json = nlohmann::json::parse(tools_test::read_text(file("r.json")));
    EXPECT_EQ(json["files"][0]["region_statistics"]["r"]["count"], 0);
}

TEST_F(DamagedFile, DurationsThatAddUpBeyond64BitsAreBadInput) {
    constexpr std::int64_t kLatest = std::int64_t{1} << 62;
    tools_test::write_python(file("sum.h5"), {{0, {{"r", {0, 0, 0}, {kLatest, kLatest, kLatest}}}}});
    for (const std::vector<std::string>& args : {std::vector<std::string>{"report", file("sum.h5")},
                                                 std::vector<std::string>{"pproc", file("sum.h5"), "-o", file("c")},
                                                 std::vector<std::string>{"compare", file("sum.h5"), file("sum.h5")}}) {
        const auto run = run_cli(args, dir_);
        EXPECT_EQ(run.code, 2) << args[0] << ": " << run.err;
        EXPECT_EQ(lines_of(run.err), 1u) << run.err;
        EXPECT_NE(run.err.find(file("sum.h5") + ": its durations add up to more than 2^63 ns"), std::string::npos)
            << args[0] << ": " << run.err;
    }
}

// A region group made but not filled (the writer failed or was killed between creating the
// group and its last dataset) costs only that region, with a warning; before, the command
// refused the whole file ("end_times is missing").
TEST_F(DamagedFile, ARegionGroupTheWriterDidNotFinishIsLeftOut) {
    tools_test::write_python(file("half.h5"), {{0, {{"whole", {0, 10}, {5, 20}}, {"empty_start", {}, {}, false}}}});
    amend(file("half.h5"), {"rank0/regions/bare"}, std::nullopt);
    const auto run = run_cli({"report", file("half.h5"), "--json", file("r.json")}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(lines_of(run.err), 1u) << run.err;
    EXPECT_NE(run.err.find("left out rank0/regions/bare, rank0/regions/empty_start, region groups without datasets"),
              std::string::npos) << run.err;
    const auto json = nlohmann::json::parse(tools_test::read_text(file("r.json")));
    const auto& regions = json["files"][0]["region_statistics"];
    EXPECT_EQ(regions.size(), 1u) << regions.dump();
    EXPECT_EQ(regions["whole"]["count"], 2);
}

// What the fuzzer found (scripts/fuzz.sh, tests/fuzz/regressions/): inputs on which libhdf5
// crashes or loops. Each must end in exit code 2 and one line, through every subcommand that
// reads intervals.
TEST_F(DamagedFile, TheFuzzersFindingsEndInExitCodeTwo) {
    std::size_t inputs = 0;
    for (const auto& entry : std::filesystem::directory_iterator(SCOPE_PROFILER_FUZZ_REGRESSIONS)) {
        if (entry.path().extension() != ".h5") continue;
        ++inputs;
        const std::string input = entry.path().string();
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"report", input}, std::vector<std::string>{"pproc", input, "-o", file("c")},
              std::vector<std::string>{"export", input, "--chrome-trace", file("t.json")},
              std::vector<std::string>{"compare", input, input, "--json", file("t.json")}}) {
            auto run = run_cli(args, dir_);
            run.err = without_allocator_warnings(run.err);
            asan_reports_blame_libhdf5(entry.path().filename().string() + ", " + args[0] + ": ");
            EXPECT_EQ(run.code, 2) << entry.path().filename() << ", " << args[0] << ": " << run.err;
            EXPECT_EQ(lines_of(run.err), 1u) << entry.path().filename() << ", " << args[0] << ": " << run.err;
        }
    }
    EXPECT_EQ(inputs, 6u);
}
