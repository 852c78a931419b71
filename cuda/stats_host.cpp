// Host moments with Thrust's CPP backend (sequential; compiled by the host compiler with
// THRUST_DEVICE_SYSTEM=CPP, so no CUDA header is involved).
#include <thrust/system/cpp/execution_policy.h>

#include "stats_functors.hpp"

namespace scope_profiler::detail {

Moments host_moments(std::span<const std::int64_t> values) noexcept {
    if (values.empty()) return {};
    return reduce_moments(thrust::cpp::par, values.data(), values.data() + values.size());
}

}  // namespace scope_profiler::detail
