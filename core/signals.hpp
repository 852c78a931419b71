#pragma once
// Termination signals (SIGTERM, SIGINT, SIGHUP): the session's file is finished before the
// signal takes its usual course. Internal to core/.
//
// The handler does one async-signal-safe thing: it writes the signal's number to a pipe. A
// watcher thread reads it, calls `finish` (which finalizes the session: locks, HDF5, MPI, all
// of it outside signal context), then puts back the disposition the signal had before
// (SIG_DFL, or the program's own handler) and raises the signal again on itself: the default
// action ends the process with the signal's status, a program's handler runs as it would have.
// A second signal while the file is being finished takes its usual course at once. A signal the
// program ignores (SIG_IGN, e.g. SIGHUP under nohup) stays ignored.

#include <string>

namespace scope_profiler::detail {

/// Installs the handlers (once; later calls do nothing while watching) and starts the watcher
/// thread. `finish(signo)` runs on that thread. Throws std::system_error when the pipe or the
/// thread cannot be made (nothing is installed then).
void watch_termination_signals(void (*finish)(int signo));

/// Puts back the previous dispositions (where ours is still installed: a handler the program
/// installed after ours stays) and stops the watcher. On the watcher thread itself (finish()
/// finalizing), the handlers go and the thread ends after finish() returns.
void stop_watching_termination_signals() noexcept;

/// "SIGTERM", "SIGINT", "SIGHUP", or "signal N".
std::string signal_name(int signo);

}  // namespace scope_profiler::detail
