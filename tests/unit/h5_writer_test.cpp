// The HDF5 writer (core/h5_writer.hpp): names, per-rank files, the merged file, and what is left
// on disk after a kill or a full disk. Files are read back with HDF5's C API. (Over 500 lines:
// one suite for the writer, whose cases share the readers and fixtures at its top.)
#include <gtest/gtest.h>

#include <hdf5.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "format/names.hpp"
#include "h5_read.hpp"
#include "scratch_dir.hpp"
#include "h5_writer.hpp"
#include "scope_profiler/version.hpp"

namespace {

namespace h5 = scope_profiler::detail::h5;
namespace fs = std::filesystem;
using h5::RegionColumns;
using namespace h5_read;


void expect_same(const RegionColumns& a, const RegionColumns& b) {
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.start_times, b.start_times) << scope_profiler::format::escape_name(a.name);
    EXPECT_EQ(a.end_times, b.end_times) << scope_profiler::format::escape_name(a.name);
    EXPECT_EQ(a.thread_ids, b.thread_ids) << scope_profiler::format::escape_name(a.name);
    EXPECT_EQ(a.device_start_times, b.device_start_times) << scope_profiler::format::escape_name(a.name);
    EXPECT_EQ(a.device_end_times, b.device_end_times) << scope_profiler::format::escape_name(a.name);
    EXPECT_EQ(a.device_stream_ids, b.device_stream_ids) << scope_profiler::format::escape_name(a.name);
    EXPECT_EQ(a.device_host_fallback, b.device_host_fallback) << scope_profiler::format::escape_name(a.name);
}

bool same(const RegionColumns& a, const RegionColumns& b) {
    return a.name == b.name && a.start_times == b.start_times && a.end_times == b.end_times &&
           a.thread_ids == b.thread_ids && a.device_start_times == b.device_start_times &&
           a.device_end_times == b.device_end_times && a.device_stream_ids == b.device_stream_ids &&
           a.device_host_fallback == b.device_host_fallback;
}

void expect_same(const Layout& a, const Layout& b) {
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [rank, regions] : a) {
        ASSERT_TRUE(b.contains(rank)) << "rank " << rank;
        const auto& other = b.at(rank);
        ASSERT_EQ(regions.size(), other.size()) << "rank " << rank;
        for (const auto& [name, columns] : regions) {
            ASSERT_TRUE(other.contains(name)) << scope_profiler::format::escape_name(name);
            expect_same(columns, other.at(name));
        }
    }
}

// ---- data -----------------------------------------------------------------------------------

RegionColumns make_columns(const std::string& name, std::size_t host, std::size_t device,
                           std::uint64_t seed) {
    std::mt19937_64 random(seed);
    RegionColumns r;
    r.name = name;
    std::int64_t t = static_cast<std::int64_t>(random() % 1'000'000'000'000);
    for (std::size_t i = 0; i < host; ++i) {
        r.start_times.push_back(t);
        t += static_cast<std::int64_t>(random() % 100'000);
        r.end_times.push_back(t);
        r.thread_ids.push_back(static_cast<std::int32_t>(random() % 64));
    }
    for (std::size_t i = 0; i < device; ++i) {
        r.device_start_times.push_back(t);
        t += static_cast<std::int64_t>(random() % 100'000);
        r.device_end_times.push_back(t);
        r.device_stream_ids.push_back(static_cast<std::int64_t>(random()));
        r.device_host_fallback.push_back(static_cast<std::uint8_t>(random() % 2));
    }
    return r;
}

void append_to(RegionColumns& all, const RegionColumns& chunk) {
    const auto add = [](auto& to, const auto& from) { to.insert(to.end(), from.begin(), from.end()); };
    all.name = chunk.name;
    add(all.start_times, chunk.start_times);
    add(all.end_times, chunk.end_times);
    add(all.thread_ids, chunk.thread_ids);
    add(all.device_start_times, chunk.device_start_times);
    add(all.device_end_times, chunk.device_end_times);
    add(all.device_stream_ids, chunk.device_stream_ids);
    add(all.device_host_fallback, chunk.device_host_fallback);
}

const std::vector<std::string>& tricky_names() {
    static const std::vector<std::string> names = {
        "a/b", ".", "..", "%", "ünï", "\xff\xfe", "tab\t", "x/./y", "plain", " spaced name ",
        "%2F", "/", "//", "日本語", std::string("nul\0inside", 10), "\xed\xa0\x80", "\xc0\xaf"};
    return names;
}

/// Every test writes under its own directory, removed afterwards.
class H5Writer : public ScratchDir {};

// ---- names ----------------------------------------------------------------------------------

TEST(H5Names, EscapeIsReversibleOnTrickyNames) {
    EXPECT_EQ(scope_profiler::format::escape_name("a/b"), "a%2Fb");
    EXPECT_EQ(scope_profiler::format::escape_name("."), "%2E");
    EXPECT_EQ(scope_profiler::format::escape_name(".."), "..");
    EXPECT_EQ(scope_profiler::format::escape_name("%"), "%25");
    EXPECT_EQ(scope_profiler::format::escape_name("ünï"), "ünï");
    EXPECT_EQ(scope_profiler::format::escape_name("\xff\xfe"), "%FF%FE");
    EXPECT_EQ(scope_profiler::format::escape_name("tab\t"), "tab%09");
    EXPECT_EQ(scope_profiler::format::escape_name("x/./y"), "x%2F.%2Fy");
    EXPECT_EQ(scope_profiler::format::escape_name(" spaced name "), " spaced name ");
    EXPECT_EQ(scope_profiler::format::escape_name("\xed\xa0\x80"), "%ED%A0%80");  // a surrogate is not UTF-8
    EXPECT_EQ(scope_profiler::format::escape_name("\xc0\xaf"), "%C0%AF");         // nor an overlong '/'
    EXPECT_EQ(scope_profiler::format::escape_name("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
    EXPECT_EQ(scope_profiler::format::escape_name("\x7f"), "%7F");
    for (const std::string& name : tricky_names()) {
        const std::string escaped = scope_profiler::format::escape_name(name);
        EXPECT_EQ(scope_profiler::format::unescape_name(escaped), name) << escaped;
        EXPECT_EQ(escaped.find('/'), std::string::npos) << escaped;
        EXPECT_NE(escaped, ".");
        EXPECT_FALSE(escaped.empty());
    }
}

TEST(H5Names, EscapedNamesOfRandomBytesAreSafeAndReversible) {
    std::mt19937 random(7);
    for (int i = 0; i < 20000; ++i) {
        std::string name(1 + random() % 12, '\0');
        for (char& c : name) c = static_cast<char>(random() % 256);
        if (i % 3 == 0) name[0] = '.';
        const std::string escaped = scope_profiler::format::escape_name(name);
        ASSERT_EQ(scope_profiler::format::unescape_name(escaped), name);
        ASSERT_EQ(escaped.find('/'), std::string::npos);
        ASSERT_NE(escaped, ".");
        // The escaped name is valid UTF-8 without control bytes: escaping it again only
        // escapes its '%' signs.
        std::string percent_escaped;
        for (char c : escaped) percent_escaped += c == '%' ? std::string("%25") : std::string(1, c);
        ASSERT_EQ(scope_profiler::format::escape_name(escaped), percent_escaped);
    }
}

TEST(H5Names, UnescapeKeepsAStrayPercentSign) {
    EXPECT_EQ(scope_profiler::format::unescape_name("100%"), "100%");
    EXPECT_EQ(scope_profiler::format::unescape_name("%zz"), "%zz");
    EXPECT_EQ(scope_profiler::format::unescape_name("%2f"), "/");
}

// ---- metadata -------------------------------------------------------------------------------

TEST(H5Names, AMessageShowsALongNameCutWithItsLength) {
    EXPECT_EQ(scope_profiler::format::name_for_message("solver/a b"), "solver/a b");
    const std::string eighty(80, 'x');
    EXPECT_EQ(scope_profiler::format::name_for_message(eighty), eighty);
    EXPECT_EQ(scope_profiler::format::name_for_message(std::string(1 << 20, 'a')),
              std::string(60, 'a') + "... (1048576 bytes)");
    // Not cut inside a UTF-8 sequence: "ü" is 2 bytes, the 60th byte starts one.
    const std::string umlauts = std::string(59, 'a') + std::string(20, '\0').replace(0, 20, "üüüüüüüüüü");
    EXPECT_EQ(scope_profiler::format::name_for_message(umlauts + std::string(10, 'b')),
              std::string(59, 'a') + "... (" + std::to_string(umlauts.size() + 10) + " bytes)");
}

TEST(H5Metadata, CollectsEveryFieldOfTheDesign) {
    ::setenv("OMP_NUM_THREADS", "3,2", 1);
    const h5::Metadata m = h5::collect_metadata(4);
    ::unsetenv("OMP_NUM_THREADS");
    std::map<std::string, std::string> text(m.text.begin(), m.text.end());
    std::map<std::string, std::int64_t> numbers(m.numbers.begin(), m.numbers.end());
    for (const char* key : {"timestamp", "hostname", "platform", "user", "working_directory",
                            "scope_profiler_version", "compiler", "clock"})
        EXPECT_TRUE(text.contains(key)) << key;
    EXPECT_EQ(text["scope_profiler_version"], SCOPE_PROFILER_VERSION_STRING);
    EXPECT_EQ(text["clock"], "std::chrono::steady_clock, ns");
    EXPECT_EQ(text["timestamp"].size(), 20u) << text["timestamp"];  // 2024-05-01T12:34:56Z
    EXPECT_EQ(text["timestamp"].back(), 'Z');
    EXPECT_EQ(text["working_directory"], fs::current_path().string());
    EXPECT_NE(text["platform"].find("Linux"), std::string::npos) << text["platform"];
    EXPECT_EQ(numbers["omp_num_threads"], 3);
    EXPECT_EQ(numbers["mpi_size"], 4);
    EXPECT_EQ(numbers["total_cores"], 12);  // the Python library's: mpi_size x omp_num_threads
    EXPECT_EQ(numbers["hardware_cores"], static_cast<std::int64_t>(std::thread::hardware_concurrency()));
    EXPECT_EQ(h5::collect_metadata(1).numbers.front().second,
              static_cast<std::int64_t>(std::thread::hardware_concurrency()));  // no OMP_NUM_THREADS
}

// ---- per-rank files -------------------------------------------------------------------------

TEST_F(H5Writer, RankFileAppendsOfManyChunksReadBackExactly) {
    const std::string path = file("rank3.h5");
    std::map<std::string, RegionColumns> expected;
    {
        h5::RankFile rank_file(path, 3);
        EXPECT_TRUE(rank_file.is_open());
        const std::vector<std::string> names = {"solver", "rhs", "a/b"};
        // Sizes cross chunk boundaries (chunks hold up to 65536 elements) and include empty
        // chunks, host-only and device-only chunks.
        const std::vector<std::pair<std::size_t, std::size_t>> sizes = {
            {1, 0}, {0, 0}, {1000, 3}, {70000, 0}, {0, 2000}, {65536, 65536}, {3, 1}, {100000, 7}};
        std::uint64_t seed = 1;
        for (int round = 0; round < 3; ++round)
            for (const auto& [host, device] : sizes)
                for (const std::string& name : names) {
                    const RegionColumns chunk = make_columns(name, host, device, seed++);
                    rank_file.append(chunk);
                    append_to(expected[name], chunk);
                }
        rank_file.close();
        EXPECT_FALSE(rank_file.is_open());
        rank_file.close();  // a second close does nothing
        EXPECT_THROW(rank_file.append(make_columns("late", 1, 0, 1)), std::runtime_error);
    }
    const Layout layout = read_layout(path);
    ASSERT_EQ(layout.size(), 1u);
    ASSERT_TRUE(layout.contains(3));
    ASSERT_EQ(layout.at(3).size(), expected.size());
    for (const auto& [name, columns] : expected) expect_same(layout.at(3).at(name), columns);
}

TEST_F(H5Writer, RankFileNameAttributesKeepTheExactBytes) {
    const std::string path = file("names.h5");
    {
        h5::RankFile rank_file(path, 0);
        for (const std::string& name : tricky_names()) rank_file.append(make_columns(name, 2, 1, 5));
    }
    Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    ASSERT_GE(f, 0);
    Id regions(H5Gopen2(f, "rank0/regions", H5P_DEFAULT), H5Gclose);
    std::vector<std::string> links = links_of(regions);
    std::vector<std::string> expected;
    for (const std::string& name : tricky_names()) expected.push_back(scope_profiler::format::escape_name(name));
    std::sort(links.begin(), links.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(links, expected);
    for (const std::string& name : tricky_names()) {
        Id group(H5Gopen2(regions, scope_profiler::format::escape_name(name).c_str(), H5P_DEFAULT), H5Gclose);
        ASSERT_GE(group, 0) << scope_profiler::format::escape_name(name);
        EXPECT_EQ(read_string_attribute(group, "name"), name);
        Id attribute(H5Aopen(group, "name", H5P_DEFAULT), H5Aclose);
        Id type(H5Aget_type(attribute), H5Tclose);
        EXPECT_EQ(H5Tget_cset(type), H5T_CSET_ASCII);
    }
}

TEST_F(H5Writer, NamesOfAnyLengthAreWrittenExactlyInEveryKindOfFile) {
    // The longest names go to dense attribute storage; the shorter ones keep the earliest format.
    std::vector<RegionColumns> regions;
    for (const std::size_t length : {std::size_t{32 * 1024 - 1}, std::size_t{32 * 1024},
                                     std::size_t{70'000}, std::size_t{1} << 20}) {
        std::string name(length, 'n');
        name[length / 2] = '/';
        name[length / 3] = '\0';
        regions.push_back(make_columns(name, 10, 1, length));
    }
    regions.push_back(make_columns("short", 5000, 0, 1));
    {
        h5::RankFile rank_file(file("rank0.h5"), 0);
        for (const RegionColumns& region : regions) rank_file.append(region);
    }
    h5::merge_rank_files(file("merged.h5"), {}, {{0, file("rank0.h5")}});
    h5::write_merged(file("memory.h5"), {}, {{0, regions}});
    for (const char* name : {"merged.h5", "memory.h5"}) {
        const Layout layout = read_layout(file(name));
        ASSERT_EQ(layout.at(0).size(), regions.size()) << name;
        for (const RegionColumns& region : regions) expect_same(layout.at(0).at(region.name), region);
    }
}

TEST_F(H5Writer, RankFileRegionWithoutCallsHasEmptyDatasets) {
    const std::string path = file("empty.h5");
    {
        h5::RankFile rank_file(path, 1);
        RegionColumns none;
        none.name = "never_called";
        rank_file.append(none);
    }
    const Layout layout = read_layout(path);
    ASSERT_TRUE(layout.at(1).contains("never_called"));
    RegionColumns none;
    none.name = "never_called";
    expect_same(layout.at(1).at("never_called"), none);
}

TEST_F(H5Writer, MalformedInputThrowsInvalidArgument) {
    h5::RankFile rank_file(file("bad.h5"), 0);
    RegionColumns r = make_columns("r", 3, 2, 1);
    r.end_times.pop_back();
    EXPECT_THROW(rank_file.append(r), std::invalid_argument);
    r = make_columns("r", 3, 2, 1);
    r.device_host_fallback.push_back(1);
    EXPECT_THROW(rank_file.append(r), std::invalid_argument);
    r = make_columns("", 1, 0, 1);
    EXPECT_THROW(rank_file.append(r), std::invalid_argument);
    EXPECT_THROW(h5::RankFile(file("negative.h5"), -1), std::invalid_argument);
    const h5::Metadata m;
    EXPECT_THROW(h5::write_merged(file("m.h5"), m, {{0, {}}, {0, {}}}), std::invalid_argument);
    EXPECT_THROW(h5::write_merged(file("m.h5"), m,
                                  {{0, {make_columns("x", 1, 0, 1), make_columns("x", 1, 0, 2)}}}),
                 std::invalid_argument);
    EXPECT_FALSE(fs::exists(file("m.h5")));
}

TEST_F(H5Writer, ErrorsAreOneClearSentenceAndHdf5PrintsNothing) {
    const std::string path = file("missing_directory/rank0.h5");
    ::testing::internal::CaptureStderr();
    std::string message;
    try {
        h5::RankFile rank_file(path, 0);
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    const std::string printed = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(printed, "");
    EXPECT_EQ(message.rfind("scope_profiler: cannot create " + path + ": H5Fcreate failed (", 0), 0u)
        << message;
    EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
    EXPECT_NE(message.find("rank_file.cpp:"), std::string::npos) << message;
}

TEST_F(H5Writer, RankFilesOfSeveralThreadsAtOnce) {
    std::vector<std::thread> threads;
    for (int rank = 0; rank < 4; ++rank)
        threads.emplace_back([this, rank] {
            h5::RankFile rank_file(file("thread" + std::to_string(rank) + ".h5"), rank);
            for (int i = 0; i < 50; ++i)
                rank_file.append(make_columns("r" + std::to_string(i % 5), 100, 10, i));
        });
    for (auto& t : threads) t.join();
    for (int rank = 0; rank < 4; ++rank) {
        const Layout layout = read_layout(file("thread" + std::to_string(rank) + ".h5"));
        ASSERT_EQ(layout.at(rank).size(), 5u);
        for (const auto& [name, columns] : layout.at(rank)) EXPECT_EQ(columns.start_times.size(), 1000u);
    }
}

// ---- the merged file ------------------------------------------------------------------------

std::vector<std::pair<int, std::vector<RegionColumns>>> sample_ranks() {
    std::vector<std::pair<int, std::vector<RegionColumns>>> ranks;
    std::uint64_t seed = 100;
    for (int rank : {0, 1, 2}) {
        std::vector<RegionColumns> regions;
        for (const std::string& name : tricky_names())
            regions.push_back(make_columns(name, seed % 7 * 13, seed % 3, seed)), ++seed;
        regions.push_back(make_columns("big", 150000, 70000, seed++));
        RegionColumns none;
        none.name = "no_calls";
        regions.push_back(none);
        ranks.emplace_back(rank, std::move(regions));
    }
    return ranks;
}

Layout as_layout(const std::vector<std::pair<int, std::vector<RegionColumns>>>& ranks) {
    Layout layout;
    for (const auto& [rank, regions] : ranks)
        for (const RegionColumns& r : regions) layout[rank][r.name] = r;
    return layout;
}

h5::Metadata sample_metadata() {
    h5::Metadata m = h5::collect_metadata(3);
    m.text.emplace_back("gpu_name", "NVIDIA H100 80GB HBM3");
    m.text.emplace_back("cuda_runtime", "12.4");
    m.text.emplace_back("odd_bytes", "\xff\xfe ok");
    m.numbers.emplace_back("mpi_size", 3);  // a later pair replaces an earlier one
    return m;
}

void expect_metadata(const std::string& path, const h5::Metadata& m) {
    Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    ASSERT_GE(f, 0);
    Id group(H5Gopen2(f, "metadata", H5P_DEFAULT), H5Gclose);
    ASSERT_GE(group, 0);
    std::map<std::string, std::string> text(m.text.begin(), m.text.end());
    std::map<std::string, std::int64_t> numbers;
    for (const auto& [key, value] : m.numbers) numbers[key] = value;
    for (const auto& [key, value] : text) EXPECT_EQ(read_string_attribute(group, key.c_str()), value);
    for (const auto& [key, value] : numbers) {
        EXPECT_EQ(read_number_attribute(group, key.c_str()), value) << key;
        Id attribute(H5Aopen(group, key.c_str(), H5P_DEFAULT), H5Aclose);
        Id type(H5Aget_type(attribute), H5Tclose);
        EXPECT_EQ(H5Tget_class(type), H5T_INTEGER);
        EXPECT_EQ(H5Tget_size(type), 8u);
    }
    H5O_info_t info{};
    H5Oget_info2(group, &info, H5O_INFO_NUM_ATTRS);
    EXPECT_EQ(info.num_attrs, text.size() + numbers.size());
    // Text is variable-length UTF-8 where it is valid UTF-8.
    Id attribute(H5Aopen(group, "gpu_name", H5P_DEFAULT), H5Aclose);
    Id type(H5Aget_type(attribute), H5Tclose);
    EXPECT_GT(H5Tis_variable_str(type), 0);
    EXPECT_EQ(H5Tget_cset(type), H5T_CSET_UTF8);
    // The root, as the Python library's files: no attribute, only metadata and rank groups.
    H5O_info_t root{};
    H5Oget_info2(f, &root, H5O_INFO_NUM_ATTRS);
    EXPECT_EQ(root.num_attrs, 0u);
    for (const std::string& top : links_of(f))
        EXPECT_TRUE(top == "metadata" || top.rfind("rank", 0) == 0) << top;
}

TEST_F(H5Writer, WriteMergedRoundTripsEveryDatasetAndAttribute) {
    const std::string path = file("profiling_data.h5");
    const auto ranks = sample_ranks();
    const h5::Metadata m = sample_metadata();
    h5::write_merged(path, m, ranks);
    expect_same(read_layout(path), as_layout(ranks));
    expect_metadata(path, m);
    EXPECT_EQ(entries(), std::vector<std::string>{"profiling_data.h5"});  // no temporary left

    // Writing again replaces the file whole.
    h5::write_merged(path, m, {{0, {make_columns("only", 5, 0, 9)}}});
    const Layout again = read_layout(path);
    ASSERT_EQ(again.size(), 1u);
    ASSERT_EQ(again.at(0).size(), 1u);
    EXPECT_EQ(again.at(0).at("only").start_times.size(), 5u);
}

TEST_F(H5Writer, WriteMergedKeepsRegionsWithoutCallsAndRanksWithoutRegions) {
    const std::string path = file("empty.h5");
    RegionColumns none;
    none.name = "no_calls";
    h5::write_merged(path, {}, {{0, {none}}, {5, {}}});
    const Layout layout = read_layout(path);
    ASSERT_EQ(layout.size(), 2u);
    ASSERT_TRUE(layout.at(0).contains("no_calls"));
    expect_same(layout.at(0).at("no_calls"), none);
    EXPECT_TRUE(layout.at(5).empty());
}

TEST_F(H5Writer, MergeOfThreeRankFilesEqualsWriteMerged) {
    const auto ranks = sample_ranks();
    std::vector<std::pair<int, std::string>> rank_files;
    for (const auto& [rank, regions] : ranks) {
        const std::string path = file("rank" + std::to_string(rank) + ".h5");
        rank_files.emplace_back(rank, path);
        h5::RankFile rank_file(path, rank);
        // Each region in three appends: a third, nothing, the rest.
        for (const RegionColumns& r : regions) {
            const auto cut = [&](std::size_t begin, std::size_t end) {
                RegionColumns part;
                part.name = r.name;
                const auto slice = [](const auto& v, std::size_t b, std::size_t e) {
                    b = std::min(b, v.size()), e = std::min(e, v.size());
                    return std::decay_t<decltype(v)>(v.begin() + static_cast<std::ptrdiff_t>(b),
                                                     v.begin() + static_cast<std::ptrdiff_t>(e));
                };
                part.start_times = slice(r.start_times, begin, end);
                part.end_times = slice(r.end_times, begin, end);
                part.thread_ids = slice(r.thread_ids, begin, end);
                part.device_start_times = slice(r.device_start_times, begin, end);
                part.device_end_times = slice(r.device_end_times, begin, end);
                part.device_stream_ids = slice(r.device_stream_ids, begin, end);
                part.device_host_fallback = slice(r.device_host_fallback, begin, end);
                return part;
            };
            const std::size_t third = std::max(r.start_times.size(), r.device_start_times.size()) / 3;
            rank_file.append(cut(0, third));
            rank_file.append(cut(third, third));
            rank_file.append(cut(third, SIZE_MAX));
        }
    }
    const h5::Metadata m = sample_metadata();
    h5::write_merged(file("written.h5"), m, ranks);
    h5::merge_rank_files(file("merged.h5"), m, rank_files);

    expect_same(read_layout(file("merged.h5")), read_layout(file("written.h5")));
    expect_same(read_layout(file("merged.h5")), as_layout(ranks));
    expect_metadata(file("merged.h5"), m);
    // The rank files and the temporary file are gone.
    EXPECT_EQ(entries(), (std::vector<std::string>{"merged.h5", "written.h5"}));
}

TEST_F(H5Writer, WriteMergedIntoAMissingDirectoryThrowsAndLeavesNoTemporary) {
    const std::string path = file("missing/profiling_data.h5");
    ::testing::internal::CaptureStderr();
    try {
        h5::write_merged(path, sample_metadata(), sample_ranks());
        ADD_FAILURE() << "expected std::runtime_error";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("scope_profiler: cannot write " + path + ": H5Fcreate failed", 0), 0u)
            << e.what();
    }
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    EXPECT_TRUE(entries().empty());
}

TEST_F(H5Writer, WriteMergedFailingRenameRemovesTheTemporaryAndKeepsTheTarget) {
    // The target is a non-empty directory: the file is written, the rename is refused (a profile
    // is never renamed over what is not a regular file).
    const std::string path = file("taken");
    fs::create_directories(path);
    std::ofstream(file("taken/keep")) << "x";
    try {
        h5::write_merged(path, sample_metadata(), sample_ranks());
        ADD_FAILURE() << "expected std::runtime_error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(path + " is a directory, not a regular file"),
                  std::string::npos) << e.what();
    }
    EXPECT_EQ(entries(), std::vector<std::string>{"taken"});
    EXPECT_TRUE(fs::exists(file("taken/keep")));
}

TEST_F(H5Writer, MergeWithAMissingRankFileThrowsAndKeepsTheOthers) {
    { h5::RankFile(file("rank0.h5"), 0).append(make_columns("r", 10, 0, 1)); }
    {
        h5::RankFile wrong(file("rank1.h5"), 7);  // holds rank7, not rank1
    }
    EXPECT_THROW(h5::merge_rank_files(file("merged.h5"), {},
                                      {{0, file("rank0.h5")}, {2, file("rank2.h5")}}),
                 std::runtime_error);
    try {
        h5::merge_rank_files(file("merged.h5"), {}, {{0, file("rank0.h5")}, {1, file("rank1.h5")}});
        ADD_FAILURE() << "expected std::runtime_error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("holds no group rank1"), std::string::npos) << e.what();
    }
    EXPECT_EQ(entries(), (std::vector<std::string>{"rank0.h5", "rank1.h5"}));
}

// ---- check_writable -------------------------------------------------------------------------

TEST_F(H5Writer, CheckWritableAcceptsAWritablePathAndLeavesNothing) {
    EXPECT_NO_THROW(h5::check_writable(file("profiling_data.h5")));
    EXPECT_TRUE(entries().empty());
    std::ofstream(file("existing.h5")) << "old";
    EXPECT_NO_THROW(h5::check_writable(file("existing.h5")));
    EXPECT_EQ(entries(), std::vector<std::string>{"existing.h5"});
}

TEST_F(H5Writer, CheckWritableRejectsUnwritablePathsWithASentence) {
    const auto message_of = [](const std::string& path) {
        try {
            h5::check_writable(path);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    };
    const std::string missing = file("no/such/dir/profiling_data.h5");
    EXPECT_EQ(message_of(missing), "scope_profiler: cannot write the profiling file '" + missing +
                                       "': the directory " + file("no/such/dir") +
                                       " does not exist");
    // Root ignores permission bits: /proc refuses new files to everyone.
    const std::string message = message_of("/proc/profiling_data.h5");
    EXPECT_EQ(message.rfind("scope_profiler: cannot write the profiling file '/proc/profiling_data.h5': "
                            "no file can be created in /proc (",
                            0),
              0u)
        << message;
    EXPECT_NE(message_of(dir_.string()).find("it is a directory"), std::string::npos);
    EXPECT_NE(message_of("").find("empty"), std::string::npos);
}

// ---- nothing lost: a kill, a full disk ------------------------------------------------------

/// Runs child() in a forked process; returns its wait status.
template <typename Child>
int in_child(Child child) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        int code = 99;
        try {
            code = child();
        } catch (...) {
            code = 98;
        }
        ::_exit(code);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

TEST_F(H5Writer, AFileKilledAfterAppendHoldsEveryAppendedInterval) {
    const std::string path = file("killed.h5");
    std::map<std::string, RegionColumns> expected;
    std::vector<RegionColumns> chunks;
    for (int i = 0; i < 30; ++i) {
        chunks.push_back(make_columns(i % 4 == 0 ? "a/b" : "region" + std::to_string(i % 3),
                                      static_cast<std::size_t>(i) * 997, i % 5, i));
        append_to(expected[chunks.back().name], chunks.back());
    }
    const int status = in_child([&] {
        h5::RankFile rank_file(path, 2);  // never closed
        for (const RegionColumns& chunk : chunks) rank_file.append(chunk);
        ::raise(SIGKILL);
        return 1;
    });
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

    const Layout layout = read_layout(path);
    ASSERT_EQ(layout.at(2).size(), expected.size());
    for (const auto& [name, columns] : expected) expect_same(layout.at(2).at(name), columns);
    // And it merges.
    h5::merge_rank_files(file("merged.h5"), {}, {{2, path}});
    const Layout merged = read_layout(file("merged.h5"));
    for (const auto& [name, columns] : expected) expect_same(merged.at(2).at(name), columns);
}

// ---- the twin: the user's file is never written in place --------------------------------

/// Restores the default ways of swapping names when a test ends.
struct ForcedSwap {
    explicit ForcedSwap(std::vector<scope_profiler::detail::SwapMethod> methods) {
        h5::force_swap_methods(std::move(methods));
    }
    ~ForcedSwap() { h5::force_swap_methods(std::nullopt); }
    ForcedSwap(const ForcedSwap&) = delete;
    ForcedSwap& operator=(const ForcedSwap&) = delete;
};

/// Appends chunks of three regions and checks, while the file is open, that the rank file and
/// its twin hold the same, and after close() that the twin is gone.
void expect_twin_in_step(const std::string& path, const std::vector<std::string>& expected_entries,
                         const std::function<std::vector<std::string>()>& entries) {
    std::map<std::string, RegionColumns> expected;
    h5::RankFile rank_file(path, 0);
    EXPECT_TRUE(rank_file.has_twin());
    for (int i = 0; i < 12; ++i) {
        const RegionColumns chunk = make_columns("r" + std::to_string(i % 3), 1000 + i, i % 2, i);
        rank_file.append(chunk);
        append_to(expected[chunk.name], chunk);
    }
    EXPECT_EQ(entries(), expected_entries);
    for (const std::string& name : {path, h5::twin_path(path)}) {
        const Layout layout = read_layout(name);
        ASSERT_EQ(layout.at(0).size(), expected.size()) << name;
        for (const auto& [region, columns] : expected) expect_same(layout.at(0).at(region), columns);
    }
    rank_file.close();
    EXPECT_FALSE(rank_file.has_twin());
    EXPECT_EQ(entries(), std::vector<std::string>{fs::path(path).filename().string()});
    const Layout layout = read_layout(path);
    for (const auto& [region, columns] : expected) expect_same(layout.at(0).at(region), columns);
}

TEST(NameSwap, BothMethodsExchangeTwoFilesAndLeaveNothingElse) {
    using scope_profiler::detail::SwapMethod;
    const fs::path dir = fs::temp_directory_path() / ("scope_profiler_swap_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string a = (dir / "a").string();
    const std::string b = (dir / "b").string();
    const auto content = [](const std::string& name) {
        std::ifstream in(name);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    std::ofstream(a) << "first";
    std::ofstream(b) << "second";
    for (const SwapMethod method : {SwapMethod::exchange, SwapMethod::link}) {
        const auto result = scope_profiler::detail::swap_names(a, b, method);
        EXPECT_TRUE(result.swapped) << scope_profiler::detail::describe(method);
        EXPECT_EQ(result.error, 0) << std::strerror(result.error);
        EXPECT_EQ(content(a), "second");
        EXPECT_EQ(content(b), "first");
        EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 2);
        scope_profiler::detail::swap_names(a, b, method);  // back
        EXPECT_EQ(content(a), "first");
    }
    // A missing twin: nothing changes, and the error says why.
    for (const SwapMethod method : {SwapMethod::exchange, SwapMethod::link}) {
        const auto result = scope_profiler::detail::swap_names(a, (dir / "missing").string(), method);
        EXPECT_FALSE(result.swapped);
        EXPECT_EQ(result.error, ENOENT);
        EXPECT_EQ(content(a), "first");
    }
    fs::remove_all(dir);
}

TEST_F(H5Writer, RankFileHasATwinInStepWhileOpenAndRemovesItAtClose) {
    const std::string path = file("rank0.h5");
    expect_twin_in_step(path, {"rank0.h5", "rank0.h5.twin"}, [&] { return entries(); });
}

TEST_F(H5Writer, RankFileSwapsWithLinkAndRenameWhereTheFileSystemCannotExchange) {
    ForcedSwap forced({scope_profiler::detail::SwapMethod::link});
    const std::string path = file("rank0.h5");
    expect_twin_in_step(path, {"rank0.h5", "rank0.h5.twin"}, [&] { return entries(); });
}

TEST_F(H5Writer, RankFileWithoutAWayToSwapNamesIsWrittenInPlaceAfterOneWarning) {
    ForcedSwap forced({});
    const std::string path = file("rank0.h5");
    const RegionColumns chunk = make_columns("solver", 1000, 3, 1);
    ::testing::internal::CaptureStderr();
    {
        h5::RankFile rank_file(path, 0);
        EXPECT_FALSE(rank_file.has_twin());
        rank_file.append(chunk);
        rank_file.append(chunk);
        EXPECT_EQ(entries(), std::vector<std::string>{"rank0.h5"});
    }
    const std::string warning = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(warning, "scope_profiler: warning: " + path +
                           ": this file system cannot swap two files' names (no way tried); the "
                           "rank file is written in place from now on (a process killed while it "
                           "is being written can leave a region unreadable)\n");
    RegionColumns expected = chunk;
    append_to(expected, chunk);
    expect_same(read_layout(path).at(0).at("solver"), expected);
}

TEST_F(H5Writer, TheRankFileReadsWholeAtAnyMomentOfAnAppend) {
    // A process stopped by SIGSTOP leaves in the page cache what a SIGKILL at that moment would
    // leave on disk. A child appends without pause; the parent stops it at random moments and
    // copies the rank file: every copy opens, every region reads, and each region holds the
    // first k chunks appended to it, for some k. (The child starts a new file every 100 chunks.) Without the twin (the file written in place),
    // copies taken inside HDF5's flush had regions that no longer read.
    const std::string path = file("rank0.h5");
    constexpr int kRegions = 5;
    const auto chunk_of = [](int i) {
        return make_columns("r" + std::to_string(i % kRegions), 500 + (i * 37) % 3000, i % 3,
                            static_cast<std::uint64_t>(i));
    };
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        try {
            for (;;) {  // rounds of 100 appends to a new file: the copies stay small
                h5::RankFile rank_file(path, 0);
                for (int i = 0; i < 100; ++i) rank_file.append(chunk_of(i));
            }
        } catch (...) {
        }
        ::_exit(1);
    }
    ASSERT_GT(pid, 0);
    struct KillAtEnd {  // also when an assertion below ends the test early
        pid_t pid;
        ~KillAtEnd() {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    } kill_at_end{pid};
    // From the moment the child has made the file (slow under a sanitizer): the name holds a
    // file at every moment after.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(path) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::mt19937 random(7);
    std::uniform_int_distribution<int> pause_us(0, 3000);
    int copies = 0;
    int status = 0;
    std::vector<RegionColumns> chunks;  // chunks[i] == chunk_of(i), made as needed
    for (int attempt = 0; attempt < 400; ++attempt) {
        std::this_thread::sleep_for(std::chrono::microseconds(pause_us(random)));
        ASSERT_EQ(::kill(pid, SIGSTOP), 0);
        ASSERT_EQ(::waitpid(pid, &status, WUNTRACED), pid);
        ASSERT_TRUE(WIFSTOPPED(status)) << "the appending child ended: " << status;
        const std::string copy = file("copy.h5");
        ASSERT_TRUE(fs::exists(path)) << "attempt " << attempt << ": the rank file has no file";
        fs::copy_file(path, copy, fs::copy_options::overwrite_existing);
        ASSERT_EQ(::kill(pid, SIGCONT), 0);
        ++copies;
        Layout layout;
        ASSERT_NO_THROW(layout = read_layout(copy)) << "copy " << copies << " does not read";
        for (const auto& [name, columns] : layout.at(0)) {
            // The chunks of this region, in order, until their sizes add up to what it holds.
            RegionColumns prefix;
            prefix.name = name;
            for (int i = 0; prefix.start_times.size() < columns.start_times.size(); ++i) {
                if (static_cast<std::size_t>(i) == chunks.size()) chunks.push_back(chunk_of(i));
                if (chunks[i].name == name) append_to(prefix, chunks[i]);
            }
            ASSERT_TRUE(same(columns, prefix)) << "copy " << copies << ", region " << name
                                               << ": not the first chunks appended to it";
        }
    }
    EXPECT_EQ(copies, 400);
}

TEST_F(H5Writer, AFullDiskFailsTheAppendAndKeepsTheEarlierIntervals) {
    const std::string path = file("full.h5");
    const RegionColumns first = make_columns("solver", 1000, 10, 1);
    const RegionColumns too_big = make_columns("solver", 400000, 0, 2);
    const RegionColumns retry = make_columns("solver", 100, 1, 3);
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const int status = in_child([&] {
        ::close(pipe_fds[0]);
        h5::RankFile rank_file(path, 0);
        rank_file.append(first);
        struct stat st {};
        ::stat(path.c_str(), &st);
        // Room for about 512 KiB more: the 8 MB chunk does not fit.
        const rlim_t limit = static_cast<rlim_t>(st.st_size) + 512 * 1024;
        const rlimit small{limit, limit};
        ::setrlimit(RLIMIT_FSIZE, &small);
        ::signal(SIGXFSZ, SIG_IGN);
        int code = 0;
        try {
            rank_file.append(too_big);
            code |= 1;  // no exception
        } catch (const std::runtime_error& e) {
            const std::string message = e.what();
            [[maybe_unused]] auto n = ::write(pipe_fds[1], message.data(), message.size());
        }
        try {
            rank_file.append(retry);  // a smaller append still fits
        } catch (...) {
            code |= 2;
        }
        try {
            rank_file.close();
        } catch (...) {
            code |= 4;
        }
        return code;
    });
    ::close(pipe_fds[1]);
    std::string message(4096, '\0');
    const ssize_t n = ::read(pipe_fds[0], message.data(), message.size());
    ::close(pipe_fds[0]);
    message.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no exception, 2: the retry failed, 4: close failed";
    EXPECT_EQ(message.rfind("scope_profiler: cannot write " + path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find("file size limit"), std::string::npos) << message;

    RegionColumns expected = first;
    append_to(expected, retry);
    const Layout layout = read_layout(path);
    expect_same(layout.at(0).at("solver"), expected);
}

TEST_F(H5Writer, ARealFullDiskFailsBeforeWritingAndKeepsTheFileReadable) {
    // A 4 MiB tmpfs mounted on <test dir>/small in a private mount namespace of a child process:
    // the mount goes away with the child. Needs root (CAP_SYS_ADMIN); skipped elsewhere.
    // Without the writer's reservation of disk blocks, HDF5 1.10 leaves the rank file with
    // intervals of the failed append, or unreadable ("addr overflow"), and H5Ocopy crashes.
    enum : int {
        kNoMount = 77, kNeverFull = 1, kNothingFit = 2, kCloseThrew = 4, kDataDiffers = 8,
        kMergeWorked = 16, kFilesLeft = 32, kWriteMergedWorked = 64, kBadMessage = 128
    };
    const std::string small = file("small");
    const std::string path = small + "/rank0.h5";
    const std::string big = file("big.h5");
    const int status = in_child([&] {
        std::vector<RegionColumns> big_regions;
        {
            h5::RankFile big_file(big, 0);  // about 26 MB, outside the small file system
            for (int i = 0; i < 4; ++i) {
                big_regions.push_back(make_columns("r" + std::to_string(i), 300000, 10, i));
                big_file.append(big_regions.back());
            }
        }
        fs::create_directories(small);
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=4m") != 0)
            return static_cast<int>(kNoMount);
        int code = 0;
        // The merged files do not fit in the empty file system.
        try {
            h5::merge_rank_files(small + "/merged.h5", {}, {{0, big}});
            code |= kMergeWorked;
        } catch (const std::runtime_error&) {
        }
        try {
            h5::write_merged(small + "/merged.h5", {}, {{0, big_regions}});
            code |= kWriteMergedWorked;
        } catch (const std::runtime_error&) {
        }
        std::map<std::string, RegionColumns> expected;
        {
            h5::RankFile rank_file(path, 0);
            bool full = false;
            for (int i = 0; i < 100 && !full; ++i) {
                const RegionColumns chunk = make_columns("r" + std::to_string(i % 3), 100000, 10, i);
                try {
                    rank_file.append(chunk);
                    append_to(expected[chunk.name], chunk);
                } catch (const std::runtime_error& e) {
                    full = true;
                    if (std::string(e.what()).find("No space left on device") == std::string::npos)
                        code |= kBadMessage;
                }
            }
            if (!full) code |= kNeverFull;
            if (expected.empty()) code |= kNothingFit;
            const RegionColumns tiny = make_columns("r0", 10, 0, 999);
            try {
                rank_file.append(tiny);  // may or may not fit: either way nothing is lost
                append_to(expected["r0"], tiny);
            } catch (const std::runtime_error&) {
            }
            try {
                rank_file.close();
            } catch (...) {
                code |= kCloseThrew;
            }
        }
        try {
            const Layout layout = read_layout(path);
            if (layout.at(0).size() != expected.size()) code |= kDataDiffers;
            for (const auto& [name, columns] : expected)
                if (!same(layout.at(0).at(name), columns)) code |= kDataDiffers;
        } catch (...) {
            code |= kDataDiffers;
        }
        std::vector<std::string> left;
        for (const auto& entry : fs::directory_iterator(small)) left.push_back(entry.path().filename());
        if (left != std::vector<std::string>{"rank0.h5"} || !fs::exists(big)) code |= kFilesLeft;
        return code;
    });
    ASSERT_TRUE(WIFEXITED(status)) << "the child crashed: " << status;
    if (WEXITSTATUS(status) == kNoMount) GTEST_SKIP() << "cannot mount a small tmpfs here (needs root)";
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "1: never full, 2: nothing fit, 4: close threw, 8: data differs, 16: merge worked, "
           "32: files left over or the rank file gone, 64: write_merged worked, "
           "128: message without the reason";
}

}  // namespace
