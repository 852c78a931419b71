// A program that ends the way real runs end, for tests/unit/ending_test.cpp:
//
//   ending_child exit|return|last-thread FILE CALLS
//       CALLS calls of "unfinished" (buffer_limit 1020: several flushes), then no finalize():
//       std::exit(0), a return from main, or main's pthread_exit() with the calls on a second
//       thread (the process ends with its last thread).
//   ending_child signal FILE CALLS [own-handler] [ignore-hup]
//       CALLS calls of "before", "ready" on stdout, then it waits for a signal. own-handler: a
//       SIGTERM handler installed before setup() that makes the program exit(7); ignore-hup:
//       SIGHUP ignored before setup().
//   ending_child fork FILE CALLS ERRORS
//       stderr appended to the file ERRORS; setup() (buffer_limit 1000: the flusher writes),
//       CALLS calls of "work", fork(), CALLS / 2 more calls in each process. The child calls
//       finalize() and exit(0); the parent waits for it (30 s at most: then it kills it and
//       exits 5), calls finalize(), and exits 0 when the child exited 0, 6 otherwise.
//   ending_child record FILE SHARED THREADS CALLS
//       THREADS threads record "work" (CALLS each, 0: until killed), each publishing its count
//       of completed calls in the file SHARED (a struct Shared, mapped). The main thread
//       publishes there when the flusher's last complete pass began, and how many intervals of
//       "work" are in memory. "ready" once every thread has started. The configuration comes
//       from the environment (SCOPE_PROFILER_BUFFER_LIMIT, ..._FLUSH_INTERVAL_MS).
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scope_profiler/scope_profiler.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ending_shared.hpp"
#include "flusher.hpp"

namespace sp = scope_profiler;

namespace {

void record(const char* name, std::uint64_t calls) {
    sp::Region& region = sp::ProfileManager::region(name);
    for (std::uint64_t i = 0; i < calls; ++i) auto r = sp::ProfileManager::profile_region(region);
}

void say_ready() {
    const char line[] = "ready\n";
    [[maybe_unused]] const ssize_t n = ::write(STDOUT_FILENO, line, sizeof line - 1);
}

std::atomic<int> g_own_handler_ran{0};  // lock-free: async-signal-safe, and the handler may
                                        // run on another thread than the one that reads it
extern "C" void own_handler(int) { g_own_handler_ran.store(1); }

int wait_for_signal(bool own_handler) {
    for (;;) {
        if (own_handler && g_own_handler_ran.load() != 0) {
            std::printf("own handler ran\n");
            std::exit(7);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

ending::Shared* map_shared(const char* path) {
    const int fd = ::open(path, O_RDWR);
    if (fd < 0) return nullptr;
    void* at = ::mmap(nullptr, sizeof(ending::Shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    return at == MAP_FAILED ? nullptr : static_cast<ending::Shared*>(at);
}

int record_until_killed(const char* file, const char* shared_path, int threads,
                        std::uint64_t calls) {
    ending::Shared* shared = map_shared(shared_path);
    if (shared == nullptr || threads < 1 || threads > ending::kMaxThreads) return 3;
    sp::ProfileManager::setup(sp::Config::from_env({.file_path = file}));
    sp::Region& work = sp::ProfileManager::region("work");
    std::atomic<int> started{0};
    std::vector<std::thread> recorders;
    for (int t = 0; t < threads; ++t) {
        recorders.emplace_back([&, t] {
            started.fetch_add(1);
            for (std::uint64_t i = 0; calls == 0 || i < calls; ++i) {
                { auto r = sp::ProfileManager::profile_region(work); }
                shared->calls[t].store(i + 1, std::memory_order_release);
            }
        });
    }
    while (started.load() < threads) std::this_thread::yield();
    say_ready();
    for (;;) {  // until killed
        shared->pass_began_ns.store(sp::detail::last_complete_pass_began_ns(),
                                    std::memory_order_release);
        std::uint64_t completed = 0;
        for (int t = 0; t < threads; ++t) completed += shared->calls[t].load(std::memory_order_acquire);
        const sp::Region* region = sp::ProfileManager::get_region("work");
        const std::uint64_t in_memory = region == nullptr ? 0 : region->get_durations().size();
        shared->in_memory_after.store(UINT64_MAX, std::memory_order_release);  // a pair, not torn
        shared->in_memory.store(in_memory, std::memory_order_release);
        shared->in_memory_after.store(completed, std::memory_order_release);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace

int fork_and_finalize_in_both(const char* file, std::uint64_t calls) {
    sp::ProfileManager::setup({.buffer_limit = 1000, .file_path = file});
    record("work", calls);
    std::fflush(nullptr);
    const pid_t child = ::fork();
    if (child < 0) return 4;
    record("work", calls / 2);
    if (child == 0) {
        sp::ProfileManager::finalize(false);
        std::exit(0);  // its exit handlers run too
    }
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (::waitpid(child, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(child, SIGKILL);
            ::waitpid(child, &status, 0);
            return 5;  // the child hung
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    sp::ProfileManager::finalize(false);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 6;
}

int main(int argc, char** argv) {
    if (argc < 4) return 2;
    const std::string mode = argv[1];
    const char* file = argv[2];
    if (mode == "record") {
        if (argc != 6) return 2;
        return record_until_killed(file, argv[3], std::atoi(argv[4]), std::strtoull(argv[5], nullptr, 10));
    }
    const std::uint64_t calls = std::strtoull(argv[3], nullptr, 10);
    if (mode == "fork") {
        if (argc != 5 || std::freopen(argv[4], "a", stderr) == nullptr) return 2;
        return fork_and_finalize_in_both(file, calls);
    }
    if (mode == "signal") {
        bool own = false;
        for (int i = 4; i < argc; ++i) {
            if (std::strcmp(argv[i], "own-handler") == 0) own = true;
            if (std::strcmp(argv[i], "ignore-hup") == 0) std::signal(SIGHUP, SIG_IGN);
        }
        if (own) std::signal(SIGTERM, own_handler);
        sp::ProfileManager::setup(sp::Config::from_env({.file_path = file}));
        record("before", calls);
        say_ready();
        return wait_for_signal(own);
    }
    sp::ProfileManager::setup(sp::Config::from_env({.buffer_limit = 1020, .file_path = file}));
    if (mode == "exit") {
        record("unfinished", calls);
        std::exit(0);  // the flusher may still be writing
    }
    if (mode == "return") {
        record("unfinished", calls);
        return 0;
    }
    if (mode == "last-thread") {
        std::thread([calls] { record("unfinished", calls); }).detach();
        ::pthread_exit(nullptr);  // the process ends when the recording thread does
    }
    return 2;
}
