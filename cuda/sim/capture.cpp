// Stream capture: beginning and ending a capture sequence, its status, the per-thread capture
// mode, and the rules that make a call illegal (and the capture invalid) while one is active.
#include "capture.hpp"

#include <algorithm>
#include <cstring>

#include "faults.hpp"

namespace scope_profiler::cuda_sim::detail {
namespace {

thread_local cudaStreamCaptureMode tls_mode = cudaStreamCaptureModeGlobal;

bool valid_mode(int mode) {
    return mode == cudaStreamCaptureModeGlobal || mode == cudaStreamCaptureModeThreadLocal ||
           mode == cudaStreamCaptureModeRelaxed;
}

}  // namespace

Captures& captures() {
    static Captures* const c = new Captures;  // leaked with the state it belongs to
    return *c;
}

cudaStreamCaptureMode thread_capture_mode() { return tls_mode; }

cudaError_t check_unsafe_call(State& /*locked*/) {
    if (tls_mode == cudaStreamCaptureModeRelaxed) return cudaSuccess;
    bool violated = false;
    const auto me = std::this_thread::get_id();
    for (auto& c : captures().active) {
        if (c->mode == cudaStreamCaptureModeGlobal ||
            (c->mode == cudaStreamCaptureModeThreadLocal && c->thread == me)) {
            c->invalidated = true;
            violated = true;
        }
    }
    return violated ? cudaErrorStreamCaptureUnsupported : cudaSuccess;
}

cudaError_t check_legacy_use(State& /*locked*/, bool invalidate) {
    bool implicit = false;
    for (auto& c : captures().active) {
        const bool blocking = std::any_of(c->streams.begin(), c->streams.end(),
                                          [](const CUstream_st* s) { return s->blocking(); });
        if (blocking) {
            implicit = true;
            if (invalidate) c->invalidated = true;
        }
    }
    return implicit ? cudaErrorStreamCaptureImplicit : cudaSuccess;
}

cudaError_t stream_for_work(State& st, cudaStream_t handle, CUstream_st** out) {
    CUstream_st* s = resolve_stream(st, handle);
    if (s == nullptr) return fail(cudaErrorInvalidResourceHandle);
    if (s->legacy) {
        if (const cudaError_t e = check_legacy_use(st, true); e != cudaSuccess) return fail(e);
    }
    if (s->capture && s->capture->invalidated) return fail(cudaErrorStreamCaptureInvalidated);
    *out = s;
    return cudaSuccess;
}

void add_node(CUstream_st* s, const Node& node) {
    auto n = std::make_unique<CUgraphNode_st>();
    n->node = node;
    s->capture->graph->nodes.push_back(std::move(n));
}

void run_node(State& st, CUstream_st* s, const Node& node) {
    switch (node.kind) {
        case Node::Kind::kernel:
            enqueue(st, s, make_op(node.duration));
            break;
        case Node::Kind::memcpy:
            if (node.count != 0) std::memmove(node.dst, node.src, node.count);
            enqueue(st, s, make_op(0));
            break;
        case Node::Kind::memset:
            if (node.count != 0) std::memset(node.dst, node.value, node.count);
            enqueue(st, s, make_op(0));
            break;
        case Node::Kind::host: {
            auto op = make_op(0);
            op->fn = node.fn;
            op->data = node.data;
            enqueue(st, s, op);
            break;
        }
        case Node::Kind::event_record: {
            auto op = make_op(0);
            enqueue(st, s, op);
            if (st.events.contains(node.event)) {  // skipped when the event was destroyed since
                node.event->record = op;
                node.event->capture.reset();
            }
            break;
        }
    }
}

void submit(State& st, CUstream_st* s, const Node& node) {
    if (s->capture) {
        add_node(s, node);
    } else {
        run_node(st, s, node);
    }
}

}  // namespace scope_profiler::cuda_sim::detail

namespace sim = scope_profiler::cuda_sim::detail;

SIM_API cudaError_t cudaStreamBeginCapture(cudaStream_t stream, enum cudaStreamCaptureMode mode) {
    SIM_ENTER("cudaStreamBeginCapture");
    if (!sim::valid_mode(mode)) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    CUstream_st* s = sim::resolve_stream(st, stream);
    if (s == nullptr) return sim::fail(cudaErrorInvalidResourceHandle);
    if (s->legacy) return sim::fail(cudaErrorStreamCaptureUnsupported);
    if (s->capture) return sim::fail(cudaErrorIllegalState);
    auto& caps = sim::captures();
    auto c = std::make_shared<sim::Capture>();
    c->id = caps.next_id++;
    c->mode = mode;
    c->thread = std::this_thread::get_id();
    c->graph = new CUgraph_st;
    c->origin = s;
    c->streams.push_back(s);
    s->capture = c;
    caps.active.push_back(std::move(c));
    return cudaSuccess;
}

SIM_API cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* pGraph) {
    SIM_ENTER("cudaStreamEndCapture");
    if (pGraph == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    CUstream_st* s = sim::resolve_stream(st, stream);
    if (s == nullptr) return sim::fail(cudaErrorInvalidResourceHandle);
    if (!s->capture) return sim::fail(cudaErrorIllegalState);
    const std::shared_ptr<sim::Capture> c = s->capture;
    if (c->origin != s) return sim::fail(cudaErrorStreamCaptureUnmatched);
    if (c->mode != cudaStreamCaptureModeRelaxed && c->thread != std::this_thread::get_id()) {
        return sim::fail(cudaErrorStreamCaptureWrongThread);
    }
    for (auto* joined : c->streams) joined->capture.reset();
    auto& caps = sim::captures();
    std::erase(caps.active, c);
    if (c->invalidated) {
        delete c->graph;
        c->graph = nullptr;
        *pGraph = nullptr;
        return sim::fail(cudaErrorStreamCaptureInvalidated);
    }
    caps.graphs.insert(c->graph);
    *pGraph = c->graph;
    return cudaSuccess;
}

namespace {

// Shared by cudaStreamIsCapturing and cudaStreamGetCaptureInfo.
cudaError_t capture_status(cudaStream_t stream, cudaStreamCaptureStatus* status,
                           unsigned long long* id, cudaGraph_t* graph) {
    if (status == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    CUstream_st* s = sim::resolve_stream(st, stream);
    if (s == nullptr) return sim::fail(cudaErrorInvalidResourceHandle);
    if (s->legacy) {
        // Asking about the legacy stream while a blocking stream captures is itself an implicit
        // dependency: an error, but the capture survives.
        if (const cudaError_t e = sim::check_legacy_use(st, false); e != cudaSuccess) {
            return sim::fail(e);
        }
    }
    const auto& c = s->capture;
    if (!c) {
        *status = cudaStreamCaptureStatusNone;
    } else {
        *status =
            c->invalidated ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive;
    }
    if (id != nullptr) *id = c ? c->id : 0;
    if (graph != nullptr) *graph = c ? c->graph : nullptr;
    return cudaSuccess;
}

}  // namespace

SIM_API cudaError_t cudaStreamIsCapturing(cudaStream_t stream,
                                          enum cudaStreamCaptureStatus* pCaptureStatus) {
    SIM_ENTER("cudaStreamIsCapturing");
    return capture_status(stream, pCaptureStatus, nullptr, nullptr);
}

// Dependencies are not modelled (a captured graph is a sequence): none are reported.
SIM_API cudaError_t cudaStreamGetCaptureInfo(cudaStream_t stream,
                                             enum cudaStreamCaptureStatus* captureStatus_out,
                                             unsigned long long* id_out, cudaGraph_t* graph_out,
                                             const cudaGraphNode_t** dependencies_out,
                                             const cudaGraphEdgeData** edgeData_out,
                                             size_t* numDependencies_out) {
    SIM_ENTER("cudaStreamGetCaptureInfo");
    const cudaError_t e = capture_status(stream, captureStatus_out, id_out, graph_out);
    if (e != cudaSuccess) return e;
    if (dependencies_out != nullptr) *dependencies_out = nullptr;
    if (edgeData_out != nullptr) *edgeData_out = nullptr;
    if (numDependencies_out != nullptr) *numDependencies_out = 0;
    return cudaSuccess;
}

SIM_API cudaError_t cudaThreadExchangeStreamCaptureMode(enum cudaStreamCaptureMode* mode) {
    SIM_ENTER("cudaThreadExchangeStreamCaptureMode");
    if (mode == nullptr || !sim::valid_mode(*mode)) return sim::fail(cudaErrorInvalidValue);
    std::swap(*mode, sim::tls_mode);
    return cudaSuccess;
}
