#pragma once
// Nanoseconds to seconds, for every number printed or written in seconds (finalize()'s summary,
// `scope-profiler report`): divided, as Python's x / 1e9, so 1.95e9 ns is 1.95 s.

namespace scope_profiler::stats {

inline double ns_to_seconds(double ns) noexcept { return ns / 1e9; }

}  // namespace scope_profiler::stats
