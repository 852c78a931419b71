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

// The device's properties, made once: cudaGetDeviceProperties copies them and
// cudaDeviceGetAttribute reads them, so the two always agree.
const cudaDeviceProp& properties() {
    static const cudaDeviceProp made = [] {
        cudaDeviceProp p{};
        std::strncpy(p.name, "scope-profiler simulated GPU", sizeof p.name - 1);
        p.totalGlobalMem = kGlobalMem;
        p.sharedMemPerBlock = kSharedPerBlock;
        p.regsPerBlock = kRegs;
        p.warpSize = 32;
        p.memPitch = 2147483647;
        p.maxThreadsPerBlock = kMaxThreadsPerBlock;
        std::copy(std::begin(kMaxBlockDim), std::end(kMaxBlockDim), p.maxThreadsDim);
        std::copy(std::begin(kMaxGridDim), std::end(kMaxGridDim), p.maxGridSize);
        p.totalConstMem = kConstMem;
        p.major = 9;
        p.minor = 0;
        p.textureAlignment = 512;
        p.texturePitchAlignment = 32;
        p.multiProcessorCount = kSmCount;
        p.canMapHostMemory = 1;
        p.surfaceAlignment = 512;
        p.concurrentKernels = 1;
        p.pciBusID = 1;
        p.asyncEngineCount = 3;
        p.unifiedAddressing = 1;
        p.memoryBusWidth = kBusWidth;
        p.l2CacheSize = kL2Size;
        p.persistingL2CacheMaxSize = kPersistingL2;
        p.maxThreadsPerMultiProcessor = kMaxThreadsPerSm;
        p.streamPrioritiesSupported = 1;
        p.globalL1CacheSupported = 1;
        p.localL1CacheSupported = 1;
        p.sharedMemPerMultiprocessor = kSharedPerSm;
        p.regsPerMultiprocessor = kRegs;
        p.managedMemory = 1;
        p.concurrentManagedAccess = 1;
        p.computePreemptionSupported = 1;
        p.cooperativeLaunch = 1;
        p.sharedMemPerBlockOptin = kSharedPerBlockOptin;
        p.maxBlocksPerMultiProcessor = kMaxBlocksPerSm;
        p.accessPolicyMaxWindowSize = kAccessPolicyWindow;
        p.reservedSharedMemPerBlock = kReservedSharedPerBlock;
        p.hostRegisterSupported = 1;
        p.memoryPoolsSupported = 1;
        p.clusterLaunch = 1;
        p.deviceNumaId = -1;
        p.hostNumaId = -1;
        return p;
    }();
    return made;
}

// The value of every attribute the simulated device has (from its properties where they hold it);
// 0 for the rest.
int attribute_value(cudaDeviceAttr attr) {
    const cudaDeviceProp& p = properties();
    switch (attr) {
        case cudaDevAttrMaxThreadsPerBlock:
            return p.maxThreadsPerBlock;
        case cudaDevAttrMaxBlockDimX:
            return p.maxThreadsDim[0];
        case cudaDevAttrMaxBlockDimY:
            return p.maxThreadsDim[1];
        case cudaDevAttrMaxBlockDimZ:
            return p.maxThreadsDim[2];
        case cudaDevAttrMaxGridDimX:
            return p.maxGridSize[0];
        case cudaDevAttrMaxGridDimY:
            return p.maxGridSize[1];
        case cudaDevAttrMaxGridDimZ:
            return p.maxGridSize[2];
        case cudaDevAttrMaxSharedMemoryPerBlock:
            return static_cast<int>(p.sharedMemPerBlock);
        case cudaDevAttrTotalConstantMemory:
            return static_cast<int>(p.totalConstMem);
        case cudaDevAttrWarpSize:
            return p.warpSize;
        case cudaDevAttrMaxPitch:
            return static_cast<int>(p.memPitch);
        case cudaDevAttrMaxRegistersPerBlock:
            return p.regsPerBlock;
        case cudaDevAttrClockRate:
            return kClockKhz;
        case cudaDevAttrTextureAlignment:
            return static_cast<int>(p.textureAlignment);
        case cudaDevAttrGpuOverlap:
            return 1;
        case cudaDevAttrMultiProcessorCount:
            return p.multiProcessorCount;
        case cudaDevAttrCanMapHostMemory:
            return p.canMapHostMemory;
        case cudaDevAttrSurfaceAlignment:
            return static_cast<int>(p.surfaceAlignment);
        case cudaDevAttrConcurrentKernels:
            return p.concurrentKernels;
        case cudaDevAttrPciBusId:
            return p.pciBusID;
        case cudaDevAttrMemoryClockRate:
            return kMemClockKhz;
        case cudaDevAttrGlobalMemoryBusWidth:
            return p.memoryBusWidth;
        case cudaDevAttrL2CacheSize:
            return p.l2CacheSize;
        case cudaDevAttrMaxThreadsPerMultiProcessor:
            return p.maxThreadsPerMultiProcessor;
        case cudaDevAttrAsyncEngineCount:
            return p.asyncEngineCount;
        case cudaDevAttrUnifiedAddressing:
            return p.unifiedAddressing;
        case cudaDevAttrTexturePitchAlignment:
            return static_cast<int>(p.texturePitchAlignment);
        case cudaDevAttrComputeCapabilityMajor:
            return p.major;
        case cudaDevAttrComputeCapabilityMinor:
            return p.minor;
        case cudaDevAttrStreamPrioritiesSupported:
            return p.streamPrioritiesSupported;
        case cudaDevAttrGlobalL1CacheSupported:
            return p.globalL1CacheSupported;
        case cudaDevAttrLocalL1CacheSupported:
            return p.localL1CacheSupported;
        case cudaDevAttrMaxSharedMemoryPerMultiprocessor:
            return static_cast<int>(p.sharedMemPerMultiprocessor);
        case cudaDevAttrMaxRegistersPerMultiprocessor:
            return p.regsPerMultiprocessor;
        case cudaDevAttrManagedMemory:
            return p.managedMemory;
        case cudaDevAttrHostNativeAtomicSupported:
            return 0;
        case cudaDevAttrSingleToDoublePrecisionPerfRatio:
            return 2;
        case cudaDevAttrConcurrentManagedAccess:
            return p.concurrentManagedAccess;
        case cudaDevAttrComputePreemptionSupported:
            return p.computePreemptionSupported;
        case cudaDevAttrCooperativeLaunch:
            return p.cooperativeLaunch;
        case cudaDevAttrMaxSharedMemoryPerBlockOptin:
            return static_cast<int>(p.sharedMemPerBlockOptin);
        case cudaDevAttrHostRegisterSupported:
            return p.hostRegisterSupported;
        case cudaDevAttrMaxBlocksPerMultiprocessor:
            return p.maxBlocksPerMultiProcessor;
        case cudaDevAttrMaxPersistingL2CacheSize:
            return p.persistingL2CacheMaxSize;
        case cudaDevAttrMaxAccessPolicyWindowSize:
            return p.accessPolicyMaxWindowSize;
        case cudaDevAttrReservedSharedMemoryPerBlock:
            return static_cast<int>(p.reservedSharedMemPerBlock);
        case cudaDevAttrMemoryPoolsSupported:
            return p.memoryPoolsSupported;
        case cudaDevAttrClusterLaunch:
            return p.clusterLaunch;
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
    *prop = properties();
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
