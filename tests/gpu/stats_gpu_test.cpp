// The CUDA backend of the statistics (detail::gpu_stats: copy, Thrust transform_reduce, sort,
// gather) against the host backend (detail::host_stats_of: Thrust on the CPP backend, radix
// select) on the same data: count, total, min and max equal, mean and stddev within 1e-9
// relative, percentiles exactly equal.
//
// Plain C++ (no kernels of its own). Every test reports itself SKIPPED without a usable device;
// scripts/gpu_check.sh treats a skip on a GPU machine as a failure.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "stats.hpp"

namespace d = scope_profiler::detail;

namespace {

// Empty when the statistics can use a GPU, else why not.
std::string no_device_reason() {
    if (d::gpu_stats_available()) return {};
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    (void)cudaGetLastError();
    std::string why = "no usable CUDA device (detail::gpu_stats_available() is false";
    if (e != cudaSuccess) {
        why += std::string("; cudaGetDeviceCount: ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
    } else if (count <= 0) {
        why += "; cudaGetDeviceCount found no device";
    }
    return why + ")";
}

#define SKIP_WITHOUT_GPU()                                            \
    do {                                                              \
        if (const std::string why = no_device_reason(); !why.empty()) \
            GTEST_SKIP() << why;                                      \
    } while (0)

enum class Data { lognormal, uniform_ties, constant, near_int64_max, full_int64_range };

const char* name_of(Data data) {
    switch (data) {
        case Data::lognormal: return "Lognormal";
        case Data::uniform_ties: return "UniformWithTies";
        case Data::constant: return "Constant";
        case Data::near_int64_max: return "NearInt64Max";
        case Data::full_int64_range: return "FullInt64Range";
    }
    return "Unknown";
}

void PrintTo(Data data, std::ostream* os) { *os << name_of(data); }

std::vector<std::int64_t> make(Data data, std::size_t n) {
    std::mt19937_64 rng(0x5eed0000u + static_cast<unsigned>(data) * 1000u + n % 997u);
    std::vector<std::int64_t> v(n);
    switch (data) {
        case Data::lognormal: {
            std::lognormal_distribution<double> dist(9.0, 1.5);
            for (auto& x : v) x = std::llround(dist(rng));
            break;
        }
        case Data::uniform_ties: {
            // 100 distinct values: every percentile rank falls among equal neighbours.
            std::uniform_int_distribution<std::int64_t> dist(1'000, 1'099);
            for (auto& x : v) x = dist(rng);
            break;
        }
        case Data::constant:
            std::fill(v.begin(), v.end(), 123'456'789);
            break;
        case Data::near_int64_max: {
            // The int64 sum overflows many times over; the 128-bit sum must not.
            std::uniform_int_distribution<std::int64_t> dist(0, 1'000'000);
            for (auto& x : v) x = INT64_MAX - dist(rng);
            if (n >= 2) v[n / 2] = INT64_MAX;
            break;
        }
        case Data::full_int64_range: {
            std::uniform_int_distribution<std::int64_t> dist(INT64_MIN, INT64_MAX);
            for (auto& x : v) x = dist(rng);
            if (n >= 7) {
                v[3] = INT64_MIN;
                v[5] = INT64_MAX;
            }
            break;
        }
    }
    return v;
}

bool close(double a, double b, double rel) {
    return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b));
}

using Case = std::tuple<Data, std::size_t>;

class StatsGpuVsHost : public ::testing::TestWithParam<Case> {};

TEST_P(StatsGpuVsHost, SameStatistics) {
    SKIP_WITHOUT_GPU();
    const auto [data, n] = GetParam();
    const std::vector<std::int64_t> values = make(data, n);

    const scope_profiler::Stats host = d::host_stats_of(values);
    // gpu_stats itself, not compute_stats: that one falls back to the host silently.
    const std::optional<scope_profiler::Stats> on_gpu = d::gpu_stats(values);
    ASSERT_TRUE(on_gpu.has_value()) << "detail::gpu_stats failed on " << n << " values (see stderr)";
    const scope_profiler::Stats& gpu = *on_gpu;

    EXPECT_EQ(gpu.count, n);
    EXPECT_EQ(gpu.count, host.count);
    EXPECT_EQ(gpu.total, host.total);
    EXPECT_EQ(gpu.min, host.min);
    EXPECT_EQ(gpu.max, host.max);
    EXPECT_PRED3(close, gpu.mean, host.mean, 1e-9) << "mean: gpu " << gpu.mean << " host " << host.mean;
    EXPECT_PRED3(close, gpu.stddev, host.stddev, 1e-9) << "stddev: gpu " << gpu.stddev << " host " << host.stddev;
    EXPECT_EQ(gpu.p50, host.p50);
    EXPECT_EQ(gpu.p95, host.p95);
    EXPECT_EQ(gpu.p99, host.p99);
    EXPECT_EQ(gpu.percentiles_exact, host.percentiles_exact);

    // The extremes are what the data says (the backends could agree on a wrong answer).
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    EXPECT_EQ(gpu.min, *lo);
    EXPECT_EQ(gpu.max, *hi);
}

constexpr std::size_t kSizes[] = {1, 2, 7, 1000, std::size_t{1} << 20, 10'000'000};

INSTANTIATE_TEST_SUITE_P(
    Stats, StatsGpuVsHost,
    ::testing::Combine(::testing::Values(Data::lognormal, Data::uniform_ties, Data::constant,
                                         Data::near_int64_max, Data::full_int64_range),
                       ::testing::ValuesIn(kSizes)),
    [](const ::testing::TestParamInfo<Case>& info) {
        return std::string(name_of(std::get<0>(info.param))) + "_" + std::to_string(std::get<1>(info.param));
    });

}  // namespace
