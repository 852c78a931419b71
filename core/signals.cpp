// Termination signals: a handler that only writes to a pipe, and a watcher thread that finishes
// the session's file and then lets the signal take its usual course (see signals.hpp).
#include "signals.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <system_error>
#include <thread>

#include "library_threads.hpp"

namespace scope_profiler::detail {

namespace {

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGHUP};
constexpr int kCount = static_cast<int>(std::size(kSignals));

// g_previous[i] is written before our handler for kSignals[i] is installed and read only while
// g_installed[i] is true: the handler may read it.
struct sigaction g_previous[kCount];
std::atomic<bool> g_installed[kCount];
// The pipe lives as long as the process: a handler running on another thread while the watcher
// stops must never write to a descriptor that was closed and reused for something else.
int g_pipe[2] = {-1, -1};
std::atomic<int> g_caught{0};  // the first signal caught while watching (0: none)
void (*g_finish)(int) = nullptr;
std::mutex g_mutex;  // guards g_watcher and g_finish; never held while joining
std::thread* g_watcher = nullptr;

int slot_of(int signo) noexcept {
    for (int i = 0; i < kCount; ++i)
        if (kSignals[i] == signo) return i;
    return -1;
}

extern "C" void on_termination_signal(int signo);

// Puts back the disposition kSignals[i] had before ours, where ours is still the one installed.
// Async-signal-safe.
void put_back(int i) noexcept {
    if (!g_installed[i].exchange(false)) return;
    struct sigaction current{};
    if (::sigaction(kSignals[i], nullptr, &current) == 0 && current.sa_handler == on_termination_signal)
        ::sigaction(kSignals[i], &g_previous[i], nullptr);
}

void put_back_all() noexcept {
    for (int i = 0; i < kCount; ++i) put_back(i);
}

// Async-signal-safe: an atomic exchange, write(), and for a second signal sigaction() and raise().
extern "C" void on_termination_signal(int signo) {
    const int saved_errno = errno;
    int none = 0;
    if (g_caught.compare_exchange_strong(none, signo)) {
        const auto byte = static_cast<unsigned char>(signo);
        if (::write(g_pipe[1], &byte, 1) == 1) {
            errno = saved_errno;
            return;
        }
    }
    // A second signal while the file is being finished (or the watcher cannot be woken): the
    // usual course now. The signal is blocked while this handler runs, so the raised one is
    // delivered, with the previous disposition, when it returns.
    if (const int i = slot_of(signo); i >= 0) put_back(i);
    ::raise(signo);
    errno = saved_errno;
}

void make_pipe() {
    if (g_pipe[0] >= 0) return;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        throw std::system_error(errno, std::generic_category(), "scope_profiler: signal pipe");
    g_pipe[0] = fds[0];
    g_pipe[1] = fds[1];
}

// Reads what is in the pipe without waiting: a stop byte or a signal left from an earlier watcher.
void drain_pipe() noexcept {
    unsigned char bytes[64];
    while (::read(g_pipe[0], bytes, sizeof bytes) > 0) {
    }
}

void watch_loop() {
    // The watched signals go to the program's threads, never interrupt this one; a broken pipe
    // on stdout or stderr while the file is finished is an error return here, not a death.
    sigset_t blocked;
    ::sigemptyset(&blocked);
    for (const int signo : kSignals) ::sigaddset(&blocked, signo);
    ::sigaddset(&blocked, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &blocked, nullptr);

    unsigned char byte = 0;
    for (;;) {
        pollfd readable{g_pipe[0], POLLIN, 0};
        // Once a second: a program whose threads have all ended is not kept alive by this one.
        const int ready = ::poll(&readable, 1, 1000);
        if (ready == 0) exit_if_the_program_has_ended();
        if (ready < 0 && errno != EINTR) return;
        const ssize_t n = ::read(g_pipe[0], &byte, 1);
        if (n == 1) break;
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
    }
    if (byte == 0) return;  // stop_watching_termination_signals()
    const int signo = byte;
    void (*finish)(int) = nullptr;
    {
        std::lock_guard lock(g_mutex);
        finish = g_finish;
    }
    if (finish != nullptr) finish(signo);

    // The usual course: the previous dispositions back, the signal raised on this thread.
    put_back_all();
    sigset_t one;
    ::sigemptyset(&one);
    ::sigaddset(&one, signo);
    ::raise(signo);  // pending until unblocked
    ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    // Still here: the program's own handler returned, and the program goes on (unprofiled).
    // Nobody will join this thread now: it leaves on its own.
    std::lock_guard lock(g_mutex);
    if (g_watcher != nullptr && g_watcher->get_id() == std::this_thread::get_id()) {
        g_watcher->detach();
        delete g_watcher;
        g_watcher = nullptr;
    }
}

// Joins a watcher that was taken out of g_watcher (never under g_mutex: the watcher takes it).
void join(std::thread* watcher) noexcept {
    if (watcher == nullptr) return;
    if (watcher->joinable()) watcher->join();
    delete watcher;
}

// fork(): the child has no watcher thread, so it gets the dispositions back. g_mutex is held
// across fork() so the child's copy is not locked by a thread that does not exist there.
void before_fork() noexcept { g_mutex.lock(); }
void after_fork_in_parent() noexcept { g_mutex.unlock(); }
std::atomic<std::thread*> g_left_by_fork{nullptr};  // a fork child's copy of the parent's watcher

void after_fork_in_child() noexcept {
    put_back_all();
    // The thread is not in this process: its object is left as it is, kept reachable (no leak
    // for a leak checker, nothing to join).
    g_left_by_fork.store(g_watcher);
    g_watcher = nullptr;
    g_caught.store(0);
    g_mutex.unlock();
}

}  // namespace

void watch_termination_signals(void (*finish)(int)) {
    static const bool fork_handlers =
        ::pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child) == 0;
    (void)fork_handlers;
    std::thread* finished = nullptr;
    {
        std::lock_guard lock(g_mutex);
        g_finish = finish;
        if (g_watcher != nullptr && g_caught.load() == 0) return;  // watching already
        finished = g_watcher;  // a watcher that handled a signal whose handler returned
        g_watcher = nullptr;
    }
    join(finished);

    std::lock_guard lock(g_mutex);
    if (g_watcher != nullptr) return;  // another thread started one meanwhile
    make_pipe();
    drain_pipe();
    g_caught.store(0);
    g_watcher = new std::thread(start_library_thread(watch_loop));
    struct sigaction ours{};
    ours.sa_handler = on_termination_signal;
    ::sigemptyset(&ours.sa_mask);
    ours.sa_flags = SA_RESTART;
    for (int i = 0; i < kCount; ++i) {
        if (g_installed[i].load()) continue;
        struct sigaction previous{};
        if (::sigaction(kSignals[i], nullptr, &previous) != 0) continue;
        if (previous.sa_handler == SIG_IGN) continue;  // ignored stays ignored (nohup)
        g_previous[i] = previous;
        g_installed[i].store(true);
        if (::sigaction(kSignals[i], &ours, nullptr) != 0) g_installed[i].store(false);
    }
}

void stop_watching_termination_signals() noexcept {
    std::thread* watcher = nullptr;
    {
        std::lock_guard lock(g_mutex);
        if (g_watcher == nullptr) return;
        put_back_all();
        // On the watcher itself (finish() is finalizing): it ends by itself after finish()
        // returns, and the next watch or stop joins it.
        if (g_watcher->get_id() == std::this_thread::get_id()) return;
        watcher = g_watcher;
        g_watcher = nullptr;
        if (g_caught.load() == 0) {
            const unsigned char stop = 0;
            [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &stop, 1);
        }
    }
    join(watcher);
}

std::string signal_name(int signo) {
    switch (signo) {
        case SIGTERM: return "SIGTERM";
        case SIGINT: return "SIGINT";
        case SIGHUP: return "SIGHUP";
        default: return "signal " + std::to_string(signo);
    }
}

}  // namespace scope_profiler::detail
