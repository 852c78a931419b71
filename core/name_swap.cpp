#include "name_swap.hpp"

#include <fcntl.h>   // AT_FDCWD
#include <stdio.h>   // renameat2, RENAME_EXCHANGE (glibc 2.28)
#include <unistd.h>  // link, unlink

#include <cerrno>
#include <cstdio>

#if !defined(RENAME_EXCHANGE)
#include <sys/syscall.h>
#endif

namespace scope_profiler::detail {

namespace {

int exchange(const std::string& a, const std::string& b) {
#if defined(RENAME_EXCHANGE)
    return ::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0 ? 0 : errno;
#elif defined(SYS_renameat2)
    constexpr unsigned kExchange = 1U << 1;  // RENAME_EXCHANGE in <linux/fs.h>
    return ::syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), kExchange) == 0
               ? 0
               : errno;
#else
    (void)a;
    (void)b;
    return ENOSYS;
#endif
}

}  // namespace

std::string third_name(const std::string& twin) { return twin + ".swap"; }

SwapResult swap_names(const std::string& official, const std::string& twin, SwapMethod method) {
    if (method == SwapMethod::exchange) {
        const int error = exchange(official, twin);
        return {error == 0, error};
    }
    const std::string third = third_name(twin);
    ::unlink(third.c_str());  // left by a process killed between the steps below
    if (::link(official.c_str(), third.c_str()) != 0) return {false, errno};
    if (std::rename(twin.c_str(), official.c_str()) != 0) {
        const int error = errno;
        ::unlink(third.c_str());
        return {false, error};
    }
    if (std::rename(third.c_str(), twin.c_str()) != 0) return {true, errno};
    return {true, 0};
}

const char* describe(SwapMethod method) noexcept {
    return method == SwapMethod::exchange ? "renameat2(RENAME_EXCHANGE)" : "link() and rename()";
}

}  // namespace scope_profiler::detail
