// The file a session ends with: finalize() writes every region, host and device, with the
// metadata; a path that cannot be written is refused at setup(); a program that never calls
// finalize() still gets its file at exit.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "fake_device_backend.hpp"
#include "h5_read.hpp"
#include "scratch_dir.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

class Output : public ScratchDir {
protected:
    std::string path(const char* name) const { return file(name); }
};

TEST_F(Output, FinalizeWritesEveryRegionAsTheQueriesSeeIt) {
    const std::string file = path("run.h5");
    sp::ProfileManager::setup({.flush_to_disk = false, .file_path = file});
    fake::Installed gpu;
    for (int i = 0; i < 3; ++i) auto r = sp::ProfileManager::profile_region("solver");
    { auto r = sp::ProfileManager::profile_region("a/b ünï"); }
    { auto r = sp::ProfileManager::profile_region("solver", fake::stream(7)); }
    gpu.backend->complete(1, 5000, 6000);
    (void)sp::ProfileManager::region("never_called");  // listed, no calls
    sp::ProfileManager::finalize(false);

    ASSERT_TRUE(fs::exists(file));
    const h5_read::Layout layout = h5_read::read_layout(file);
    ASSERT_EQ(layout.size(), 1u);
    const auto& regions = layout.at(0);
    const sp::Region* solver = sp::ProfileManager::get_region("solver");
    const auto& s = regions.at("solver");
    EXPECT_EQ(s.start_times, solver->get_start_times());
    EXPECT_EQ(s.end_times, solver->get_end_times());
    EXPECT_EQ(s.thread_ids, solver->get_thread_ids());
    EXPECT_EQ(s.start_times.size(), 4u);  // 3 host scopes + the CPU side of the device scope
    EXPECT_EQ(s.device_start_times, std::vector<std::int64_t>{5000});
    EXPECT_EQ(s.device_end_times, std::vector<std::int64_t>{6000});
    EXPECT_EQ(s.device_stream_ids, std::vector<std::int64_t>{7});
    EXPECT_EQ(s.device_host_fallback, std::vector<std::uint8_t>{0});
    EXPECT_EQ(regions.at("a/b ünï").start_times.size(), 1u);  // escaped on disk, exact in "name"
    EXPECT_TRUE(regions.at("never_called").start_times.empty());

    h5_read::Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    h5_read::Id metadata(H5Gopen2(f, "metadata", H5P_DEFAULT), H5Gclose);
    EXPECT_FALSE(h5_read::read_string_attribute(metadata, "hostname").empty());
    EXPECT_EQ(h5_read::read_string_attribute(metadata, "scope_profiler_version"), sp::version_string);
    EXPECT_EQ(h5_read::read_number_attribute(metadata, "mpi_size"), 1);
    for (const auto& entry : fs::directory_iterator(dir_)) {
        EXPECT_EQ(entry.path().filename(), "run.h5") << "left behind: " << entry.path();
    }
}

TEST_F(Output, ARegionWithAOneMebibyteNameIsWrittenBesideTheOthers) {
    // An HDF5 object header message holds at most 64 KiB: such a name once cost the whole file.
    // With flushing (rank file, merge) and without (written from memory).
    const std::string long_name = std::string(1 << 20, 'a') + "/end";
    for (const bool flush : {true, false}) {
        const std::string file = path(flush ? "flushed.h5" : "memory.h5");
        sp::ProfileManager::setup({.flush_to_disk = flush, .buffer_limit = 1000, .file_path = file});
        { auto r = sp::ProfileManager::profile_region(long_name); }
        for (int i = 0; i < 5000; ++i) auto r = sp::ProfileManager::profile_region("other");
        sp::ProfileManager::finalize(false);
        const h5_read::Layout layout = h5_read::read_layout(file);
        const auto& regions = layout.at(0);
        ASSERT_EQ(regions.size(), 2u) << "flush " << flush;
        EXPECT_EQ(regions.at(long_name).start_times.size(), 1u) << "flush " << flush;
        EXPECT_EQ(regions.at("other").start_times.size(), 5000u) << "flush " << flush;
    }
}

TEST_F(Output, ASessionWithProfilingOffWritesNoFile) {
    const std::string file = path("off.h5");
    sp::ProfileManager::setup({.profiling_activated = false, .flush_to_disk = false, .file_path = file});
    { auto r = sp::ProfileManager::profile_region("x"); }
    sp::ProfileManager::finalize(false);
    EXPECT_FALSE(fs::exists(file));
}

TEST_F(Output, SetupRefusesAPathThatCannotBeWrittenAndKeepsTheSession) {
    sp::ProfileManager::setup({.flush_to_disk = false, .file_path = path("ok.h5")});
    { auto r = sp::ProfileManager::profile_region("kept"); }
    for (const std::string bad : {path("missing_dir/x.h5"), std::string("/proc/x.h5"), path("")}) {
        try {
            sp::ProfileManager::setup({.flush_to_disk = false, .file_path = bad});
            ADD_FAILURE() << "setup accepted " << bad;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();  // names the path
        }
    }
    EXPECT_EQ(calls_of("kept"), 1u);
    EXPECT_EQ(sp::ProfileManager::get_config().file_path, path("ok.h5"));
    sp::ProfileManager::finalize(false);  // before TearDown removes the directory it writes to
}

TEST_F(Output, AProfileIsNeverRenamedOverWhatIsNotARegularFile) {
    // As root, renaming onto /dev/full once replaced the device node with a regular file. A FIFO
    // stands in for the device here. setup() refuses it; one made after setup() is left as it
    // is at finalize(), and the data stays in memory.
    const std::string fifo = path("fifo.h5");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    try {
        sp::ProfileManager::setup({.flush_to_disk = false, .file_path = fifo});
        ADD_FAILURE() << "setup accepted a FIFO";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("it is a FIFO, not a regular file"), std::string::npos)
            << e.what();
    }
    for (const bool flush : {false, true}) {
        const std::string later = path(flush ? "later_flushed.h5" : "later.h5");
        sp::ProfileManager::setup({.flush_to_disk = flush, .buffer_limit = 10, .file_path = later});
        for (int i = 0; i < 100; ++i) auto r = sp::ProfileManager::profile_region("kept");
        ASSERT_EQ(::mkfifo(later.c_str(), 0644), 0);
        ::testing::internal::CaptureStderr();
        sp::ProfileManager::finalize(false);
        const std::string message = ::testing::internal::GetCapturedStderr();
        EXPECT_NE(message.find(later + " is a FIFO, not a regular file: it is left as it is"),
                  std::string::npos) << message;
        struct stat status {};
        ASSERT_EQ(::stat(later.c_str(), &status), 0);
        EXPECT_TRUE(S_ISFIFO(status.st_mode)) << "flush " << flush;
        EXPECT_EQ(calls_of("kept"), 100u);  // the queries still answer
    }
}

TEST_F(Output, AFailedFinalizeSaysTrulyWhatRemainsWhenTheDirectoryIsGone) {
    // The directory of file_path (and the rank file in it) removed during the run.
    const std::string dir = path("gone");
    fs::create_directories(dir);
    sp::ProfileManager::setup({.buffer_limit = 10, .file_path = dir + "/p.h5"});
    for (int i = 0; i < 100; ++i) auto r = sp::ProfileManager::profile_region("kept");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!fs::exists(dir + "/p.rank0.h5") && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(fs::exists(dir + "/p.rank0.h5")) << "the flusher never wrote";
    fs::remove_all(dir);
    ::testing::internal::CaptureStderr();
    sp::ProfileManager::finalize(false);
    const std::string message = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(message.find("are kept"), std::string::npos) << message;
    EXPECT_EQ(message.find("flushed during the run are in"), std::string::npos) << message;
    EXPECT_NE(message.find("gone"), std::string::npos) << message;
    EXPECT_EQ(calls_of("kept"), 100u);
}

TEST_F(Output, AProgramThatNeverCallsFinalizeGetsItsFileAtExitWithAWarning) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const std::string file = path("at_exit.h5");
    EXPECT_EXIT(
        {
            sp::ProfileManager::setup({.flush_to_disk = false, .file_path = file});
            { auto r = sp::ProfileManager::profile_region("unfinished"); }
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "finalize\\(\\) was not called; writing .*at_exit.h5 at exit");
    ASSERT_TRUE(fs::exists(file));
    EXPECT_EQ(h5_read::read_layout(file).at(0).at("unfinished").start_times.size(), 1u);
}

}  // namespace
