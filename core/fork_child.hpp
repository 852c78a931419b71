#pragma once
// fork(): profiling stays off in the child. The child has one thread, copies of the parent's
// buffers, and the parent's file_path: it must neither touch that file nor wait on a lock that a
// parent thread (the flusher in HDF5, a recording thread) held at the fork. So at the fork the
// library ends the session in the child without a lock (its scopes record nothing), and setup()
// and finalize() there only say so, once. The parent goes on as if nothing happened. (A child
// that wants its own profile execs a program that calls setup().)

namespace scope_profiler::detail {

/// Registers the fork handlers, once (at setup()).
void handle_fork();

/// True in a child of fork() made after handle_fork(): profiling is off for good in it.
bool in_fork_child() noexcept;

/// In a fork child: prints, the first time, that `what` (setup(), finalize()) does nothing there.
void warn_in_fork_child(const char* what) noexcept;

/// The child's side of the fork (core/session.cpp): every scope is inert from now on. Takes no
/// lock.
void end_session_in_fork_child() noexcept;

}  // namespace scope_profiler::detail
