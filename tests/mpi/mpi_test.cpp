// Under MPI (run by ctest as `mpirun -np 2`): setup() and finalize() are collective, each rank
// records into its own file, and rank 0 merges one file with a group per rank, each carrying
// its clock offset to rank 0. A rank that fails reports it; the test fails on any rank.
#include <gtest/gtest.h>
#include <mpi.h>

#include <scope_profiler/scope_profiler.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "../unit/h5_read.hpp"
#include "flusher.hpp"

namespace {

namespace fs = std::filesystem;
namespace sp = scope_profiler;

int rank_of() {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}
int size_of() {
    int size = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

/// One directory for the job (rank 0 names it, every rank uses it).
std::string job_directory(const char* test) {
    std::string dir;
    if (rank_of() == 0) {
        dir = (fs::temp_directory_path() / ("scope_profiler_mpi_" + std::string(test) + "_" +
                                            std::to_string(::getpid())))
                  .string();
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    int length = static_cast<int>(dir.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
    dir.resize(static_cast<std::size_t>(length));
    MPI_Bcast(dir.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
    return dir;
}

constexpr std::size_t kBlock = sp::detail::kBlockCapacity;

TEST(Mpi, FinalizeMergesEveryRanksFileIntoOneWithAGroupPerRank) {
    const int rank = rank_of();
    const int size = size_of();
    ASSERT_GE(size, 2) << "run this test with mpirun -np 2 (or more)";
    const std::string dir = job_directory("merge");
    const std::string file = dir + "/job.h5";
    sp::ProfileManager::setup({.buffer_limit = kBlock, .file_path = file});

    // Rank r: (r + 2) blocks of "work" (so some are flushed during the run), and one call
    // of a region only it has.
    const std::size_t calls = (static_cast<std::size_t>(rank) + 2) * kBlock + 3;
    sp::Region& work = sp::ProfileManager::region("work");
    for (std::size_t i = 0; i < calls; ++i) auto r = sp::ProfileManager::profile_region(work);
    { auto r = sp::ProfileManager::profile_region("only_on_rank_" + std::to_string(rank)); }
    sp::ProfileManager::finalize(false);
    MPI_Barrier(MPI_COMM_WORLD);  // finalize() returned everywhere: the merged file is in place

    if (rank == 0) {
        ASSERT_TRUE(fs::exists(file));
        const h5_read::Layout layout = h5_read::read_layout(file);
        ASSERT_EQ(layout.size(), static_cast<std::size_t>(size));
        h5_read::Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
        for (int r = 0; r < size; ++r) {
            const auto& regions = layout.at(r);
            EXPECT_EQ(regions.at("work").start_times.size(),
                      (static_cast<std::size_t>(r) + 2) * kBlock + 3) << "rank " << r;
            EXPECT_EQ(regions.at("only_on_rank_" + std::to_string(r)).start_times.size(), 1u);
            EXPECT_EQ(regions.size(), 2u) << "rank " << r;
            // The ranks share this machine's clock: the measured offset is small.
            h5_read::Id group(H5Gopen2(f, ("rank" + std::to_string(r)).c_str(), H5P_DEFAULT), H5Gclose);
            const std::int64_t offset = h5_read::read_number_attribute(group, "clock_offset_ns");
            if (r == 0) EXPECT_EQ(offset, 0);
            EXPECT_LT(std::llabs(offset), 5'000'000) << "rank " << r;
        }
        h5_read::Id metadata(H5Gopen2(f, "metadata", H5P_DEFAULT), H5Gclose);
        EXPECT_EQ(h5_read::read_number_attribute(metadata, "mpi_size"), size);
        for (const auto& entry : fs::directory_iterator(dir))
            EXPECT_EQ(entry.path().filename(), "job.h5") << "left behind: " << entry.path();
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) fs::remove_all(dir);
}

TEST(Mpi, AFlushOffJobStillWritesOneFileThroughTheRankFiles) {
    const int rank = rank_of();
    const std::string dir = job_directory("memory");
    const std::string file = dir + "/memory.h5";
    sp::ProfileManager::setup({.flush_to_disk = false, .file_path = file});
    for (int i = 0; i <= rank; ++i) auto r = sp::ProfileManager::profile_region("step");
    sp::ProfileManager::finalize(false);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        const h5_read::Layout layout = h5_read::read_layout(file);
        ASSERT_EQ(layout.size(), static_cast<std::size_t>(size_of()));
        for (int r = 0; r < size_of(); ++r)
            EXPECT_EQ(layout.at(r).at("step").start_times.size(), static_cast<std::size_t>(r) + 1);
        fs::remove_all(dir);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

std::atomic<int> g_terminated{0};
extern "C" void note_sigterm(int) { g_terminated.store(1); }

TEST(Mpi, ASignalMakesEachRankKeepItsOwnCompleteFileWithoutACollectiveCall) {
    // A batch system's SIGTERM reaches every rank. The program's own handler (installed before
    // setup(), so the library chains to it) returns, so the ranks live on to check the files.
    const int rank = rank_of();
    const std::string dir = job_directory("signal");
    const std::string file = dir + "/signal.h5";
    struct sigaction own{};
    struct sigaction before{};
    own.sa_handler = note_sigterm;
    ::sigemptyset(&own.sa_mask);
    ::sigaction(SIGTERM, &own, &before);
    sp::ProfileManager::setup({.buffer_limit = kBlock, .file_path = file});
    const std::size_t calls = 3 * kBlock + 10 + static_cast<std::size_t>(rank);  // flushed, and not
    for (std::size_t i = 0; i < calls; ++i) auto r = sp::ProfileManager::profile_region("work");
    ::kill(::getpid(), SIGTERM);
    // The program's handler runs after the library finished this rank's file.
    while (g_terminated.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_FALSE(sp::ProfileManager::is_active());
    MPI_Barrier(MPI_COMM_WORLD);  // every rank's file is complete
    if (rank == 0) {
        EXPECT_FALSE(fs::exists(file)) << "no merge after a signal";
        for (int r = 0; r < size_of(); ++r) {
            const auto layout = h5_read::read_layout(sp::detail::rank_file_path(file, r));
            EXPECT_EQ(layout.at(r).at("work").start_times.size(), 3 * kBlock + 10 + r) << "rank " << r;
        }
        fs::remove_all(dir);
    }
    ::sigaction(SIGTERM, &before, nullptr);
    g_terminated.store(0);
    MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    ::testing::InitGoogleTest(&argc, argv);
    // Only rank 0 prints the progress; failures print on every rank.
    if (rank_of() != 0) {
        auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
        delete listeners.Release(listeners.default_result_printer());
    }
    int failed = RUN_ALL_TESTS();
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any;
}
