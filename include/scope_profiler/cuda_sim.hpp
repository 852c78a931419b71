#pragma once
/// @file cuda_sim.hpp
/// @brief The control API of the simulated CUDA runtime (`scope_profiler::cuda_sim`).
///
/// The simulated runtime is a library (`libscope_profiler_cuda_sim`, CMake target
/// `scope_profiler::cuda_sim`) that implements the part of the CUDA runtime API a program with
/// device scopes uses, and the entry points nvcc's generated code calls for `<<<...>>>` launches,
/// so an unmodified `.cu` program links against it instead of `cudart` and runs on a machine
/// without a GPU. Streams are queues on the host's real `steady_clock`; a kernel launch occupies
/// its stream for a chosen duration and its body never runs; events complete when their stream
/// reaches them and carry that time, so `cudaEventElapsedTime` is exact. Device memory is host
/// memory. See docs/cuda.md ("Without a GPU").
///
/// This header declares only the controls (kernel durations, fault injection, call counts) and
/// includes no CUDA header: errors are `cudaError_t` values passed as `int`.
/// \code
/// namespace sim = scope_profiler::cuda_sim;
/// sim::set_next_kernel_ns(250'000);                    // this thread's next launch: 250 us
/// saxpy<<<grid, block, 0, stream>>>(n, a, d_x, d_y);  // the body does not run
/// sim::fail_call("cudaEventRecord", 1, cudaErrorLaunchFailure);  // the next record fails
/// \endcode

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace scope_profiler::cuda_sim {

/// @brief The duration of every kernel launch that has no duration of its own queued (ns).
/// Starts as `SCOPE_PROFILER_SIM_KERNEL_NS` from the environment, or 10000.
void set_kernel_ns(std::int64_t ns);
/// @brief The default kernel duration now in force (ns).
std::int64_t kernel_ns();
/// @brief Queues a duration (ns) for the calling thread's next kernel launch; several calls
/// queue several launches, taken in order (a graph launch takes one per captured kernel).
void set_next_kernel_ns(std::int64_t ns);

/// @brief Enqueues a kernel of `ns` nanoseconds on `stream` (nullptr: the legacy default stream,
/// as for `<<<...>>>`), as a launch would: for C++ code and tests built without nvcc. Counted
/// under "cudaLaunchKernel"; returns the cudaError_t a launch would.
int launch_kernel(CUstream_st* stream, std::int64_t ns);

/// @brief Makes the `nth` call (1 = the next one) of `function` from now on, from any thread,
/// return `error` (a cudaError_t value) and set it as the thread's last error. `function` is the
/// CUDA runtime API name without `_v2`/`_ptsz` suffixes, e.g. "cudaEventRecord".
void fail_call(std::string_view function, std::uint64_t nth, int error);
/// @brief From now on every call fails with `error`, as after a sticky device fault
/// (cudaErrorIllegalAddress): `cudaGetLastError` returns it without clearing it. 0 clears it.
void set_sticky_error(int error);
/// @brief Simulates a machine without a usable device: every call fails with `error`
/// (cudaErrorInsufficientDriver, cudaErrorNoDevice; `cudaGetDeviceCount` reports 0 devices).
/// 0 restores the device.
void set_no_device(int error);
/// @brief Invalidates the capture in progress on `stream` as CUDA does after an illegal call:
/// the stream reports cudaStreamCaptureStatusInvalidated, and cudaStreamEndCapture fails.
void invalidate_capture(CUstream_st* stream);

/// @brief How many times `function` was called since the last reset() (failed calls included).
std::uint64_t call_count(std::string_view function);
/// @brief Every function called since the last reset(), with its call count, sorted by name.
std::vector<std::pair<std::string, std::uint64_t>> calls();

/// @brief Waits for every stream, then clears the faults, the queued durations and the call
/// counts, and restores the default kernel duration from the environment. Streams, events and
/// memory stay valid.
void reset();

}  // namespace scope_profiler::cuda_sim
