#pragma once
// Stream capture and graphs: what a captured operation becomes (a Node), the capture sequences,
// and CUDA's rules on which calls are illegal while a capture is active.
#include <cstddef>

#include "state.hpp"

namespace scope_profiler::cuda_sim::detail {

struct Node {
    enum class Kind { kernel, memcpy, memset, host, event_record };
    Kind kind = Kind::kernel;
    Ns duration = 0;  // kernel: the duration it was captured with
    cudaHostFn_t fn = nullptr;
    void* data = nullptr;
    void* dst = nullptr;
    const void* src = nullptr;
    std::size_t count = 0;
    int value = 0;
    CUevent_st* event = nullptr;
};

}  // namespace scope_profiler::cuda_sim::detail

struct CUgraphNode_st {
    scope_profiler::cuda_sim::detail::Node node;
};

struct CUgraph_st {
    std::vector<std::unique_ptr<CUgraphNode_st>> nodes;  // in capture order
};

struct CUgraphExec_st {
    std::vector<scope_profiler::cuda_sim::detail::Node> nodes;
};

namespace scope_profiler::cuda_sim::detail {

struct Capture {
    unsigned long long id = 0;
    cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
    std::thread::id thread;
    bool invalidated = false;
    CUgraph_st* graph = nullptr;
    CUstream_st* origin = nullptr;
    std::vector<CUstream_st*> streams;  // the origin and every stream that joined
};

struct Captures {
    std::vector<std::shared_ptr<Capture>> active;
    std::unordered_set<const CUgraph_st*> graphs;
    std::unordered_set<const CUgraphExec_st*> execs;
    unsigned long long next_id = 1;
};
Captures& captures();  // guarded by state().mu; leaked like the state

// Under the lock. A "potentially unsafe" call (cudaMalloc, synchronizations, ...) from this
// thread: cudaErrorStreamCaptureUnsupported and the captures it violates are invalidated, or
// cudaSuccess.
cudaError_t check_unsafe_call(State& st);
// Under the lock. The legacy stream is used while a blocking stream captures:
// cudaErrorStreamCaptureImplicit (those captures invalidated when `invalidate`), or cudaSuccess.
cudaError_t check_legacy_use(State& st, bool invalidate);
// Under the lock: the stream for new work on `handle` and the capture rules; on success `*out`.
// The caller then records a node when (*out)->capture is set, or enqueues an operation.
cudaError_t stream_for_work(State& st, cudaStream_t handle, CUstream_st** out);
// Under the lock: appends a node to the capture of `s`.
void add_node(CUstream_st* s, const Node& node);
// Under the lock: enqueues the work `node` describes on `s` (not capturing); a kernel takes
// `node.duration`, memcpy/memset happen now (memory is host memory).
void run_node(State& st, CUstream_st* s, const Node& node);
// Under the lock, with `s` from stream_for_work: the work goes into the capture of `s` as a node
// while it captures, else runs (run_node). Every kind of stream work goes through here.
void submit(State& st, CUstream_st* s, const Node& node);

cudaStreamCaptureMode thread_capture_mode();

}  // namespace scope_profiler::cuda_sim::detail
