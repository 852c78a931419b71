// Fault injection and the per-thread last error. A mutex of its own: SIM_ENTER runs on every
// call and must not wait behind the device model's lock.
#include "faults.hpp"

#include <atomic>
#include <map>
#include <mutex>

namespace scope_profiler::cuda_sim::detail {
namespace {

struct PendingFault {
    std::string function;
    std::uint64_t remaining;  // calls left, this one included
    cudaError_t error;
};

struct Faults {
    std::mutex mu;
    std::map<std::string, std::uint64_t, std::less<>> counts;
    std::vector<PendingFault> pending;
    std::atomic<int> sticky{0};
    std::atomic<int> no_device{0};
    // Bumped by reset(): a thread's last error from an older generation reads as cudaSuccess.
    std::atomic<std::uint64_t> generation{0};
};

Faults& faults() {
    static Faults* const f = new Faults;  // leaked: used by threads still running at exit
    return *f;
}

struct LastError {
    cudaError_t error = cudaSuccess;
    std::uint64_t generation = 0;
};
thread_local LastError tls_last;

}  // namespace

cudaError_t fail(cudaError_t error) {
    if (error != cudaSuccess) {
        tls_last.error = error;
        tls_last.generation = faults().generation.load();
    }
    return error;
}

cudaError_t enter(std::string_view function) {
    Faults& f = faults();
    cudaError_t injected = cudaSuccess;
    {
        std::lock_guard lk(f.mu);
        auto it = f.counts.find(function);
        if (it == f.counts.end()) it = f.counts.emplace(std::string(function), 0).first;
        ++it->second;
        for (auto& p : f.pending) {
            if (p.function == function && --p.remaining == 0 && injected == cudaSuccess) {
                injected = p.error;
            }
        }
        std::erase_if(f.pending, [](const PendingFault& p) { return p.remaining == 0; });
    }
    if (const int e = f.no_device.load(); e != 0) return fail(static_cast<cudaError_t>(e));
    if (const int e = f.sticky.load(); e != 0) return fail(static_cast<cudaError_t>(e));
    return fail(injected);
}

cudaError_t last_error(bool clear) {
    Faults& f = faults();
    if (const int e = f.sticky.load(); e != 0) return static_cast<cudaError_t>(e);
    if (tls_last.generation != f.generation.load()) tls_last = LastError{};
    const cudaError_t e = tls_last.error;
    if (clear) tls_last.error = cudaSuccess;
    return e;
}

cudaError_t no_device_error() { return static_cast<cudaError_t>(faults().no_device.load()); }

void fault_fail_call(std::string_view function, std::uint64_t nth, int error) {
    if (nth == 0) return;
    Faults& f = faults();
    std::lock_guard lk(f.mu);
    f.pending.push_back({std::string(function), nth, static_cast<cudaError_t>(error)});
}

void fault_set_sticky(int error) { faults().sticky.store(error); }
void fault_set_no_device(int error) { faults().no_device.store(error); }

std::uint64_t fault_call_count(std::string_view function) {
    Faults& f = faults();
    std::lock_guard lk(f.mu);
    const auto it = f.counts.find(function);
    return it == f.counts.end() ? 0 : it->second;
}

std::vector<std::pair<std::string, std::uint64_t>> fault_calls() {
    Faults& f = faults();
    std::lock_guard lk(f.mu);
    return {f.counts.begin(), f.counts.end()};
}

void fault_reset() {
    Faults& f = faults();
    std::lock_guard lk(f.mu);
    f.counts.clear();
    f.pending.clear();
    f.sticky.store(0);
    f.no_device.store(0);
    ++f.generation;
}

}  // namespace scope_profiler::cuda_sim::detail
