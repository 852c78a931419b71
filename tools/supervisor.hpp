#pragma once
// The command runs in a child process and its parent watches it. libhdf5 (1.10) can crash
// (SIGSEGV in H5HG_read, H5F__accum_read) or loop for ever on a damaged file, and no check in
// our code can come before its parsing. In a child, such a crash costs nothing but the child:
// the parent turns it into exit code 2 and one line naming the file (ledger.hpp says which file
// was being read), removes the temporary outputs the child left, and passes on the child's
// exit code otherwise. SIGINT, SIGTERM and SIGHUP sent to the parent are passed to the child;
// a child ended by a signal that is not a crash (SIGINT, SIGPIPE of `| head`, SIGXFSZ) ends the
// parent the same way, silently, as the program in one process would have ended.
//
// SCOPE_PROFILER_ISOLATE=0 runs the command in the one process (to debug it; gdb can also
// `set follow-fork-mode child`).

namespace scope_profiler::cli {

/// In the parent: waits for the child and returns the exit code the program should end with.
/// In the child (and without isolation): returns -1, and the caller runs the command.
[[nodiscard]] int supervise();

}  // namespace scope_profiler::cli
