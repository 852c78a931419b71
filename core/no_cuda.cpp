// What a build without the CUDA layer links instead of cuda/: host-timed device scopes, no GPU
// statistics. (NVTX is core/nvtx.cpp or core/no_nvtx.cpp, apart from CUDA.)
#include "device_backend.hpp"
#include "scope_profiler/detail/runtime.hpp"
#include "stats.hpp"

namespace scope_profiler::detail {

std::unique_ptr<DeviceBackend> make_default_device_backend() {
    return make_host_fallback_backend("this build of scope-profiler has no CUDA support");
}

// Without CCCL: the component's plain loop.
Moments host_moments(std::span<const std::int64_t> values) noexcept { return stats::plain_moments(values); }

std::optional<Stats> gpu_stats(std::span<const std::int64_t>) noexcept { return std::nullopt; }
bool gpu_stats_available() noexcept { return false; }

}  // namespace scope_profiler::detail
