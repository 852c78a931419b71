// Kernel durations. The per-thread queues carry the generation they were filled in, so reset()
// can drop the queues of every thread without reaching into their thread_locals.
#include "durations.hpp"

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>

namespace scope_profiler::cuda_sim::detail {
namespace {

constexpr std::int64_t kBuiltinKernelNs = 10'000;

std::int64_t env_kernel_ns() {
    const char* text = std::getenv("SCOPE_PROFILER_SIM_KERNEL_NS");
    if (text == nullptr || *text == '\0') return kBuiltinKernelNs;
    std::int64_t value = 0;
    const char* last = text + std::strlen(text);
    const auto [ptr, ec] = std::from_chars(text, last, value);
    if (ec != std::errc{} || ptr != last || value < 0) {
        std::fprintf(stderr,
                     "scope-profiler cuda sim: ignoring SCOPE_PROFILER_SIM_KERNEL_NS=\"%s\" (not a "
                     "non-negative integer); kernels take %lld ns\n",
                     text, static_cast<long long>(kBuiltinKernelNs));
        return kBuiltinKernelNs;
    }
    return value;
}

std::atomic<std::int64_t>& default_ns() {
    static std::atomic<std::int64_t> ns{env_kernel_ns()};
    return ns;
}

std::atomic<std::uint64_t> g_generation{0};

struct Queue {
    std::deque<std::int64_t> ns;
    std::uint64_t generation = 0;
};
thread_local Queue tls_queue;

Queue& my_queue() {
    const auto gen = g_generation.load();
    if (tls_queue.generation != gen) {
        tls_queue.ns.clear();
        tls_queue.generation = gen;
    }
    return tls_queue;
}

}  // namespace

std::int64_t default_kernel_ns() { return default_ns().load(); }
void set_default_kernel_ns(std::int64_t ns) { default_ns().store(ns < 0 ? 0 : ns); }
void queue_kernel_ns(std::int64_t ns) { my_queue().ns.push_back(ns < 0 ? 0 : ns); }

std::int64_t take_kernel_ns(std::int64_t fallback) {
    Queue& q = my_queue();
    if (q.ns.empty()) return fallback;
    const std::int64_t ns = q.ns.front();
    q.ns.pop_front();
    return ns;
}

void reset_durations() {
    ++g_generation;
    default_ns().store(env_kernel_ns());
}

}  // namespace scope_profiler::cuda_sim::detail
