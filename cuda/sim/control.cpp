// The control API of scope_profiler/cuda_sim.hpp.
#include <scope_profiler/cuda_sim.hpp>

#include "capture.hpp"
#include "durations.hpp"
#include "faults.hpp"

namespace scope_profiler::cuda_sim {

SIM_EXPORT void set_kernel_ns(std::int64_t ns) { detail::set_default_kernel_ns(ns); }
SIM_EXPORT std::int64_t kernel_ns() { return detail::default_kernel_ns(); }
SIM_EXPORT void set_next_kernel_ns(std::int64_t ns) { detail::queue_kernel_ns(ns); }

SIM_EXPORT void fail_call(std::string_view function, std::uint64_t nth, int error) {
    detail::fault_fail_call(function, nth, error);
}
SIM_EXPORT void set_sticky_error(int error) { detail::fault_set_sticky(error); }
SIM_EXPORT void set_no_device(int error) { detail::fault_set_no_device(error); }

SIM_EXPORT void invalidate_capture(CUstream_st* stream) {
    auto& st = detail::state();
    std::lock_guard lk(st.mu);
    if (CUstream_st* s = detail::resolve_stream(st, stream); s != nullptr && s->capture) {
        s->capture->invalidated = true;
    }
}

SIM_EXPORT std::uint64_t call_count(std::string_view function) {
    return detail::fault_call_count(function);
}
SIM_EXPORT std::vector<std::pair<std::string, std::uint64_t>> calls() {
    return detail::fault_calls();
}

SIM_EXPORT void reset() {
    auto& st = detail::state();
    std::vector<detail::OpPtr> tails;
    {
        std::lock_guard lk(st.mu);
        tails = detail::all_tails(st);
    }
    detail::wait_ops(std::move(tails));  // every stream, host functions included
    {
        // Every tail ended implies every host function returned; checked anyway so reset() never
        // overlaps the dispatcher's bookkeeping.
        std::unique_lock lk(st.mu);
        st.done_cv.wait(lk, [&] { return st.host_queue.empty() && st.host_running == 0; });
    }
    detail::fault_reset();
    detail::reset_durations();
}

}  // namespace scope_profiler::cuda_sim
