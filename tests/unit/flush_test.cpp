// flush_to_disk: full buffers go to this rank's file during the run, memory stays bounded, the
// statistics keep counting every call, and finalize() merges the rank file into file_path.
// Nothing is lost: a killed process leaves every flushed interval on disk, and a flush that
// fails keeps its intervals in memory until finalize() writes them.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "fake_device_backend.hpp"
#include "flusher.hpp"
#include "h5_read.hpp"
#include "scratch_dir.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using scope_profiler::detail::kBlockCapacity;
using scope_profiler::detail::rank_file_path;

constexpr std::size_t kBlock = kBlockCapacity;

class Flush : public ScratchDir {
protected:
    void TearDown() override {
        if (sp::ProfileManager::is_active()) sp::ProfileManager::finalize(false);
        ScratchDir::TearDown();
    }
    std::string path(const char* name) const { return file(name); }
};

void record(const char* name, std::size_t calls) {
    sp::Region& region = sp::ProfileManager::region(name);
    for (std::size_t i = 0; i < calls; ++i) auto r = sp::ProfileManager::profile_region(region);
}

std::size_t buffered(const char* name) {
    return sp::ProfileManager::get_region(name)->get_durations().size();
}

/// Waits (up to 20 s) until the region buffers `calls` intervals in memory.
bool wait_for_buffered(const char* name, std::size_t calls) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (buffered(name) != calls) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

/// Waits (up to 20 s) until the region buffers at most `calls` intervals in memory.
bool wait_for_buffered_at_most(const char* name, std::size_t calls) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (buffered(name) > calls) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

std::int64_t sum_of_durations(const h5_read::RegionColumns& c) {
    std::int64_t total = 0;
    for (std::size_t i = 0; i < c.start_times.size(); ++i) total += c.end_times[i] - c.start_times[i];
    return total;
}

TEST(RankFilePath, SitsBesideTheMergedFileWithTheRankInItsName) {
    EXPECT_EQ(rank_file_path("out/profiling_data.h5", 3), "out/profiling_data.rank3.h5");
    EXPECT_EQ(rank_file_path("run", 0), "run.rank0.h5");
    EXPECT_EQ(rank_file_path("/a.b/c.hdf5", 12), "/a.b/c.rank12.hdf5");
}

TEST_F(Flush, FullBuffersLeaveMemoryAndFinalizeMergesEveryCall) {
    const std::string file = path("run.h5");
    sp::ProfileManager::setup(
        {.buffer_limit = 2 * kBlock, .file_path = file, .flush_interval_ms = 0});
    const std::size_t calls = 20 * kBlock + 7;  // 10 batches of 2 blocks, then 7 calls
    record("solver", calls);
    // The 10th batch's flush takes what is there: at most the 7 calls after it stay in memory.
    ASSERT_TRUE(wait_for_buffered_at_most("solver", 7)) << buffered("solver") << " in memory";
    EXPECT_TRUE(fs::exists(rank_file_path(file, 0)));
    const sp::Region* solver = sp::ProfileManager::get_region("solver");
    EXPECT_EQ(solver->num_calls(), calls);
    const sp::Stats stats = solver->host_stats();  // flushed and buffered calls together
    EXPECT_EQ(stats.count, calls);
    sp::ProfileManager::finalize(false);

    EXPECT_FALSE(fs::exists(rank_file_path(file, 0))) << "the rank file is removed once merged";
    const auto layout = h5_read::read_layout(file);
    const auto& columns = layout.at(0).at("solver");
    ASSERT_EQ(columns.start_times.size(), calls);
    EXPECT_EQ(sum_of_durations(columns), static_cast<std::int64_t>(stats.total));
    // One thread: batches reach the file in the order they were recorded.
    EXPECT_TRUE(std::is_sorted(columns.start_times.begin(), columns.start_times.end()));
    const std::int32_t thread = columns.thread_ids.front();
    EXPECT_EQ(std::count(columns.thread_ids.begin(), columns.thread_ids.end(), thread),
              static_cast<std::ptrdiff_t>(calls));

    h5_read::Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    h5_read::Id rank(H5Gopen2(f, "rank0", H5P_DEFAULT), H5Gclose);
    EXPECT_EQ(h5_read::read_number_attribute(rank, "clock_offset_ns"), 0);
    h5_read::Id metadata(H5Gopen2(f, "metadata", H5P_DEFAULT), H5Gclose);
    EXPECT_EQ(h5_read::read_number_attribute(metadata, "mpi_size"), 1);
    for (const auto& entry : fs::directory_iterator(dir_))
        EXPECT_EQ(entry.path().filename(), "run.h5") << "left behind: " << entry.path();
}

TEST_F(Flush, ManyRegionsWithNamesHdf5CannotHoldAsTheyAreRoundTripThroughFlushes) {
    const std::string file = path("names.h5");
    sp::ProfileManager::setup({.buffer_limit = kBlock, .file_path = file});
    std::vector<std::string> names;
    for (int i = 0; i < 40; ++i) names.push_back("solver/step " + std::to_string(i));
    names.insert(names.end(), {".", "%2F", "bad \xff byte", "日本語", std::string("nul\0in", 6)});
    // Region i gets i % 4 flushed batches and i calls more.
    for (std::size_t i = 0; i < names.size(); ++i) {
        sp::Region& region = sp::ProfileManager::region(names[i]);
        for (std::size_t c = 0; c < (i % 4) * kBlock + i; ++c) auto r = sp::ProfileManager::profile_region(region);
    }
    (void)sp::ProfileManager::region("empty");  // listed, never called
    sp::ProfileManager::finalize(false);

    const h5_read::Layout layout = h5_read::read_layout(file);  // checks escaped == "name"
    const auto& regions = layout.at(0);
    ASSERT_EQ(regions.size(), names.size() + 1);
    for (std::size_t i = 0; i < names.size(); ++i)
        EXPECT_EQ(regions.at(names[i]).start_times.size(), (i % 4) * kBlock + i) << names[i];
    EXPECT_TRUE(regions.at("empty").start_times.empty());
}

TEST_F(Flush, MemoryStaysBoundedWhileThreadsRecordAndEveryThreadIsInTheFile) {
    const std::string file = path("threads.h5");
    const std::size_t limit = 5 * kBlock;
    sp::ProfileManager::setup({.buffer_limit = limit, .file_path = file});
    constexpr int kThreads = 4;
    const std::size_t calls = 60 * kBlock + 11;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back([&] { record("work", calls); });
    for (auto& t : threads) t.join();
    // Each thread ends with fewer than `limit` full calls plus its block being filled.
    const std::size_t bound = kThreads * (limit + kBlock);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (buffered("work") > bound && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_LE(buffered("work"), bound);
    EXPECT_EQ(sp::ProfileManager::get_region("work")->host_stats().count, kThreads * calls);
    sp::ProfileManager::finalize(false);

    const h5_read::Layout layout = h5_read::read_layout(file);
    const auto& columns = layout.at(0).at("work");
    ASSERT_EQ(columns.start_times.size(), kThreads * calls);
    std::map<std::int32_t, std::size_t> per_thread;
    for (const std::int32_t t : columns.thread_ids) ++per_thread[t];
    ASSERT_EQ(per_thread.size(), static_cast<std::size_t>(kThreads));
    for (const auto& [thread, n] : per_thread) EXPECT_EQ(n, calls) << "thread " << thread;
}

/// A disk that does not keep up at all, for one test: the flusher starts no pass until
/// release() (or the end of the test).
struct HeldFlusher {
    HeldFlusher() { scope_profiler::detail::hold_flusher_for_tests(true); }
    ~HeldFlusher() { release(); }
    void release() { scope_profiler::detail::hold_flusher_for_tests(false); }
    HeldFlusher(const HeldFlusher&) = delete;
    HeldFlusher& operator=(const HeldFlusher&) = delete;
};

// buffer_limit 1000 allows a thread 64 full blocks of a region not on disk (max(64, 4 x
// buffer_limit in blocks)), plus the block it is filling: 65 x 1020 = 66,300 calls in memory.
constexpr std::size_t kBoundCalls = 65 * kBlock;

TEST_F(Flush, ADiskThatCannotKeepUpMakesTheThreadWaitAndLosesNothing) {
    // Before back-pressure, memory grew with the backlog (810 MB in 20 s, 2 threads).
    HeldFlusher held;
    const std::string file = path("wait.h5");
    sp::ProfileManager::setup({.buffer_limit = 1000, .file_path = file});
    constexpr std::size_t kCalls = 300 * kBlock;
    std::thread recording([] { record("work", kCalls); });
    // The thread reaches the bound and waits (the flusher writes nothing meanwhile).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (scope_profiler::detail::backpressure_waits().begun == 0 &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_GT(scope_profiler::detail::backpressure_waits().begun, 0u) << "never reached the bound";
    EXPECT_EQ(buffered("work"), kBoundCalls) << "held at the bound exactly";
    held.release();
    recording.join();
    ::testing::internal::CaptureStderr();
    sp::ProfileManager::finalize(false);
    const std::string message = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(message.find("the disk could not keep up: recording threads waited for the flusher"),
              std::string::npos) << message;
    EXPECT_EQ(h5_read::read_layout(file).at(0).at("work").start_times.size(), kCalls);
}

TEST_F(Flush, ADiskThatCannotKeepUpWithDropMakesTheThreadDropCallsAndSaySo) {
    HeldFlusher held;
    const std::string file = path("drop.h5");
    sp::ProfileManager::setup({.buffer_limit = 1000, .file_path = file,
                               .on_backpressure = sp::Backpressure::drop});
    constexpr std::size_t kCalls = 300 * kBlock;
    record("work", kCalls);  // never waits
    EXPECT_EQ(buffered("work"), kBoundCalls);
    EXPECT_EQ(sp::ProfileManager::get_region("work")->num_calls(), kBoundCalls);
    held.release();
    ::testing::internal::CaptureStderr();
    sp::ProfileManager::finalize(false);
    const std::string message = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(message.find(std::to_string(kCalls - kBoundCalls) +
                           " calls of region 'work' were dropped: the disk could not keep up "
                           "(on_backpressure = drop)"),
              std::string::npos) << message;
    EXPECT_EQ(message.find("waited"), std::string::npos) << "drop never waits: " << message;
    EXPECT_EQ(h5_read::read_layout(file).at(0).at("work").start_times.size(), kBoundCalls);
}

TEST_F(Flush, StatisticsCountEachCallOnceWhileTheFlusherMovesThem) {
    sp::ProfileManager::setup(
        {.buffer_limit = kBlock, .file_path = path("stats.h5"), .flush_interval_ms = 1});
    const std::size_t calls = 200 * kBlock + 3;
    std::thread recorder([&] { record("moving", calls); });
    // While the thread records and the flusher writes (parts of blocks too, every millisecond):
    // every reading sees each call once, in memory or flushed.
    std::uint64_t seen = 0;
    for (int i = 0; i < 100000 && seen != calls; ++i) {
        const sp::Region* moving = sp::ProfileManager::get_region("moving");
        if (moving == nullptr) continue;
        const std::uint64_t before = moving->num_calls();
        const sp::Stats stats = moving->host_stats();
        const std::uint64_t after = moving->num_calls();
        // A call is counted in num_calls() just after its interval is published: the one call
        // the thread is completing may be in the statistics and not yet in `after`.
        ASSERT_GE(stats.count, before);
        ASSERT_LE(stats.count, after + 1);
        seen = after;
    }
    recorder.join();
    ASSERT_TRUE(wait_for_buffered("moving", 0));  // the timed flush takes the last calls too
    EXPECT_EQ(sp::ProfileManager::get_region("moving")->host_stats().count, calls);
}

TEST_F(Flush, ResolvedDeviceIntervalsAreFlushedAndStillCountedOnce) {
    const std::string file = path("device.h5");
    sp::ProfileManager::setup({.buffer_limit = 10, .file_path = file});
    fake::Installed gpu;
    for (int i = 0; i < 35; ++i) auto r = sp::ProfileManager::profile_region("kernel", fake::stream(3));
    const sp::Region* kernel = sp::ProfileManager::get_region("kernel");
    // The fake GPU finishes ticket t at [1000 t, 1000 t + 10]; batches of 10 go to the flusher.
    ASSERT_EQ(kernel->get_device_durations(/*wait=*/true).size() % 10, 5u);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (kernel->get_device_durations().size() != 5 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(kernel->get_device_durations().size(), 5u) << "30 intervals flushed, 5 in memory";
    const sp::Stats stats = kernel->device_stats();
    EXPECT_EQ(stats.count, 35u);
    EXPECT_EQ(stats.total, 350);
    sp::ProfileManager::finalize(false);

    const h5_read::Layout layout = h5_read::read_layout(file);
    const auto& columns = layout.at(0).at("kernel");
    std::vector<std::int64_t> starts = columns.device_start_times;
    std::sort(starts.begin(), starts.end());
    std::vector<std::int64_t> expected(35);
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = 1000 * static_cast<std::int64_t>(i + 1);
    EXPECT_EQ(starts, expected);
    EXPECT_EQ(columns.device_stream_ids, std::vector<std::int64_t>(35, 3));
    EXPECT_EQ(columns.start_times.size(), 35u);  // the CPU side of each device scope
}

TEST_F(Flush, FlushOffKeepsEverythingInMemoryAndWritesNoRankFile) {
    const std::string file = path("memory.h5");
    sp::ProfileManager::setup({.flush_to_disk = false, .buffer_limit = kBlock, .file_path = file});
    record("kept", 10 * kBlock);
    EXPECT_EQ(buffered("kept"), 10 * kBlock);
    EXPECT_FALSE(fs::exists(rank_file_path(file, 0)));
    sp::ProfileManager::finalize(false);
    EXPECT_EQ(h5_read::read_layout(file).at(0).at("kept").start_times.size(), 10 * kBlock);
}

TEST_F(Flush, SetupAgainDropsTheOldSessionsRankFile) {
    const std::string first = path("first.h5");
    sp::ProfileManager::setup({.buffer_limit = kBlock, .file_path = first});
    record("old", 4 * kBlock);
    ASSERT_TRUE(wait_for_buffered_at_most("old", 0));
    ASSERT_TRUE(fs::exists(rank_file_path(first, 0)));
    sp::ProfileManager::setup({.buffer_limit = kBlock, .file_path = path("second.h5")});
    EXPECT_FALSE(fs::exists(rank_file_path(first, 0)));
    EXPECT_EQ(calls_of("old"), 0u);
}

TEST_F(Flush, AProgramThatNeverCallsFinalizeGetsEveryCallMergedAtExit) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const std::string file = path("at_exit.h5");
    EXPECT_EXIT(
        {
            sp::ProfileManager::setup({.buffer_limit = kBlock, .file_path = file});
            record("unfinished", 7 * kBlock + 1);
            std::exit(0);  // the flusher may still be writing
        },
        ::testing::ExitedWithCode(0), "finalize\\(\\) was not called; writing .*at_exit.h5 at exit");
    EXPECT_EQ(h5_read::read_layout(file).at(0).at("unfinished").start_times.size(), 7 * kBlock + 1);
    EXPECT_FALSE(fs::exists(rank_file_path(file, 0)));
}

TEST_F(Flush, AKilledProcessLeavesARankFileWithEveryFlushedInterval) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const std::string file = path("killed.h5");
    const std::size_t calls = 10 * kBlock + 3;
    EXPECT_EXIT(
        {
            sp::ProfileManager::setup(
                {.buffer_limit = kBlock, .file_path = file, .flush_interval_ms = 0});
            record("k", calls);
            // The last batch's flush takes what is there: at most 3 calls stay in memory.
            if (!wait_for_buffered_at_most("k", 3)) std::exit(3);
            ::raise(SIGKILL);
        },
        ::testing::KilledBySignal(SIGKILL), "");
    const auto layout = h5_read::read_layout(rank_file_path(file, 0));
    EXPECT_GE(layout.at(0).at("k").start_times.size(), calls - 3);
    EXPECT_FALSE(fs::exists(file));  // never finalized: no merged file
}

TEST_F(Flush, AFailingFlushKeepsItsIntervalsInMemoryAndFinalizeWritesThem) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const std::string file = path("full.h5");
    const std::size_t first = 3 * kBlock;
    const std::size_t later = 6 * kBlock;
    EXPECT_EXIT(
        {
            sp::ProfileManager::setup(
                {.buffer_limit = kBlock, .file_path = file, .flush_interval_ms = 0});
            record("f", first);
            if (!wait_for_buffered("f", 0)) std::exit(3);  // `first` is 3 whole batches
            // The disk is "full": the rank file may not grow.
            ::signal(SIGXFSZ, SIG_IGN);
            rlimit limit{};
            ::getrlimit(RLIMIT_FSIZE, &limit);
            rlimit full = limit;
            full.rlim_cur = static_cast<rlim_t>(fs::file_size(rank_file_path(file, 0)));
            ::setrlimit(RLIMIT_FSIZE, &full);
            record("f", later);
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            // Nothing lost: the failed batches are still in memory, and counted.
            if (buffered("f") < later) std::exit(4);
            if (sp::ProfileManager::get_region("f")->host_stats().count != first + later) std::exit(5);
            ::setrlimit(RLIMIT_FSIZE, &limit);  // room again
            sp::ProfileManager::finalize(false);
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "flushing region 'f' failed: .*file size limit");
    ASSERT_TRUE(fs::exists(file));
    EXPECT_EQ(h5_read::read_layout(file).at(0).at("f").start_times.size(), first + later);
    EXPECT_FALSE(fs::exists(rank_file_path(file, 0)));
}

}  // namespace
