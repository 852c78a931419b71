#pragma once
// The session's HDF5 file: what finalize() writes.
#include <string>
#include <vector>

#include "job.hpp"
#include "scope_profiler/config.hpp"
#include "scope_profiler/region.hpp"

namespace scope_profiler::detail {

/// Writes config.file_path (through a temporary file renamed into place): the metadata and one
/// group per rank with its regions' host and device intervals. When this rank flushed during
/// the run, or under MPI, it first completes this rank's file (the intervals still in memory
/// appended), then rank 0 merges every rank's file (collective under MPI). Without flushing, a
/// single process writes the file straight from memory. Returns false, after saying why on
/// stderr, when the merged file could not be written; recorded data stays in memory, and rank
/// files that were not merged are kept (the message names them).
struct SessionEnd {
    std::string ended_by;     // the metadata key ended_by: "finalize()", "SIGTERM", ...
    bool collective = true;   // false (a signal): under MPI this rank's file only, no merge
};
bool write_session_file(const Config& config, const Job& job,
                        const std::vector<const Region*>& regions, const SessionEnd& end);

}  // namespace scope_profiler::detail
