// Which threads are the library's, and whether the program has any other left (see the header).
#include "library_threads.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "fork_child.hpp"

namespace scope_profiler::detail {

namespace {

std::mutex g_mutex;
std::atomic<int> g_starting{0};  // library threads created that have not said who they are
std::vector<long>& library_tids() {
    static auto* tids = new std::vector<long>();  // never destroyed: threads end after exit
    return *tids;
}

long this_tid() noexcept { return ::syscall(SYS_gettid); }

// A thread that has ended (zombie: the main thread after pthread_exit()) or is ending.
bool has_ended(const char* tid) noexcept {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true;  // gone
    char stat[512];
    const ssize_t n = ::read(fd, stat, sizeof stat - 1);
    ::close(fd);
    if (n <= 0) return true;
    stat[n] = '\0';
    const char* paren = std::strrchr(stat, ')');  // "tid (comm) S ...": comm may hold spaces
    if (paren == nullptr || paren[1] == '\0' || paren[2] == '\0') return false;
    const char state = paren[2];
    return state == 'Z' || state == 'X' || state == 'x';
}

pthread_key_t g_program_thread;  // set on the program's threads that recorded

// Several library threads (and the last program thread) may find the program ended at once:
// one of them calls exit(), the others go on as before until exit() stops them. A second,
// concurrent exit() would end the process while the first one's handlers write the file.
std::atomic<bool> g_exiting{false};

void exit_for_the_program() noexcept {
    if (!g_exiting.exchange(true)) std::exit(0);
}

extern "C" void on_program_thread_end(void*) {
    if (in_fork_child()) return;  // the parent's library threads are not this process's
    // Thread-specific data destructors run at pthread_exit() and at a return from the thread's
    // function, never in exit(): the exit(0) here is never nested in another exit().
    if (only_library_threads_remain()) exit_for_the_program();
}

}  // namespace

void watch_for_last_program_thread() noexcept {
    static const bool key = ::pthread_key_create(&g_program_thread, on_program_thread_end) == 0;
    if (key) ::pthread_setspecific(g_program_thread, &g_program_thread);
}

void exit_if_the_program_has_ended() noexcept {
    if (only_library_threads_remain()) exit_for_the_program();
}

void library_thread_starting(int change) noexcept { g_starting.fetch_add(change); }

void library_thread_started() noexcept {
    try {
        std::lock_guard lock(g_mutex);
        library_tids().push_back(this_tid());
    } catch (...) {  // NOLINT(bugprone-empty-catch): then this thread counts as the program's
    }
    g_starting.fetch_sub(1);
}

void library_thread_ending() noexcept {
    std::lock_guard lock(g_mutex);
    std::erase(library_tids(), this_tid());
}

bool only_library_threads_remain() noexcept {
#if defined(__linux__)
    // A library thread being created is not in the list yet: wait (briefly) until it is.
    for (int i = 0; g_starting.load() > 0; ++i) {
        if (i == 100000) return false;  // the backstop (exit_if_the_program_has_ended) decides
        std::this_thread::yield();
    }
    std::lock_guard lock(g_mutex);
    const std::vector<long>& ours = library_tids();
    if (ours.empty()) return false;  // nothing of ours keeps the process alive
    DIR* tasks = ::opendir("/proc/self/task");
    if (tasks == nullptr) return false;
    const long self = this_tid();
    bool others = false;
    while (const dirent* entry = ::readdir(tasks)) {
        if (entry->d_name[0] == '.') continue;
        const long tid = std::strtol(entry->d_name, nullptr, 10);
        if (tid == self || std::find(ours.begin(), ours.end(), tid) != ours.end()) continue;
        if (!has_ended(entry->d_name)) {
            others = true;
            break;
        }
    }
    ::closedir(tasks);
    return !others;
#else
    return false;
#endif
}

}  // namespace scope_profiler::detail
