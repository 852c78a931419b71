#pragma once
// The library's own threads (the flusher, the signal watcher, the block pool's refill thread)
// must not keep a process alive that the program has left: POSIX ends a process when its last
// thread ends, "as if exit(0)" was called, and a program whose main() calls pthread_exit()
// relies on it. Internal to core/.

#include <thread>
#include <utility>

namespace scope_profiler::detail {

/// start_library_thread()'s steps: a thread is about to start (+1) or did not (-1); the new
/// thread is running (its id known); it is ending.
void library_thread_starting(int change) noexcept;
void library_thread_started() noexcept;
void library_thread_ending() noexcept;

/// Starts a library thread running `body`: known as the library's from before it exists (a
/// program thread ending at that moment waits for it to say who it is), until `body` returns.
template <class Body>
std::thread start_library_thread(Body body) {
    library_thread_starting(+1);
    try {
        return std::thread([body = std::move(body)]() mutable {
            library_thread_started();
            body();
            library_thread_ending();
        });
    } catch (...) {
        library_thread_starting(-1);
        throw;
    }
}


/// A thread of the program records for the first time: when it ends (pthread_exit() or a
/// return from its function; not exit(), which ends the process anyway) and it was the
/// program's last thread, the process exits with status 0 as POSIX would have had it.
void watch_for_last_program_thread() noexcept;

/// On a library thread that never waits for the registry (the signal watcher, the refill
/// thread; not the flusher, which finalize() joins while holding the registry's lock), now and
/// then: when no thread of the program is left (two of them
/// ended at the same moment, or the last never recorded), exit(0) for it. Only one thread ever
/// calls that exit(): on the others this returns, and they go on until exit() stops them.
void exit_if_the_program_has_ended() noexcept;

/// True when the calling thread is the program's last one: every other live thread of the
/// process is one of the library's (and there is at least one). Linux (/proc/self/task);
/// false elsewhere. A recording thread that ends asks this and, when true, calls exit(0) on
/// the process's behalf, so the exit handlers (which write the file) run.
bool only_library_threads_remain() noexcept;

}  // namespace scope_profiler::detail
