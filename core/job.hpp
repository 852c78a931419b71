#pragma once
// Where this process stands in a parallel job: MPI_COMM_WORLD when the library was built with
// SCOPE_PROFILER_MPI and the program initialized MPI before setup(), else rank 0 of 1
// (core/mpi.cpp and core/no_mpi.cpp implement it). Under MPI, setup() and finalize() are
// collective: every rank calls them, in the same order.

#include <cstdint>
#include <string>
#include <vector>

namespace scope_profiler::detail {

struct Job {
    int rank = 0;
    int size = 1;
    bool mpi = false;            // the collectives below talk to other ranks
    std::int64_t clock_offset_ns = 0;  // add to this rank's steady_clock to get rank 0's
};

/// setup(): the job, and this rank's clock offset to rank 0 (collective under MPI: each rank
/// exchanges timestamps with rank 0 and keeps the exchange of least round trip).
Job join_job();

/// finalize(): whether MPI can still talk (false once the program called MPI_Finalize).
bool job_can_communicate(const Job& job);

/// finalize(), collective: every rank says whether its rank file is complete; rank 0 gets the
/// ranks whose files are (rank order), the other ranks an empty list.
std::vector<int> gather_ready(const Job& job, bool ready);

/// finalize(), collective: rank 0 tells every rank whether the merged file was written.
bool broadcast_outcome(const Job& job, bool written);

}  // namespace scope_profiler::detail
