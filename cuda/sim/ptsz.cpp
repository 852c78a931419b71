// The per-thread-default-stream variants (nvcc --default-stream per-thread, or
// CUDA_API_PER_THREAD_DEFAULT_STREAM): stream 0 means cudaStreamPerThread. Each forwards to the
// plain entry point, which counts the call under the plain name.
#include "api.hpp"

namespace {
cudaStream_t per_thread(cudaStream_t s) { return s == nullptr ? cudaStreamPerThread : s; }
}  // namespace

SIM_API cudaError_t cudaEventRecord_ptsz(cudaEvent_t event, cudaStream_t stream) {
    return cudaEventRecord(event, per_thread(stream));
}
SIM_API cudaError_t cudaEventRecordWithFlags_ptsz(cudaEvent_t event, cudaStream_t stream,
                                                  unsigned int flags) {
    return cudaEventRecordWithFlags(event, per_thread(stream), flags);
}
SIM_API cudaError_t cudaStreamWaitEvent_ptsz(cudaStream_t stream, cudaEvent_t event,
                                             unsigned int flags) {
    return cudaStreamWaitEvent(per_thread(stream), event, flags);
}
SIM_API cudaError_t cudaStreamQuery_ptsz(cudaStream_t stream) {
    return cudaStreamQuery(per_thread(stream));
}
SIM_API cudaError_t cudaStreamSynchronize_ptsz(cudaStream_t stream) {
    return cudaStreamSynchronize(per_thread(stream));
}
SIM_API cudaError_t cudaStreamGetFlags_ptsz(cudaStream_t stream, unsigned int* flags) {
    return cudaStreamGetFlags(per_thread(stream), flags);
}
SIM_API cudaError_t cudaStreamGetId_ptsz(cudaStream_t stream, unsigned long long* id) {
    return cudaStreamGetId(per_thread(stream), id);
}
SIM_API cudaError_t cudaStreamGetPriority_ptsz(cudaStream_t stream, int* priority) {
    return cudaStreamGetPriority(per_thread(stream), priority);
}
SIM_API cudaError_t cudaStreamBeginCapture_ptsz(cudaStream_t stream, cudaStreamCaptureMode mode) {
    return cudaStreamBeginCapture(per_thread(stream), mode);
}
SIM_API cudaError_t cudaStreamEndCapture_ptsz(cudaStream_t stream, cudaGraph_t* graph) {
    return cudaStreamEndCapture(per_thread(stream), graph);
}
SIM_API cudaError_t cudaStreamIsCapturing_ptsz(cudaStream_t stream,
                                               cudaStreamCaptureStatus* status) {
    return cudaStreamIsCapturing(per_thread(stream), status);
}
SIM_API cudaError_t cudaStreamGetCaptureInfo_ptsz(cudaStream_t stream,
                                                  cudaStreamCaptureStatus* status,
                                                  unsigned long long* id, cudaGraph_t* graph,
                                                  const cudaGraphNode_t** deps,
                                                  const cudaGraphEdgeData** edges,
                                                  size_t* num_deps) {
    return cudaStreamGetCaptureInfo(per_thread(stream), status, id, graph, deps, edges, num_deps);
}
SIM_API cudaError_t cudaMemcpyAsync_ptsz(void* dst, const void* src, size_t count,
                                         cudaMemcpyKind kind, cudaStream_t stream) {
    return cudaMemcpyAsync(dst, src, count, kind, per_thread(stream));
}
SIM_API cudaError_t cudaMemsetAsync_ptsz(void* ptr, int value, size_t count, cudaStream_t stream) {
    return cudaMemsetAsync(ptr, value, count, per_thread(stream));
}
SIM_API cudaError_t cudaLaunchHostFunc_ptsz(cudaStream_t stream, cudaHostFn_t fn, void* data) {
    return cudaLaunchHostFunc(per_thread(stream), fn, data);
}
SIM_API cudaError_t cudaGraphLaunch_ptsz(cudaGraphExec_t exec, cudaStream_t stream) {
    return cudaGraphLaunch(exec, per_thread(stream));
}
// The synchronous copies: the simulator orders them after the legacy stream in both modes.
SIM_API cudaError_t cudaMemcpy_ptds(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
    return cudaMemcpy(dst, src, count, kind);
}
SIM_API cudaError_t cudaMemset_ptds(void* ptr, int value, size_t count) {
    return cudaMemset(ptr, value, count);
}
