// The CUDA backend of the statistics: copy the durations to the GPU, reduce the moments with
// the same functors as the host backend, sort, and gather the six ranks the percentiles need.
#include <cuda_runtime_api.h>
#include <thrust/copy.h>
#include <thrust/device_vector.h>
#include <thrust/sort.h>
#include <thrust/system/cuda/execution_policy.h>
#include <thrust/system_error.h>

#include <atomic>
#include <cstdio>
#include <iterator>
#include <new>

#include "diagnostics.hpp"
#include "stats_functors.hpp"

namespace scope_profiler::detail {

namespace {

// Whether the GPU reduces and sorts a known vector right. A runtime that runs no kernel bodies
// (the simulated runtime, scope_profiler::cuda_sim) or a broken driver would otherwise give
// wrong statistics without any error: such a device is used for timing, never for statistics.
bool reduces_correctly() noexcept {
    try {
        const std::int64_t known[] = {30, 10, 40, 10, 50, 90, 20, 60};
        thrust::device_vector<std::int64_t> d_values(std::begin(known), std::end(known));
        const Moments m = reduce_moments(thrust::cuda::par, d_values.begin(), d_values.end());
        thrust::sort(thrust::cuda::par, d_values.begin(), d_values.end());
        const std::int64_t lowest = d_values[0];
        const std::int64_t highest = d_values[7];
        const bool right = m.count == 8 && m.sum == 310 && m.min == 10 && m.max == 90 &&
                           m.squares.low == 17300 && m.squares.high == 0 && lowest == 10 && highest == 90;
        if (!right) {
            log(LogLevel::info, "the CUDA device did not reduce a check vector correctly (a simulated or "
                                "broken runtime?); statistics are reduced on the host");
        }
        return right;
    } catch (const std::exception&) {
        (void)cudaGetLastError();
        return false;
    }
}

}  // namespace

bool gpu_stats_available() noexcept {
    static const bool available = [] {
        int count = 0;
        const cudaError_t error = cudaGetDeviceCount(&count);
        if (error != cudaSuccess) (void)cudaGetLastError();
        return error == cudaSuccess && count > 0 && reduces_correctly();
    }();
    return available;
}

std::optional<Stats> gpu_stats(std::span<const std::int64_t> values) noexcept {
    if (values.empty() || !gpu_stats_available()) return std::nullopt;
    try {
        thrust::device_vector<std::int64_t> d_values(values.begin(), values.end());
        const Moments m = reduce_moments(thrust::cuda::par, d_values.begin(), d_values.end());
        thrust::sort(thrust::cuda::par, d_values.begin(), d_values.end());
        const auto ranks = percentile_ranks(m.count);
        std::array<std::int64_t, 6> at{};
        for (int i = 0; i < 6; ++i) at[i] = d_values[ranks[i]];
        Stats s = finish(m);
        set_percentiles(s, m.count, at);
        return s;
    } catch (const std::exception& e) {  // thrust::system_error, std::bad_alloc (device memory)
        static std::atomic<bool> said{false};
        if (!said.exchange(true)) {
            logf(LogLevel::warning, "statistics on the GPU failed (%s); reducing on the host instead", e.what());
        }
        (void)cudaGetLastError();
        return std::nullopt;
    }
}

}  // namespace scope_profiler::detail
