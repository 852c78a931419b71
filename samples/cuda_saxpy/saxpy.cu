// Device regions: kernels timed on the GPU with CUDA events, on two streams, next to a host
// region of the same name, queried while the program runs.
//
//   ./cuda_saxpy                                    # prints the summary
//   nsys profile --trace=cuda,nvtx ./cuda_saxpy     # the same ranges in Nsight Systems
//
// Without a GPU (or driver) the program still runs: device scopes fall back to host timing,
// say so once on stderr, and the summary marks those intervals as host fallback.
#include <cuda_runtime.h>
#include <scope_profiler/scope_profiler.hpp>

#include <cstdio>
#include <vector>

namespace sp = scope_profiler;

__global__ void saxpy(int n, float a, const float* x, float* y) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

void saxpy_host(int n, float a, const float* x, float* y) {
    for (int i = 0; i < n; ++i) y[i] = a * x[i] + y[i];
}

// Returns false (and says why) when the call failed, e.g. with no GPU.
bool cuda_ok(cudaError_t error, const char* what) {
    if (error == cudaSuccess) return true;
    std::fprintf(stderr, "cuda_saxpy: %s: %s\n", what, cudaGetErrorString(error));
    return false;
}

int main() {
    sp::ProfileManager::setup(sp::Config::from_env());
    constexpr int n = 1 << 20;
    constexpr int steps = 50;
    std::vector<float> x(n, 1.0f), y(n, 2.0f);

    // The host version of the same operation: the same region name, a host scope.
    for (int i = 0; i < 5; ++i) {
        auto r = sp::ProfileManager::profile_region("saxpy");
        saxpy_host(n, 2.0f, x.data(), y.data());
    }

    float *d_x = nullptr, *d_y = nullptr;
    cudaStream_t streams[2] = {nullptr, nullptr};
    const bool gpu = cuda_ok(cudaMalloc(&d_x, n * sizeof(float)), "cudaMalloc") &&
                     cuda_ok(cudaMalloc(&d_y, n * sizeof(float)), "cudaMalloc") &&
                     cuda_ok(cudaStreamCreate(&streams[0]), "cudaStreamCreate") &&
                     cuda_ok(cudaStreamCreate(&streams[1]), "cudaStreamCreate");
    if (gpu) {
        cudaDeviceProp properties{};
        if (cudaGetDeviceProperties(&properties, 0) == cudaSuccess) {
            std::printf("device: %s (compute capability %d.%d)\n", properties.name, properties.major,
                        properties.minor);
        }
        cudaMemcpy(d_x, x.data(), n * sizeof(float), cudaMemcpyHostToDevice);
        cudaMemcpy(d_y, y.data(), n * sizeof(float), cudaMemcpyHostToDevice);
    } else {
        std::fprintf(stderr, "cuda_saxpy: no GPU: the device scopes below run without kernels\n");
    }

    for (int step = 0; step < steps; ++step) {
        SCOPE_PROFILE_REGION("time_step");  // a host region around the launches
        for (int s = 0; s < 2; ++s) {
            // A device scope: what streams[s] executes from here to the closing brace.
            auto r = sp::ProfileManager::profile_region("saxpy", streams[s]);
            if (gpu) saxpy<<<(n + 255) / 256, 256, 0, streams[s]>>>(n, 2.0f, d_x, d_y);
        }
        if (step == steps / 2) {
            // Ask while the program runs: completed GPU durations, without waiting for the rest.
            const sp::Region* region = sp::ProfileManager::get_region("saxpy");
            const auto done = region->get_device_durations();
            std::printf("mid-run: %llu saxpy calls, %llu on a stream, %zu resolved so far\n",
                        static_cast<unsigned long long>(region->num_calls()),
                        static_cast<unsigned long long>(region->num_device_calls()), done.size());
        }
    }

    const sp::Region* region = sp::ProfileManager::get_region("saxpy");
    const sp::Stats device = region->device_stats(/*wait=*/true);
    std::printf("saxpy device scopes: %llu intervals, mean %.2f us%s\n\n",
                static_cast<unsigned long long>(device.count), device.mean / 1e3,
                gpu ? "" : " (timed on the host: no GPU)");

    if (gpu) {
        cudaStreamDestroy(streams[0]);
        cudaStreamDestroy(streams[1]);
        cudaFree(d_x);
        cudaFree(d_y);
    }
    sp::ProfileManager::finalize();
}
