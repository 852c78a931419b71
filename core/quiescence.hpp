#pragma once
// Freeing what recording threads may still hold. A scope's end reads this thread's recorder and
// then checks that its session is still the current one; setup() may end that session in
// between and free the recorder. So each thread marks the few instructions in which it holds a
// recorder (ThreadCache::recording, two plain stores on the hot path), and setup(), after ending
// the session, makes every thread execute a memory barrier (Linux membarrier(), the way
// userspace RCU does) and waits until no thread is marked. A mark set after the barrier is
// followed by a read of the new session state, so that call drops itself and touches nothing.

namespace scope_profiler::detail {

/// Makes every thread of this process execute a full memory barrier before it returns
/// (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)). False where the kernel does not offer it
/// (before Linux 4.14, or a seccomp filter): the caller then must not free what a marked
/// thread may hold. Thread-safe.
bool barrier_on_every_thread() noexcept;

}  // namespace scope_profiler::detail
