// Reading profiling files: our layout, the Python library's plain layout, and bad input.

#include <gtest/gtest.h>

#include <map>

#include "profile_file.hpp"
#include "tools_test_support.hpp"

namespace cli = scope_profiler::cli;
using tools_test::host_region;
using tools_test::PythonRegion;

namespace {

class ProfileFileTest : public tools_test::ScratchDir {
protected:
    /// The message of the InputError that opening `path` throws ("" when none).
    static std::string open_error(const std::string& path) {
        try {
            cli::ProfileFile file(path);
        } catch (const cli::InputError& e) {
            return e.what();
        }
        return "";
    }
};

std::string metadata_value(const cli::ProfileFile& file, const std::string& key) {
    for (const auto& field : file.metadata()) {
        if (field.key == key) return field.text;
    }
    return "<absent>";
}

}  // namespace

TEST_F(ProfileFileTest, ReadsOurLayoutWithExactNames) {
    auto odd = host_region("a/b%c.", {1, 2}, {3, 5}, 4);
    odd.device_start_times = {10};
    odd.device_end_times = {12};
    odd.device_stream_ids = {99};
    odd.device_host_fallback = {1};
    tools_test::write_ours(file("ours.h5"), {{0, {host_region("solve", {0}, {7}), odd}}, {3, {}}});
    const cli::ProfileFile f(file("ours.h5"));
    ASSERT_EQ(f.ranks().size(), 2u);
    EXPECT_EQ(f.ranks()[1].rank, 3);
    EXPECT_TRUE(f.ranks()[1].regions.empty());
    const auto& regions = f.ranks()[0].regions;
    ASSERT_EQ(regions.size(), 2u);
    const auto& r = regions[0].name == "a/b%c." ? regions[0] : regions[1];
    EXPECT_EQ(r.name, "a/b%c.");
    EXPECT_EQ(r.group, "rank0/regions/a%2Fb%25c.");
    EXPECT_EQ(r.host_count, 2u);
    EXPECT_EQ(r.device_count, 1u);
    EXPECT_TRUE(r.has_thread_ids);
    const auto host = f.read_host(r);
    EXPECT_EQ(host.start_times, (std::vector<std::int64_t>{1, 2}));
    EXPECT_EQ(host.end_times, (std::vector<std::int64_t>{3, 5}));
    EXPECT_EQ(host.thread_ids, (std::vector<std::int32_t>{4, 4}));
    const auto device = f.read_device(r);
    EXPECT_EQ(device.stream_ids, (std::vector<std::int64_t>{99}));
    EXPECT_EQ(device.host_fallback, (std::vector<std::uint8_t>{1}));
    EXPECT_EQ(metadata_value(f, "hostname"), "testhost");
    EXPECT_EQ(metadata_value(f, "mpi_size"), "2");
}

TEST_F(ProfileFileTest, PutsEveryRankOnRankZerosClockWithItsOffset) {
    {
        tools_test::h5::RankFile rank_file(file("job.rank1.h5"), 1, /*clock_offset_ns=*/-5000);
        auto r = host_region("step", {10000, 20000}, {10500, 20700}, 2);
        r.device_start_times = {30000};
        r.device_end_times = {30100};
        r.device_stream_ids = {7};
        r.device_host_fallback = {0};
        rank_file.append(r);
        rank_file.close();
    }
    const cli::ProfileFile f(file("job.rank1.h5"));  // a rank file reads like a merged one
    ASSERT_EQ(f.ranks().size(), 1u);
    EXPECT_EQ(f.ranks()[0].rank, 1);
    EXPECT_EQ(f.ranks()[0].clock_offset_ns, -5000);
    const auto host = f.read_host(f.ranks()[0].regions.at(0));
    EXPECT_EQ(host.start_times, (std::vector<std::int64_t>{5000, 15000}));
    EXPECT_EQ(host.end_times, (std::vector<std::int64_t>{5500, 15700}));
    const auto device = f.read_device(f.ranks()[0].regions.at(0));
    EXPECT_EQ(device.start_times, std::vector<std::int64_t>{25000});
    EXPECT_EQ(device.end_times, std::vector<std::int64_t>{25100});
}

TEST_F(ProfileFileTest, ReadsSlicesClippedToTheEnd) {
    std::vector<std::int64_t> starts(10), ends(10);
    for (int i = 0; i < 10; ++i) starts[i] = i * 10, ends[i] = i * 10 + i;
    tools_test::write_ours(file("s.h5"), {{0, {host_region("r", starts, ends)}}});
    const cli::ProfileFile f(file("s.h5"));
    const auto& r = f.ranks()[0].regions[0];
    EXPECT_EQ(f.read_host(r, 3, 2).start_times, (std::vector<std::int64_t>{30, 40}));
    EXPECT_EQ(f.read_host(r, 8, 100).end_times, (std::vector<std::int64_t>{88, 99}));
    EXPECT_TRUE(f.read_host(r, 10, 5).start_times.empty());
    EXPECT_TRUE(f.read_device(r).start_times.empty());
}

TEST_F(ProfileFileTest, ReadsThePythonPlainLayout) {
    tools_test::write_python(file("py.h5"), {{0, {PythonRegion{"solve", {0, 100}, {10, 130}}}},
                                             {1, {PythonRegion{"solve", {5}, {25}}}}});
    const cli::ProfileFile f(file("py.h5"));
    ASSERT_EQ(f.ranks().size(), 2u);
    const auto& r = f.ranks()[0].regions.at(0);
    EXPECT_EQ(r.name, "solve");
    EXPECT_FALSE(r.has_thread_ids);
    EXPECT_EQ(r.device_count, 0u);
    const auto host = f.read_host(r);
    EXPECT_EQ(host.end_times, (std::vector<std::int64_t>{10, 130}));
    EXPECT_EQ(host.thread_ids, (std::vector<std::int32_t>{0, 0}));
    EXPECT_EQ(metadata_value(f, "user"), "alice");
    EXPECT_EQ(metadata_value(f, "omp_num_threads"), "8");
    EXPECT_EQ(metadata_value(f, "load"), "0.5");
    EXPECT_EQ(metadata_value(f, "modules"), "gcc/12, hdf5/1.10");
}

TEST_F(ProfileFileTest, PythonNamesAreReadAsTheyAreWithoutUnescaping) {
    // The Python library escapes nothing: its region "x%41" is the group x%41, and "xA" beside
    // it is another region. Only a group with our "name" attribute has an escaped link name.
    tools_test::write_python(file("py.h5"), {{0, {PythonRegion{"x%41", {0}, {10}}, PythonRegion{"xA", {0}, {20}},
                                                  PythonRegion{"100%", {0}, {30}}}}});
    const cli::ProfileFile f(file("py.h5"));
    std::map<std::string, std::uint64_t> totals;
    for (const auto& r : f.ranks().at(0).regions) {
        const auto host = f.read_host(r);
        totals[r.name] = static_cast<std::uint64_t>(host.end_times.at(0) - host.start_times.at(0));
    }
    EXPECT_EQ(totals, (std::map<std::string, std::uint64_t>{{"x%41", 10}, {"xA", 20}, {"100%", 30}}));
}

TEST_F(ProfileFileTest, OurEscapedNamesReadBackAsWritten) {
    // Our writer escapes '%' (x%41 -> x%2541) and keeps the name in the group's attribute.
    tools_test::write_ours(file("ours.h5"), {{0, {host_region("x%41", {0}, {10}), host_region("xA", {0}, {20})}}});
    const cli::ProfileFile f(file("ours.h5"));
    std::map<std::string, std::string> groups;
    for (const auto& r : f.ranks().at(0).regions) groups[r.name] = r.group;
    EXPECT_EQ(groups, (std::map<std::string, std::string>{{"x%41", "rank0/regions/x%2541"}, {"xA", "rank0/regions/xA"}}));
}

TEST_F(ProfileFileTest, AMissingFileIsNamed) {
    const std::string message = open_error(file("absent.h5"));
    EXPECT_NE(message.find("absent.h5: no such file"), std::string::npos) << message;
}

TEST_F(ProfileFileTest, AFileThatIsNotHdf5) {
    std::ofstream(file("text.h5")) << "not a profile\n";
    EXPECT_NE(open_error(file("text.h5")).find("not an HDF5 file"), std::string::npos);
    std::ofstream(file("empty.h5")).close();
    EXPECT_NE(open_error(file("empty.h5")).find("empty"), std::string::npos);
    EXPECT_NE(open_error(dir_.string()).find("directory"), std::string::npos);
}

TEST_F(ProfileFileTest, ATruncatedFile) {
    std::vector<std::int64_t> starts(5000, 1), ends(5000, 2);
    tools_test::write_ours(file("whole.h5"), {{0, {host_region("r", starts, ends)}}});
    const std::string bytes = tools_test::read_text(file("whole.h5"));
    std::ofstream(file("cut.h5"), std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    const std::string message = open_error(file("cut.h5"));
    EXPECT_NE(message.find("truncated or damaged"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(ProfileFileTest, AMissingDatasetIsNamed) {
    tools_test::write_python(file("py.h5"), {{0, {PythonRegion{"solve", {0, 1}, {}, false}}}});
    const std::string message = open_error(file("py.h5"));
    EXPECT_NE(message.find("rank0/regions/solve/end_times is missing"), std::string::npos) << message;
}

TEST_F(ProfileFileTest, MismatchedLengthsAreNamed) {
    tools_test::write_python(file("py.h5"), {{0, {PythonRegion{"solve", {0, 1, 2}, {5, 6}}}}});
    const std::string message = open_error(file("py.h5"));
    EXPECT_NE(message.find("end_times has 2 elements but start_times has 3"), std::string::npos) << message;
}

TEST_F(ProfileFileTest, AnHdf5FileWithoutRanksIsNotAProfile) {
    const hid_t f = H5Fcreate(file("other.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(f, "images", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    EXPECT_NE(open_error(file("other.h5")).find("not a scope-profiler file"), std::string::npos);
}

TEST_F(ProfileFileTest, TwoGroupsOfOneNameAreRejected) {
    tools_test::write_ours(file("dup.h5"), {{0, {host_region("a", {0}, {1})}}});
    const hid_t f = H5Fopen(file("dup.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Lcreate_hard(f, "rank0/regions/a", f, "rank0/regions/b", H5P_DEFAULT, H5P_DEFAULT);  // same "name" attribute
    H5Fclose(f);
    EXPECT_NE(open_error(file("dup.h5")).find("repeats the region name"), std::string::npos);
}
