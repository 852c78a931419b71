#include "quiescence.hpp"

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace scope_profiler::detail {

namespace {

#if defined(__linux__) && defined(SYS_membarrier)
long membarrier(int command) noexcept { return ::syscall(SYS_membarrier, command, 0U, 0); }

bool registered() noexcept {
    // Once per process: the expedited barrier needs the process registered first.
    static const bool ok = [] {
        const long supported = membarrier(MEMBARRIER_CMD_QUERY);
        return supported > 0 && (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
               membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
    }();
    return ok;
}
#endif

}  // namespace

bool barrier_on_every_thread() noexcept {
#if defined(__linux__) && defined(SYS_membarrier)
    return registered() && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
#else
    return false;
#endif
}

}  // namespace scope_profiler::detail
