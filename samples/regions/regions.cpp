// The "Profiling regions" guide as one program: a decorator, scopes, mixing both under one name,
// nesting, recursion, threads, and asking a region for its data while the program runs.
//
//   SCOPE_PROFILER_PROFILING_ACTIVATED=0 ./regions   # the same program, profiling off
#include <scope_profiler/scope_profiler.hpp>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <thread>
#include <vector>

namespace sp = scope_profiler;

struct State {
    std::vector<double> u;
};

// A "linear solve": what the decorator will wrap.
double solve(const std::vector<double>& a, double b) {
    double acc = 0;
    for (double x : a) acc += std::sqrt(x * x + b);
    return acc;
}

std::vector<double> compute_rhs(const State& s) {
    std::vector<double> rhs(s.u.size());
    for (std::size_t i = 0; i < s.u.size(); ++i) rhs[i] = -0.5 * s.u[i] + std::sin(s.u[i]);
    return rhs;
}

void time_step(State& s, double dt) {
    SCOPE_PROFILE_FUNCTION();  // region "time_step", cached at this call site
    std::vector<double> rhs;
    {
        auto r = sp::ProfileManager::profile_region("rhs_evaluation");
        rhs = compute_rhs(s);
    }
    {
        auto r = sp::ProfileManager::profile_region("state_update");
        for (std::size_t i = 0; i < s.u.size(); ++i) s.u[i] += dt * rhs[i];
    }
}

// Mixing: the decorator and the scope inside share the region "compute".
double process(double chunk) { return std::exp(-chunk) * chunk; }
double compute_batch_impl(const std::vector<double>& data) {
    double sum = 0;
    for (double chunk : data) {
        auto r = sp::ProfileManager::profile_region("compute");
        sum += process(chunk);
    }
    return sum;
}

// Recursion: every re-entry is a call of its own.
long fib(int n) {
    SCOPE_PROFILE_REGION("fib");
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main() {
    // The program's choice; SCOPE_PROFILER_* variables in the environment override it.
    sp::ProfileManager::setup(sp::Config::from_env());

    auto timed_solve = sp::ProfileManager::profile("solver", solve);
    auto compute_batch = sp::ProfileManager::profile("compute", compute_batch_impl);

    State state{std::vector<double>(4096, 1.0)};
    std::vector<double> data(64);
    std::iota(data.begin(), data.end(), 0.0);

    double checksum = 0;
    {
        auto outer = sp::ProfileManager::profile_region("main_loop");  // nesting: all below
        for (int step = 0; step < 100; ++step) {
            time_step(state, 1e-3);
            checksum += timed_solve(state.u, 1.0);
            checksum += compute_batch(data);
        }
        checksum += static_cast<double>(fib(15));
    }

    // Several threads record into the same regions; each interval knows its thread.
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
        workers.emplace_back([&data] {
            for (int i = 0; i < 1000; ++i) {
                auto r = sp::ProfileManager::profile_region("worker_task");
                volatile double x = process(data[i % data.size()]);
                (void)x;
            }
        });
    }
    for (auto& w : workers) w.join();

    // Ask while the program runs: counts and buffered durations (ns).
    if (const sp::Region* solver = sp::ProfileManager::get_region("solver")) {
        const auto durations = solver->get_durations();
        const double mean_us =
            durations.empty() ? 0.0
                              : std::accumulate(durations.begin(), durations.end(), 0.0) /
                                    static_cast<double>(durations.size()) / 1e3;
        std::printf("runtime query: solver ran %llu times, %.2f us on average\n",
                    static_cast<unsigned long long>(solver->num_calls()), mean_us);
    }
    for (const auto& [name, region] : sp::ProfileManager::get_all_regions()) {
        std::printf("  %-16.*s %8llu calls\n", static_cast<int>(name.size()), name.data(),
                    static_cast<unsigned long long>(region->num_calls()));
    }
    std::printf("checksum %.6f\n\n", checksum);

    sp::ProfileManager::finalize();  // the summary, per region in first-use order
}
