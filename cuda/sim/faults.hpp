#pragma once
// Call counting, injected faults (fail_call, sticky errors, no device) and the per-thread last
// error. Every entry point starts with SIM_ENTER("cudaName"), before it looks at its arguments.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api.hpp"

namespace scope_profiler::cuda_sim::detail {

// Counts a call of `function`; returns the error injected for it (already the thread's last
// error), or cudaSuccess.
cudaError_t enter(std::string_view function);
// Records `error` as the calling thread's last error and returns it (cudaSuccess: no effect).
cudaError_t fail(cudaError_t error);
// The calling thread's last error; `clear` resets it (never a sticky one).
cudaError_t last_error(bool clear);
// The error of set_no_device (cudaSuccess when there is a device).
cudaError_t no_device_error();

void fault_fail_call(std::string_view function, std::uint64_t nth, int error);
void fault_set_sticky(int error);
void fault_set_no_device(int error);
std::uint64_t fault_call_count(std::string_view function);
std::vector<std::pair<std::string, std::uint64_t>> fault_calls();
void fault_reset();  // faults, counts and every thread's last error

}  // namespace scope_profiler::cuda_sim::detail

#define SIM_ENTER(function)                                          \
    do {                                                             \
        if (const cudaError_t sim_enter_error_ =                     \
                ::scope_profiler::cuda_sim::detail::enter(function); \
            sim_enter_error_ != cudaSuccess)                         \
            return sim_enter_error_;                                 \
    } while (0)
