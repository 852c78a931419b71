// Kernel launches (the public cudaLaunchKernel and nvcc's <<<...>>> path) and the registration
// entry points nvcc's generated host code calls at load time. Kernel bodies never run.
#include <scope_profiler/cuda_sim.hpp>
#include <vector>

#include "capture.hpp"
#include "durations.hpp"
#include "faults.hpp"

namespace sim = scope_profiler::cuda_sim::detail;

namespace {

struct CallConfiguration {
    dim3 grid;
    dim3 block;
    size_t shared_mem;
    cudaStream_t stream;
};
// <<<...>>> pushes, the kernel's host stub pops: a stack, as launches can nest in arguments.
thread_local std::vector<CallConfiguration> tls_configs;

bool valid_dims(const dim3& grid, const dim3& block) {
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0) {
        return false;
    }
    if (grid.y > 65535 || grid.z > 65535 || block.x > 1024 || block.y > 1024 || block.z > 64) {
        return false;
    }
    return static_cast<unsigned long long>(block.x) * block.y * block.z <= 1024;
}

// `per_thread`: the _ptsz entry points, where stream 0 is the per-thread default stream.
// `ns` < 0: the thread's next queued duration, else the default.
cudaError_t launch(const void* func, dim3 grid, dim3 block, cudaStream_t stream, bool per_thread,
                   sim::Ns ns = -1) {
    SIM_ENTER("cudaLaunchKernel");
    if (func == nullptr) return sim::fail(cudaErrorInvalidDeviceFunction);
    if (!valid_dims(grid, block)) return sim::fail(cudaErrorInvalidConfiguration);
    if (per_thread && stream == nullptr) stream = cudaStreamPerThread;
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    CUstream_st* s = nullptr;
    if (const cudaError_t e = sim::stream_for_work(st, stream, &s); e != cudaSuccess) return e;
    sim::Node node;
    node.kind = sim::Node::Kind::kernel;
    node.duration = ns >= 0 ? ns : sim::take_kernel_ns(sim::default_kernel_ns());
    sim::submit(st, s, node);
    return cudaSuccess;
}

// What scope_profiler::cuda_sim::launch_kernel launches: an address no kernel has.
const char kControlKernel = 0;

// One handle for every fat binary: nvcc only hands it back to the calls below.
void* g_fatbin_handle = nullptr;

}  // namespace

SIM_API cudaError_t cudaLaunchKernel(const void* func, dim3 gridDim, dim3 blockDim, void** /*args*/,
                                     size_t /*sharedMem*/, cudaStream_t stream) {
    return launch(func, gridDim, blockDim, stream, false);
}

SIM_API cudaError_t cudaLaunchKernel_ptsz(const void* func, dim3 gridDim, dim3 blockDim,
                                          void** /*args*/, size_t /*sharedMem*/,
                                          cudaStream_t stream) {
    return launch(func, gridDim, blockDim, stream, true);
}

// The extensible launch (cudaLaunchKernelEx), which Thrust and CUB use in some builds: the
// configuration's grid, block and stream; its attributes do not change the simulation.
SIM_API cudaError_t cudaLaunchKernelExC(const cudaLaunchConfig_t* config, const void* func,
                                        void** /*args*/) {
    if (config == nullptr) {
        SIM_ENTER("cudaLaunchKernel");
        return sim::fail(cudaErrorInvalidValue);
    }
    return launch(func, config->gridDim, config->blockDim, config->stream, false);
}

SIM_API cudaError_t cudaLaunchKernelExC_ptsz(const cudaLaunchConfig_t* config, const void* func,
                                             void** /*args*/) {
    if (config == nullptr) {
        SIM_ENTER("cudaLaunchKernel");
        return sim::fail(cudaErrorInvalidValue);
    }
    return launch(func, config->gridDim, config->blockDim, config->stream, true);
}

SIM_API cudaError_t __cudaLaunchKernel(cudaKernel_t kernel, dim3 gridDim, dim3 blockDim,
                                       void** /*args*/, size_t /*sharedMem*/, cudaStream_t stream) {
    return launch(kernel, gridDim, blockDim, stream, false);
}

SIM_API cudaError_t __cudaLaunchKernel_ptsz(cudaKernel_t kernel, dim3 gridDim, dim3 blockDim,
                                            void** /*args*/, size_t /*sharedMem*/,
                                            cudaStream_t stream) {
    return launch(kernel, gridDim, blockDim, stream, true);
}

// The kernel handle is the host stub's address itself.
SIM_API cudaError_t __cudaGetKernel(cudaKernel_t* kernel, const void* func) {
    if (kernel == nullptr || func == nullptr) return cudaErrorInvalidValue;
    *kernel = static_cast<cudaKernel_t>(const_cast<void*>(func));
    return cudaSuccess;
}

SIM_API unsigned __cudaPushCallConfiguration(dim3 gridDim, dim3 blockDim, size_t sharedMem,
                                             struct CUstream_st* stream) {
    tls_configs.push_back({gridDim, blockDim, sharedMem, stream});
    return 0;  // 0: go on to call the stub
}

SIM_API cudaError_t __cudaPopCallConfiguration(dim3* gridDim, dim3* blockDim, size_t* sharedMem,
                                               void* stream) {
    if (tls_configs.empty()) return cudaErrorMissingConfiguration;
    const CallConfiguration c = tls_configs.back();
    tls_configs.pop_back();
    if (gridDim != nullptr) *gridDim = c.grid;
    if (blockDim != nullptr) *blockDim = c.block;
    if (sharedMem != nullptr) *sharedMem = c.shared_mem;
    if (stream != nullptr) *static_cast<cudaStream_t*>(stream) = c.stream;
    return cudaSuccess;
}

SIM_API void** __cudaRegisterFatBinary(void* /*fatCubin*/) { return &g_fatbin_handle; }
SIM_API void __cudaRegisterFatBinaryEnd(void** /*fatCubinHandle*/) {}
SIM_API void __cudaUnregisterFatBinary(void** /*fatCubinHandle*/) {}
SIM_API char __cudaInitModule(void** /*fatCubinHandle*/) { return 1; }

SIM_API void __cudaRegisterFunction(void** /*fatCubinHandle*/, const char* /*hostFun*/,
                                    char* /*deviceFun*/, const char* /*deviceName*/,
                                    int /*thread_limit*/, uint3* /*tid*/, uint3* /*bid*/,
                                    dim3* /*bDim*/, dim3* /*gDim*/, int* /*wSize*/) {}

SIM_API void __cudaRegisterVar(void** /*fatCubinHandle*/, char* /*hostVar*/,
                               char* /*deviceAddress*/, const char* /*deviceName*/, int /*ext*/,
                               size_t /*size*/, int /*constant*/, int /*global*/) {}

namespace scope_profiler::cuda_sim {

SIM_EXPORT int launch_kernel(CUstream_st* stream, std::int64_t ns) {
    return launch(&kControlKernel, dim3(1), dim3(1), stream, false, ns < 0 ? 0 : ns);
}

}  // namespace scope_profiler::cuda_sim
