#include "fork_child.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>

#include "diagnostics.hpp"
#include "h5_writer.hpp"

namespace scope_profiler::detail {

namespace {

std::atomic<bool> g_child{false};
std::atomic<bool> g_warned{false};
std::atomic<long> g_parent{0};

// No HDF5 call of the library is under way at the fork (each holds the HDF5 lock): HDF5's own
// state, and its lock where HDF5 is thread-safe, are consistent in the child.
void before_fork() noexcept { h5::lock_for_fork(); }
void after_fork_in_parent() noexcept { h5::unlock_after_fork(/*child=*/false); }
void after_fork_in_child() noexcept {
    h5::unlock_after_fork(/*child=*/true);
    g_parent.store(static_cast<long>(::getppid()), std::memory_order_relaxed);
    g_child.store(true, std::memory_order_release);
    end_session_in_fork_child();
}

}  // namespace

void handle_fork() {
    static const bool registered =
        ::pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child) == 0;
    (void)registered;
}

bool in_fork_child() noexcept { return g_child.load(std::memory_order_acquire); }

void warn_in_fork_child(const char* what) noexcept {
    if (g_warned.exchange(true)) return;
    logf(LogLevel::warning,
         "%s in a fork() child (pid %ld, parent %ld) does nothing: profiling is off in fork children, whose "
         "calls are not recorded; the parent's session and file are the parent's",
         what, static_cast<long>(::getpid()), g_parent.load(std::memory_order_relaxed));
}

}  // namespace scope_profiler::detail
