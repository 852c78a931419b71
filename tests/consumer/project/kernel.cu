// A CUDA user's program: a .cu file that includes the umbrella header and wraps a <<<...>>>
// launch in a device scope, built with nvcc at CMake's default standard, C++17 and C++20.
// Without a GPU the device scopes fall back to host timing (marked); on the simulated runtime
// (SP_CONSUMER_ON_SIM: linked with scope_profiler::cuda_sim instead of cudart) they are timed
// on its streams. Exits non-zero (with a message) when a check fails.
#include <cuda_runtime.h>
#include <scope_profiler/scope_profiler.hpp>
#if SP_CONSUMER_ON_SIM
#include <scope_profiler/cuda_sim.hpp>
#endif

#include <cstdint>
#include <cstdio>

namespace sp = scope_profiler;

namespace {

__global__ void scale(int n, float a, float* x) {
    const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (i < n) x[i] *= a;
}

int failures = 0;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "consumer (cuda): %s\n", what);
        ++failures;
    }
}

}  // namespace

int main() {
    sp::Config config;
    config.flush_to_disk = false;
    sp::ProfileManager::setup(config);

    int devices = 0;
    const bool gpu = cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
    (void)cudaGetLastError();
    cudaStream_t stream = nullptr;
    float* d_x = nullptr;
    constexpr int n = 1 << 10;
    if (gpu) {
        check(cudaStreamCreate(&stream) == cudaSuccess, "cudaStreamCreate failed");
        check(cudaMalloc(&d_x, n * sizeof(float)) == cudaSuccess, "cudaMalloc failed");
    }

    constexpr int kCalls = 5;
#if SP_CONSUMER_ON_SIM
    constexpr std::int64_t kKernelNs = 200'000;  // what the simulated kernels last
#endif
    for (int i = 0; i < kCalls; ++i) {
        SCOPE_PROFILE_REGION("consumer_step");
        auto r = sp::ProfileManager::profile_region("consumer_kernel", stream);
#if SP_CONSUMER_ON_SIM
        sp::cuda_sim::set_next_kernel_ns(kKernelNs);
#endif
        if (gpu) scale<<<(n + 255) / 256, 256, 0, stream>>>(n, 2.0f, d_x);
    }
    if (gpu) check(cudaGetLastError() == cudaSuccess, "a launch failed");

    const sp::Region* region = sp::ProfileManager::get_region("consumer_kernel");
    check(region != nullptr && region->num_calls() == kCalls, "consumer_kernel: wrong call count");
    check(region != nullptr && region->num_device_calls() == kCalls, "consumer_kernel: wrong device call count");
    if (region != nullptr) {
        const sp::DeviceIntervals device = region->get_device_intervals(/*wait=*/true);
        check(device.start_times.size() == kCalls, "consumer_kernel: not every device interval resolved");
        for (std::size_t i = 0; i < device.start_times.size(); ++i) {
            check(device.end_times[i] >= device.start_times[i], "a device interval ends before it starts");
            check(device.host_fallback[i] == (gpu ? 0 : 1), "a device interval has the wrong fallback mark");
#if SP_CONSUMER_ON_SIM
            // The scope brackets one simulated kernel: its duration, give or take the launch gap.
            const std::int64_t d = device.end_times[i] - device.start_times[i];
            check(d >= kKernelNs && d < kKernelNs + 1'000'000, "a simulated kernel's duration is off");
#endif
        }
    }
    check(sp::ProfileManager::get_region("consumer_step")->num_calls() == kCalls, "consumer_step: wrong call count");

    if (gpu) {
        cudaFree(d_x);
        cudaStreamDestroy(stream);
    }
    sp::ProfileManager::finalize();
    if (failures != 0) {
        std::fprintf(stderr, "consumer (cuda): %d check(s) failed\n", failures);
        return 1;
    }
    std::printf("consumer: OK (cuda, %s, C++%ld)\n", gpu ? "device timed" : "no GPU: host fallback",
                static_cast<long>(__cplusplus / 100 % 100));
    return 0;
}
