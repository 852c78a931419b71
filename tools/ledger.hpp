#pragma once
// What the command's process is doing, kept where its supervisor can read it after a crash
// (supervisor.hpp): the input file that HDF5 is reading at this moment, and the temporary output
// files that exist (output_file.hpp). The ledger is one page of memory shared with the parent
// process; it is written only by the command itself and read by the parent only once the
// command has ended, so it needs no locking across processes. A signal handler may read it.
//
// Without a supervisor (SCOPE_PROFILER_ISOLATE=0, or the tests that call the subcommands in
// their own process), it is just this process's memory and the same calls work.

#include <string>

namespace scope_profiler::cli::ledger {

/// Maps the shared page; called before fork() so that parent and child share it. Idempotent.
void map();

/// A temporary output file that exists now (track) or no longer (untrack). Paths longer than
/// PATH_MAX - 1 and more than 64 at once are not recorded: those are not removed after a crash.
void track_temporary(const std::string& path);
void untrack_temporary(const std::string& path);
/// Unlinks every recorded temporary file. Async-signal-safe.
void remove_temporaries() noexcept;

/// The input HDF5 is reading (set by ReadGuard, read_guard.hpp); nullptr when none.
void set_reading(const std::string& path);
void clear_reading() noexcept;
[[nodiscard]] const char* reading() noexcept;

}  // namespace scope_profiler::cli::ledger
