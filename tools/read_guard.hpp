#pragma once
// Marks the stretch of code in which libhdf5 reads an input (profile_file.cpp): the ledger then
// names that file (ledger.hpp), so that if libhdf5 crashes on a damaged file the supervisor can
// say which one (supervisor.hpp); and a CPU-time watchdog ends the process with SIGVTALRM when
// the reading thread spends the stall limit without calling progress(): libhdf5 1.10 loops for
// ever on some damaged files (a byte changed in a global heap), and an endless loop is told from
// a slow disk by the CPU it burns. Guards nest; the outermost one of a thread does the work.
// One thread reads at a time (the command's reading is single-threaded).

#include <string>

namespace scope_profiler::cli {

/// SCOPE_PROFILER_READ_STALL_S (default 20): seconds of CPU time one step of reading may take.
/// A value that is not a positive number throws InputError.
[[nodiscard]] double read_stall_limit_seconds();

class ReadGuard {
public:
    explicit ReadGuard(const std::string& path);
    ~ReadGuard();
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;

    /// A step of reading ended: the watchdog starts counting again.
    void progress() noexcept;

private:
    bool outermost_ = false;
};

}  // namespace scope_profiler::cli
