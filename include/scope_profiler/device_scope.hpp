#pragma once
/// @file device_scope.hpp
/// @brief scope_profiler::DeviceScope: a region scope around work enqueued on a CUDA stream.
///
/// No CUDA header is needed: `cudaStream_t` is `CUstream_st*`, declared here as CUDA declares it.

#include <cstddef>
#include <cstdint>

#include "scope_profiler/detail/runtime.hpp"
#include "scope_profiler/region.hpp"

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace scope_profiler {

class DeviceScope;
namespace detail {
void device_enter(DeviceScope& scope) noexcept;
void device_exit(DeviceScope& scope) noexcept;
}  // namespace detail

/**
 * @brief Times one call of a region on the GPU: what `stream` executes between entry and exit.
 *
 * Entry records a start event on `stream`, exit an end event; both come from a pool and are
 * resolved later with `cudaEventQuery`, so the scope never synchronizes anything. The call also
 * counts as a host call (its CPU-side time goes to Region::get_durations()), and emits an NVTX
 * range in category "device". Without a usable GPU the call is timed on the host and marked as
 * host fallback; on a stream being captured into a CUDA graph only the NVTX range is emitted.
 * \code
 * {
 *     auto r = sp::ProfileManager::profile_region("saxpy", stream);
 *     saxpy<<<grid, block, 0, stream>>>(n, a, d_x, d_y);
 * }   // the end event is recorded here; the GPU duration is resolved later
 * \endcode
 */
class [[nodiscard]] DeviceScope {
public:
    /// @brief Opens a call of `region` on `stream` (nullptr: the legacy default stream).
    DeviceScope(Region& region, CUstream_st* stream) noexcept : DeviceScope(&region, stream) {}

    /// @brief As above; a null `region` makes an inert scope.
    DeviceScope(Region* region, CUstream_st* stream) noexcept
        : region_(region), stream_(stream), state_(region != nullptr ? detail::scope_state() : 0) {
        if (detail::mode_of(state_) != detail::Mode::off) detail::device_enter(*this);
    }

    /// @brief Records the end event (nothing waits for it) and the host-side interval.
    ~DeviceScope() {
        if (detail::mode_of(state_) != detail::Mode::off) detail::device_exit(*this);
    }

    DeviceScope(const DeviceScope&) = delete;
    DeviceScope(DeviceScope&&) = delete;
    DeviceScope& operator=(const DeviceScope&) = delete;
    DeviceScope& operator=(DeviceScope&&) = delete;
    static void* operator new(std::size_t) = delete;
    static void* operator new[](std::size_t) = delete;

    /// @brief The region this scope times (nullptr for an inert scope).
    Region* region() const noexcept { return region_; }

private:
    friend void detail::device_enter(DeviceScope&) noexcept;
    friend void detail::device_exit(DeviceScope&) noexcept;

    Region* region_;
    CUstream_st* stream_;
    std::int64_t start_ = 0;
    std::uint64_t ticket_ = 0;
    std::uint32_t state_;
    std::uint8_t kind_ = 0;  // detail::DeviceStart
};

}  // namespace scope_profiler
