#pragma once
// Kernel durations: the default (SCOPE_PROFILER_SIM_KERNEL_NS or 10 us) and each thread's queue
// of durations for its next launches.
#include <cstdint>

namespace scope_profiler::cuda_sim::detail {

std::int64_t default_kernel_ns();
void set_default_kernel_ns(std::int64_t ns);
void queue_kernel_ns(std::int64_t ns);
// The calling thread's next queued duration if any (taken), else `fallback`.
std::int64_t take_kernel_ns(std::int64_t fallback);
// Restores the default from the environment and drops every thread's queue.
void reset_durations();

}  // namespace scope_profiler::cuda_sim::detail
