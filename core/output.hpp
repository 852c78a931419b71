#pragma once
// The session's HDF5 file: what finalize() writes, from the regions in memory.
#include <vector>

#include "scope_profiler/config.hpp"
#include "scope_profiler/region.hpp"

namespace scope_profiler::detail {

/// Writes config.file_path (through a temporary file renamed into place): the metadata and, for
/// rank 0, one group per region with its host and device intervals. Returns false, after saying
/// why on stderr, when it could not be written; the data stays in memory either way.
bool write_session_file(const Config& config, const std::vector<const Region*>& regions);

}  // namespace scope_profiler::detail
