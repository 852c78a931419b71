#pragma once
// Shared by the tools' tests: a scratch directory per test, files in our layout (through the
// library's writer) and in the Python scope-profiler's plain layout (HDF5's C API), and the
// built program run as a subprocess.

#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <scope_profiler/scope_profiler.hpp>

#include "h5_writer.hpp"

namespace tools_test {

namespace fs = std::filesystem;
namespace h5 = scope_profiler::detail::h5;

/// A fresh directory per test, removed afterwards.
class ScratchDir : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               ("sp_tools_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    [[nodiscard]] std::string file(const std::string& name) const { return (dir_ / name).string(); }
    /// The names of the files in the scratch directory.
    [[nodiscard]] std::vector<std::string> files() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
        return names;
    }

    fs::path dir_;
};

/// A host-only region: intervals [starts[i], ends[i]) on thread `thread`.
inline h5::RegionColumns host_region(std::string name, std::vector<std::int64_t> starts,
                                     std::vector<std::int64_t> ends, std::int32_t thread = 0) {
    h5::RegionColumns r;
    r.name = std::move(name);
    r.thread_ids.assign(starts.size(), thread);
    r.start_times = std::move(starts);
    r.end_times = std::move(ends);
    return r;
}

/// Our layout, through the library's writer: metadata with a hostname and an mpi_size.
inline void write_ours(const std::string& path,
                       const std::vector<std::pair<int, std::vector<h5::RegionColumns>>>& ranks) {
    h5::Metadata metadata;
    metadata.text = {{"hostname", "testhost"}, {"clock", "steady_clock"}};
    metadata.numbers = {{"mpi_size", static_cast<std::int64_t>(ranks.size())}};
    h5::write_merged(path, metadata, ranks);
}

/// Starts a session of the library itself that writes `path` (NVTX off).
inline void start_library_session(const std::string& path) {
    scope_profiler::Config config;
    config.file_path = path;
    config.use_nvtx = false;
    scope_profiler::ProfileManager::setup(config);
}

/// The file most tests read. rank 0: "outer" [0,100) on thread 0 holding "inner" [10,30) and
/// [40,60); "inner" [0,50) on thread 1; two device intervals of "inner" on stream 7 ([5,10) and
/// [15,35), the second timed on the host). With `second_rank`, rank 1: "outer" [0,300).
inline void write_sample(const std::string& path, bool second_rank) {
    auto inner = host_region("inner", {10, 40, 0}, {30, 60, 50});
    inner.thread_ids = {0, 0, 1};
    inner.device_start_times = {5, 15};
    inner.device_end_times = {10, 35};
    inner.device_stream_ids = {7, 7};
    inner.device_host_fallback = {0, 1};
    std::vector<std::pair<int, std::vector<h5::RegionColumns>>> ranks = {{0, {host_region("outer", {0}, {100}), inner}}};
    if (second_rank) ranks.push_back({1, {host_region("outer", {0}, {300})}});
    write_ours(path, ranks);
}

/// One region of the Python layout: start_times and end_times only (their lengths may differ,
/// for the bad-input tests); `with_end` false leaves end_times out.
struct PythonRegion {
    std::string name;
    std::vector<std::int64_t> start_times, end_times;
    bool with_end = true;
};

inline void write_dataset(hid_t group, const char* name, const std::vector<std::int64_t>& values) {
    const hsize_t n = values.size();
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t dataset = H5Dcreate2(group, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (n > 0) H5Dwrite(dataset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(dataset);
    H5Sclose(space);
}

/// The Python scope-profiler's file: rank<N>/regions/<name>/{start_times,end_times}, and
/// metadata attributes as it writes them (a string, an integer, a float, a list of strings).
inline void write_python(const std::string& path, const std::vector<std::pair<int, std::vector<PythonRegion>>>& ranks) {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hid_t metadata = H5Gcreate2(file, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    {
        const hid_t scalar = H5Screate(H5S_SCALAR);
        const hid_t text = H5Tcopy(H5T_C_S1);
        H5Tset_size(text, H5T_VARIABLE);
        const char* user = "alice";
        hid_t a = H5Acreate2(metadata, "user", text, scalar, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, text, &user);
        H5Aclose(a);
        const std::int64_t threads = 8;
        a = H5Acreate2(metadata, "omp_num_threads", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_INT64, &threads);
        H5Aclose(a);
        const double load = 0.5;
        a = H5Acreate2(metadata, "load", H5T_IEEE_F64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_DOUBLE, &load);
        H5Aclose(a);
        const hsize_t two = 2;
        const hid_t pair = H5Screate_simple(1, &two, nullptr);
        const char* modules[] = {"gcc/12", "hdf5/1.10"};
        a = H5Acreate2(metadata, "modules", text, pair, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, text, modules);
        H5Aclose(a);
        H5Sclose(pair);
        H5Tclose(text);
        H5Sclose(scalar);
    }
    H5Gclose(metadata);
    for (const auto& [rank, regions] : ranks) {
        const std::string rank_name = "rank" + std::to_string(rank);
        const hid_t rank_group = H5Gcreate2(file, rank_name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        const hid_t regions_group = H5Gcreate2(rank_group, "regions", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        for (const auto& region : regions) {
            const hid_t group = H5Gcreate2(regions_group, region.name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            write_dataset(group, "start_times", region.start_times);
            if (region.with_end) write_dataset(group, "end_times", region.end_times);
            H5Gclose(group);
        }
        H5Gclose(regions_group);
        H5Gclose(rank_group);
    }
    H5Fclose(file);
}

/// What a run of the program left: exit code, stdout, stderr.
struct Run {
    int code = -1;
    std::string out, err;
};

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Single-quoted for the shell.
inline std::string quoted(const std::string& arg) {
    std::string q = "'";
    for (const char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

/// Runs the built scope-profiler with `args`, stdout and stderr captured in `dir`.
inline Run run_cli(const std::vector<std::string>& args, const fs::path& dir) {
    std::string command = quoted(SCOPE_PROFILER_CLI_PATH);
    for (const auto& arg : args) command += " " + quoted(arg);
    const std::string out = (dir / "stdout.txt").string(), err = (dir / "stderr.txt").string();
    command += " >" + quoted(out) + " 2>" + quoted(err) + " </dev/null";
    const int status = std::system(command.c_str());
    Run run;
    run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = read_text(out);
    run.err = read_text(err);
    fs::remove(out);
    fs::remove(err);
    return run;
}

}  // namespace tools_test
