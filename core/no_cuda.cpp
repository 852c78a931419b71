// What a build without the CUDA layer links instead of cuda/: host-timed device scopes, no GPU
// statistics. (NVTX is core/nvtx.cpp or core/no_nvtx.cpp, apart from CUDA.)
#include <algorithm>

#include "device_backend.hpp"
#include "scope_profiler/detail/runtime.hpp"
#include "stats.hpp"

namespace scope_profiler::detail {

std::unique_ptr<DeviceBackend> make_default_device_backend() {
    return make_host_fallback_backend("this build of scope-profiler has no CUDA support");
}

// Without CCCL, the same moments as cuda/stats_functors.hpp in a plain loop.
Moments host_moments(std::span<const std::int64_t> values) noexcept {
    Moments m;
    if (values.empty()) return m;
    m.shift = choose_shift(values);
    for (const std::int64_t x : values) {
        const double d = static_cast<double>(static_cast<__int128>(x) - m.shift);
        ++m.count;
        m.sum += x;
        m.min = std::min(m.min, x);
        m.max = std::max(m.max, x);
        m.squares += d * d;
    }
    return m;
}

std::optional<Stats> gpu_stats(std::span<const std::int64_t>) noexcept { return std::nullopt; }
bool gpu_stats_available() noexcept { return false; }

}  // namespace scope_profiler::detail
