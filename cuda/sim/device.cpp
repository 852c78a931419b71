// The one simulated device (ordinal 0, shaped like an H100 SXM): count, selection, properties,
// attributes, versions, function attributes and occupancy.
#include <algorithm>
#include <cstring>

#include "faults.hpp"

namespace sim = scope_profiler::cuda_sim::detail;

namespace {

constexpr int kSmCount = 132;
constexpr std::size_t kGlobalMem = std::size_t{80} << 30;
constexpr int kSharedPerBlock = 48 * 1024;
constexpr int kSharedPerBlockOptin = 227 * 1024;
constexpr int kSharedPerSm = 228 * 1024;
constexpr int kRegs = 65536;
constexpr int kMaxThreadsPerBlock = 1024;
constexpr int kMaxThreadsPerSm = 2048;
constexpr int kMaxBlocksPerSm = 32;
constexpr int kMaxBlockDim[3] = {1024, 1024, 64};
constexpr int kMaxGridDim[3] = {2147483647, 65535, 65535};
constexpr int kL2Size = 50 * 1024 * 1024;
constexpr int kPersistingL2 = 30 * 1024 * 1024;
constexpr int kClockKhz = 1980000;
constexpr int kMemClockKhz = 2619000;
constexpr int kBusWidth = 5120;
constexpr int kConstMem = 64 * 1024;
constexpr int kReservedSharedPerBlock = 1024;
constexpr int kAccessPolicyWindow = 134213632;

thread_local int tls_device = 0;

// The value of every attribute the simulated device has; 0 for the rest.
int attribute_value(cudaDeviceAttr attr) {
    switch (attr) {
        case cudaDevAttrMaxThreadsPerBlock:
            return kMaxThreadsPerBlock;
        case cudaDevAttrMaxBlockDimX:
            return kMaxBlockDim[0];
        case cudaDevAttrMaxBlockDimY:
            return kMaxBlockDim[1];
        case cudaDevAttrMaxBlockDimZ:
            return kMaxBlockDim[2];
        case cudaDevAttrMaxGridDimX:
            return kMaxGridDim[0];
        case cudaDevAttrMaxGridDimY:
            return kMaxGridDim[1];
        case cudaDevAttrMaxGridDimZ:
            return kMaxGridDim[2];
        case cudaDevAttrMaxSharedMemoryPerBlock:
            return kSharedPerBlock;
        case cudaDevAttrTotalConstantMemory:
            return kConstMem;
        case cudaDevAttrWarpSize:
            return 32;
        case cudaDevAttrMaxPitch:
            return 2147483647;
        case cudaDevAttrMaxRegistersPerBlock:
            return kRegs;
        case cudaDevAttrClockRate:
            return kClockKhz;
        case cudaDevAttrTextureAlignment:
            return 512;
        case cudaDevAttrGpuOverlap:
            return 1;
        case cudaDevAttrMultiProcessorCount:
            return kSmCount;
        case cudaDevAttrCanMapHostMemory:
            return 1;
        case cudaDevAttrSurfaceAlignment:
            return 512;
        case cudaDevAttrConcurrentKernels:
            return 1;
        case cudaDevAttrPciBusId:
            return 1;
        case cudaDevAttrMemoryClockRate:
            return kMemClockKhz;
        case cudaDevAttrGlobalMemoryBusWidth:
            return kBusWidth;
        case cudaDevAttrL2CacheSize:
            return kL2Size;
        case cudaDevAttrMaxThreadsPerMultiProcessor:
            return kMaxThreadsPerSm;
        case cudaDevAttrAsyncEngineCount:
            return 3;
        case cudaDevAttrUnifiedAddressing:
            return 1;
        case cudaDevAttrTexturePitchAlignment:
            return 32;
        case cudaDevAttrComputeCapabilityMajor:
            return 9;
        case cudaDevAttrComputeCapabilityMinor:
            return 0;
        case cudaDevAttrStreamPrioritiesSupported:
            return 1;
        case cudaDevAttrGlobalL1CacheSupported:
            return 1;
        case cudaDevAttrLocalL1CacheSupported:
            return 1;
        case cudaDevAttrMaxSharedMemoryPerMultiprocessor:
            return kSharedPerSm;
        case cudaDevAttrMaxRegistersPerMultiprocessor:
            return kRegs;
        case cudaDevAttrManagedMemory:
            return 1;
        case cudaDevAttrHostNativeAtomicSupported:
            return 0;
        case cudaDevAttrSingleToDoublePrecisionPerfRatio:
            return 2;
        case cudaDevAttrConcurrentManagedAccess:
            return 1;
        case cudaDevAttrComputePreemptionSupported:
            return 1;
        case cudaDevAttrCooperativeLaunch:
            return 1;
        case cudaDevAttrMaxSharedMemoryPerBlockOptin:
            return kSharedPerBlockOptin;
        case cudaDevAttrHostRegisterSupported:
            return 1;
        case cudaDevAttrMaxBlocksPerMultiprocessor:
            return kMaxBlocksPerSm;
        case cudaDevAttrMaxPersistingL2CacheSize:
            return kPersistingL2;
        case cudaDevAttrMaxAccessPolicyWindowSize:
            return kAccessPolicyWindow;
        case cudaDevAttrReservedSharedMemoryPerBlock:
            return kReservedSharedPerBlock;
        case cudaDevAttrMemoryPoolsSupported:
            return 1;
        case cudaDevAttrClusterLaunch:
            return 1;
        case cudaDevAttrMemSyncDomainCount:
            return 4;
        default:
            return 0;
    }
}

}  // namespace

SIM_API cudaError_t cudaGetDeviceCount(int* count) {
    if (const cudaError_t e = sim::enter("cudaGetDeviceCount"); e != cudaSuccess) {
        if (count != nullptr && sim::no_device_error() != cudaSuccess) *count = 0;
        return e;
    }
    if (count == nullptr) return sim::fail(cudaErrorInvalidValue);
    *count = 1;
    return cudaSuccess;
}

SIM_API cudaError_t cudaGetDevice(int* device) {
    SIM_ENTER("cudaGetDevice");
    if (device == nullptr) return sim::fail(cudaErrorInvalidValue);
    *device = tls_device;
    return cudaSuccess;
}

SIM_API cudaError_t cudaSetDevice(int device) {
    SIM_ENTER("cudaSetDevice");
    if (device != 0) return sim::fail(cudaErrorInvalidDevice);
    tls_device = device;
    return cudaSuccess;
}

SIM_API cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp* prop, int device) {
    SIM_ENTER("cudaGetDeviceProperties");
    if (prop == nullptr) return sim::fail(cudaErrorInvalidValue);
    if (device != 0) return sim::fail(cudaErrorInvalidDevice);
    std::memset(prop, 0, sizeof *prop);
    std::strncpy(prop->name, "scope-profiler simulated GPU", sizeof prop->name - 1);
    prop->totalGlobalMem = kGlobalMem;
    prop->sharedMemPerBlock = kSharedPerBlock;
    prop->regsPerBlock = kRegs;
    prop->warpSize = 32;
    prop->memPitch = 2147483647;
    prop->maxThreadsPerBlock = kMaxThreadsPerBlock;
    std::copy(std::begin(kMaxBlockDim), std::end(kMaxBlockDim), prop->maxThreadsDim);
    std::copy(std::begin(kMaxGridDim), std::end(kMaxGridDim), prop->maxGridSize);
    prop->totalConstMem = kConstMem;
    prop->major = 9;
    prop->minor = 0;
    prop->textureAlignment = 512;
    prop->texturePitchAlignment = 32;
    prop->multiProcessorCount = kSmCount;
    prop->canMapHostMemory = 1;
    prop->surfaceAlignment = 512;
    prop->concurrentKernels = 1;
    prop->pciBusID = 1;
    prop->asyncEngineCount = 3;
    prop->unifiedAddressing = 1;
    prop->memoryBusWidth = kBusWidth;
    prop->l2CacheSize = kL2Size;
    prop->persistingL2CacheMaxSize = kPersistingL2;
    prop->maxThreadsPerMultiProcessor = kMaxThreadsPerSm;
    prop->streamPrioritiesSupported = 1;
    prop->globalL1CacheSupported = 1;
    prop->localL1CacheSupported = 1;
    prop->sharedMemPerMultiprocessor = kSharedPerSm;
    prop->regsPerMultiprocessor = kRegs;
    prop->managedMemory = 1;
    prop->concurrentManagedAccess = 1;
    prop->computePreemptionSupported = 1;
    prop->cooperativeLaunch = 1;
    prop->sharedMemPerBlockOptin = kSharedPerBlockOptin;
    prop->maxBlocksPerMultiProcessor = kMaxBlocksPerSm;
    prop->accessPolicyMaxWindowSize = kAccessPolicyWindow;
    prop->reservedSharedMemPerBlock = kReservedSharedPerBlock;
    prop->hostRegisterSupported = 1;
    prop->memoryPoolsSupported = 1;
    prop->clusterLaunch = 1;
    prop->deviceNumaId = -1;
    prop->hostNumaId = -1;
    return cudaSuccess;
}

SIM_API cudaError_t cudaDeviceGetAttribute(int* value, enum cudaDeviceAttr attr, int device) {
    SIM_ENTER("cudaDeviceGetAttribute");
    if (value == nullptr) return sim::fail(cudaErrorInvalidValue);
    if (device != 0) return sim::fail(cudaErrorInvalidDevice);
    *value = attribute_value(attr);
    return cudaSuccess;
}

SIM_API cudaError_t cudaRuntimeGetVersion(int* runtimeVersion) {
    SIM_ENTER("cudaRuntimeGetVersion");
    if (runtimeVersion == nullptr) return sim::fail(cudaErrorInvalidValue);
    *runtimeVersion = CUDART_VERSION;
    return cudaSuccess;
}

SIM_API cudaError_t cudaDriverGetVersion(int* driverVersion) {
    SIM_ENTER("cudaDriverGetVersion");
    if (driverVersion == nullptr) return sim::fail(cudaErrorInvalidValue);
    *driverVersion = CUDART_VERSION;
    return cudaSuccess;
}

SIM_API cudaError_t cudaFuncGetAttributes(struct cudaFuncAttributes* attr, const void* func) {
    SIM_ENTER("cudaFuncGetAttributes");
    if (attr == nullptr) return sim::fail(cudaErrorInvalidValue);
    if (func == nullptr) return sim::fail(cudaErrorInvalidDeviceFunction);
    std::memset(attr, 0, sizeof *attr);
    attr->maxThreadsPerBlock = kMaxThreadsPerBlock;
    attr->numRegs = 32;
    attr->ptxVersion = 90;
    attr->binaryVersion = 90;
    attr->maxDynamicSharedSizeBytes = kSharedPerBlock;
    attr->preferredShmemCarveout = -1;
    return cudaSuccess;
}

SIM_API cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(
    int* numBlocks, const void* func, int blockSize, size_t /*dynamicSMemSize*/,
    unsigned int /*flags*/) {
    SIM_ENTER("cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags");
    if (numBlocks == nullptr || blockSize <= 0) return sim::fail(cudaErrorInvalidValue);
    if (func == nullptr) return sim::fail(cudaErrorInvalidDeviceFunction);
    // A block larger than the device allows never fits, as cudart reports it.
    *numBlocks = blockSize > kMaxThreadsPerBlock
                     ? 0
                     : std::min(kMaxThreadsPerSm / blockSize, kMaxBlocksPerSm);
    return cudaSuccess;
}
