// Builds with SCOPE_PROFILER_MPI: the job is MPI_COMM_WORLD once the program initialized MPI.
// The library talks on its own duplicate of MPI_COMM_WORLD, so its messages never mix with
// the program's.
#include <mpi.h>

#include <cstdint>
#include <limits>

#include "job.hpp"
#include "scope_profiler/detail/runtime.hpp"

namespace scope_profiler::detail {

namespace {

MPI_Comm g_comm = MPI_COMM_NULL;

bool mpi_usable() {
    int initialized = 0;
    int finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    return initialized != 0 && finalized == 0;
}

// Cristian's algorithm, repeated: rank r sends its time t0, rank 0 answers with its own t1, r
// reads t2 on return. The exchange with the shortest round trip bounds the error best:
// |error| <= (t2 - t0) / 2.
constexpr int kExchanges = 16;
constexpr int kTag = 7001;

std::int64_t measure_offset(int rank, int size) {
    if (rank == 0) {
        for (int peer = 1; peer < size; ++peer) {
            for (int i = 0; i < kExchanges; ++i) {
                std::int64_t ping = 0;
                MPI_Recv(&ping, 1, MPI_INT64_T, peer, kTag, g_comm, MPI_STATUS_IGNORE);
                const std::int64_t t1 = now_ns();
                MPI_Send(&t1, 1, MPI_INT64_T, peer, kTag, g_comm);
            }
        }
        return 0;
    }
    std::int64_t best_rtt = std::numeric_limits<std::int64_t>::max();
    std::int64_t offset = 0;
    for (int i = 0; i < kExchanges; ++i) {
        const std::int64_t t0 = now_ns();
        MPI_Send(&t0, 1, MPI_INT64_T, 0, kTag, g_comm);
        std::int64_t t1 = 0;
        MPI_Recv(&t1, 1, MPI_INT64_T, 0, kTag, g_comm, MPI_STATUS_IGNORE);
        const std::int64_t t2 = now_ns();
        if (t2 - t0 < best_rtt) {
            best_rtt = t2 - t0;
            offset = t1 - (t0 + (t2 - t0) / 2);
        }
    }
    return offset;
}

}  // namespace

Job join_job() {
    Job job;
    if (!mpi_usable()) return job;
    if (g_comm == MPI_COMM_NULL) MPI_Comm_dup(MPI_COMM_WORLD, &g_comm);
    MPI_Comm_rank(g_comm, &job.rank);
    MPI_Comm_size(g_comm, &job.size);
    job.mpi = true;
    job.clock_offset_ns = job.size > 1 ? measure_offset(job.rank, job.size) : 0;
    return job;
}

bool job_can_communicate(const Job& job) { return !job.mpi || mpi_usable(); }

std::vector<int> gather_ready(const Job& job, bool ready) {
    if (!job.mpi) return ready ? std::vector<int>{0} : std::vector<int>{};
    int mine = ready ? 1 : 0;
    std::vector<int> all(job.rank == 0 ? job.size : 0);
    MPI_Gather(&mine, 1, MPI_INT, all.data(), 1, MPI_INT, 0, g_comm);
    std::vector<int> ranks;
    for (int r = 0; r < static_cast<int>(all.size()); ++r)
        if (all[r] != 0) ranks.push_back(r);
    return ranks;
}

bool broadcast_outcome(const Job& job, bool written) {
    if (!job.mpi) return written;
    int flag = written ? 1 : 0;
    MPI_Bcast(&flag, 1, MPI_INT, 0, g_comm);
    return flag != 0;
}

}  // namespace scope_profiler::detail
