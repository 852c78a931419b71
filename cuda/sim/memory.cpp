// Memory: device and pinned memory are host memory; copies and sets happen when they are
// enqueued (or, captured, when the graph is launched) and occupy their stream for 0 ns.
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "capture.hpp"
#include "faults.hpp"

namespace sim = scope_profiler::cuda_sim::detail;

namespace {

constexpr std::size_t kAlignment = 256;  // cudaMalloc's guarantee
constexpr std::size_t kDeviceMemory = std::size_t{80} << 30;

struct Allocations {
    std::unordered_map<void*, std::size_t> device;
    std::unordered_map<void*, std::size_t> host;
};
Allocations& allocations() {  // guarded by state().mu; leaked with it
    static Allocations* const a = new Allocations;
    return *a;
}

cudaError_t allocate(void** ptr, std::size_t size, bool device) {
    if (ptr == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    if (const cudaError_t e = sim::check_unsafe_call(st); e != cudaSuccess) return sim::fail(e);
    if (size == 0) {
        *ptr = nullptr;
        return cudaSuccess;
    }
    if (size > kDeviceMemory) return sim::fail(cudaErrorMemoryAllocation);
    void* p = std::aligned_alloc(kAlignment, (size + kAlignment - 1) / kAlignment * kAlignment);
    if (p == nullptr) return sim::fail(cudaErrorMemoryAllocation);
    (device ? allocations().device : allocations().host).emplace(p, size);
    *ptr = p;
    return cudaSuccess;
}

cudaError_t release(void* ptr, bool device) {
    if (ptr == nullptr) return cudaSuccess;
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    auto& map = device ? allocations().device : allocations().host;
    if (map.erase(ptr) == 0) return sim::fail(cudaErrorInvalidValue);
    std::free(ptr);
    return cudaSuccess;
}

bool valid_kind(cudaMemcpyKind kind) {
    return kind >= cudaMemcpyHostToHost && kind <= cudaMemcpyDefault;
}

// A synchronous copy or set: after the legacy stream (and with it every blocking stream).
cudaError_t wait_for_legacy() {
    auto& st = sim::state();
    std::vector<sim::OpPtr> deps;
    {
        std::lock_guard lk(st.mu);
        if (const cudaError_t e = sim::check_unsafe_call(st); e != cudaSuccess) return sim::fail(e);
        if (const cudaError_t e = sim::check_legacy_use(st, true); e != cudaSuccess) {
            return sim::fail(e);
        }
        deps = sim::implicit_deps(st, &st.legacy);
    }
    sim::wait_ops(std::move(deps));
    return cudaSuccess;
}

// An asynchronous copy (src != nullptr) or set on `stream`.
cudaError_t enqueue_transfer(void* dst, const void* src, int value, std::size_t count,
                             cudaStream_t stream) {
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    CUstream_st* s = nullptr;
    if (const cudaError_t e = sim::stream_for_work(st, stream, &s); e != cudaSuccess) return e;
    sim::Node node;
    node.kind = src != nullptr ? sim::Node::Kind::memcpy : sim::Node::Kind::memset;
    node.dst = dst;
    node.src = src;
    node.value = value;
    node.count = count;
    sim::submit(st, s, node);
    return cudaSuccess;
}

}  // namespace

SIM_API cudaError_t cudaMalloc(void** devPtr, size_t size) {
    SIM_ENTER("cudaMalloc");
    return allocate(devPtr, size, true);
}

SIM_API cudaError_t cudaFree(void* devPtr) {
    SIM_ENTER("cudaFree");
    return release(devPtr, true);
}

SIM_API cudaError_t cudaMallocHost(void** ptr, size_t size) {
    SIM_ENTER("cudaMallocHost");
    return allocate(ptr, size, false);
}

SIM_API cudaError_t cudaFreeHost(void* ptr) {
    SIM_ENTER("cudaFreeHost");
    return release(ptr, false);
}

SIM_API cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind) {
    SIM_ENTER("cudaMemcpy");
    if (!valid_kind(kind)) return sim::fail(cudaErrorInvalidMemcpyDirection);
    if (count != 0 && (dst == nullptr || src == nullptr)) return sim::fail(cudaErrorInvalidValue);
    if (const cudaError_t e = wait_for_legacy(); e != cudaSuccess) return e;
    if (count != 0) std::memmove(dst, src, count);
    return cudaSuccess;
}

SIM_API cudaError_t cudaMemset(void* devPtr, int value, size_t count) {
    SIM_ENTER("cudaMemset");
    if (count != 0 && devPtr == nullptr) return sim::fail(cudaErrorInvalidValue);
    if (const cudaError_t e = wait_for_legacy(); e != cudaSuccess) return e;
    if (count != 0) std::memset(devPtr, value, count);
    return cudaSuccess;
}

SIM_API cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count,
                                    enum cudaMemcpyKind kind, cudaStream_t stream) {
    SIM_ENTER("cudaMemcpyAsync");
    if (!valid_kind(kind)) return sim::fail(cudaErrorInvalidMemcpyDirection);
    if (count != 0 && (dst == nullptr || src == nullptr)) return sim::fail(cudaErrorInvalidValue);
    static const char kNothing = 0;  // a non-null source marks a copy even when count is 0
    return enqueue_transfer(dst, src != nullptr ? src : &kNothing, 0, count, stream);
}

SIM_API cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t stream) {
    SIM_ENTER("cudaMemsetAsync");
    if (count != 0 && devPtr == nullptr) return sim::fail(cudaErrorInvalidValue);
    return enqueue_transfer(devPtr, nullptr, value, count, stream);
}
