// Streams: creation, attributes, destruction, queries, synchronization, cross-stream waits and
// host functions.
//
// Priorities are recorded and reported but do not change the timing. cudaStreamWaitEvent never
// blocks the host: the wait becomes a dependency, resolved when the event gets its time.
#include <algorithm>

#include "capture.hpp"
#include "faults.hpp"

namespace sim = scope_profiler::cuda_sim::detail;

namespace {

constexpr int kLeastPriority = 0;
constexpr int kGreatestPriority = -5;

cudaError_t create_stream(cudaStream_t* pStream, unsigned int flags, int priority) {
    if (pStream == nullptr) return sim::fail(cudaErrorInvalidValue);
    if ((flags & ~static_cast<unsigned>(cudaStreamNonBlocking)) != 0) {
        return sim::fail(cudaErrorInvalidValue);
    }
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    auto* s = new CUstream_st;  // never freed: a stale handle stays detectable (see state.hpp)
    s->flags = flags;
    s->priority = std::clamp(priority, kGreatestPriority, kLeastPriority);
    s->id = st.next_stream_id++;
    st.streams.insert(s);
    st.all.push_back(s);
    if (s->blocking()) st.blocking.push_back(s);
    *pStream = s;
    return cudaSuccess;
}

// Under the lock: the checks shared by cudaStreamQuery and cudaStreamSynchronize.
cudaError_t stream_to_wait(sim::State& st, cudaStream_t stream, sim::OpPtr* tail) {
    CUstream_st* s = sim::resolve_stream(st, stream);
    if (s == nullptr) return sim::fail(cudaErrorInvalidResourceHandle);
    if (const cudaError_t e = sim::check_unsafe_call(st); e != cudaSuccess) return sim::fail(e);
    if (s->capture) {  // waiting for a capturing stream is illegal in every mode
        s->capture->invalidated = true;
        return sim::fail(cudaErrorStreamCaptureUnsupported);
    }
    if (s->legacy) {
        if (const cudaError_t e = sim::check_legacy_use(st, true); e != cudaSuccess) {
            return sim::fail(e);
        }
    }
    *tail = s->tail;
    return cudaSuccess;
}

}  // namespace

SIM_API cudaError_t cudaStreamCreate(cudaStream_t* pStream) {
    SIM_ENTER("cudaStreamCreate");
    return create_stream(pStream, cudaStreamDefault, kLeastPriority);
}

SIM_API cudaError_t cudaStreamCreateWithFlags(cudaStream_t* pStream, unsigned int flags) {
    SIM_ENTER("cudaStreamCreateWithFlags");
    return create_stream(pStream, flags, kLeastPriority);
}

SIM_API cudaError_t cudaStreamCreateWithPriority(cudaStream_t* pStream, unsigned int flags,
                                                 int priority) {
    SIM_ENTER("cudaStreamCreateWithPriority");
    return create_stream(pStream, flags, priority);
}

SIM_API cudaError_t cudaDeviceGetStreamPriorityRange(int* leastPriority, int* greatestPriority) {
    SIM_ENTER("cudaDeviceGetStreamPriorityRange");
    if (leastPriority != nullptr) *leastPriority = kLeastPriority;
    if (greatestPriority != nullptr) *greatestPriority = kGreatestPriority;
    return cudaSuccess;
}

SIM_API cudaError_t cudaStreamGetPriority(cudaStream_t hStream, int* priority) {
    SIM_ENTER("cudaStreamGetPriority");
    if (priority == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    const CUstream_st* s = sim::resolve_stream(st, hStream);
    if (s == nullptr) return sim::fail(cudaErrorInvalidResourceHandle);
    *priority = s->priority;
    return cudaSuccess;
}

SIM_API cudaError_t cudaStreamGetFlags(cudaStream_t hStream, unsigned int* flags) {
    SIM_ENTER("cudaStreamGetFlags");
    if (flags == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    const CUstream_st* s = sim::resolve_stream(st, hStream);
    if (s == nullptr) return sim::fail(cudaErrorInvalidResourceHandle);
    *flags = s->flags;
    return cudaSuccess;
}

SIM_API cudaError_t cudaStreamGetId(cudaStream_t hStream, unsigned long long* streamId) {
    SIM_ENTER("cudaStreamGetId");
    if (streamId == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    const CUstream_st* s = sim::resolve_stream(st, hStream);
    if (s == nullptr) return sim::fail(cudaErrorInvalidResourceHandle);
    *streamId = s->id;
    return cudaSuccess;
}

SIM_API cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    SIM_ENTER("cudaStreamDestroy");
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    CUstream_st* s = sim::resolve_stream(st, stream);
    if (s == nullptr || s->legacy || s->per_thread) {
        return sim::fail(cudaErrorInvalidResourceHandle);
    }
    if (const auto c = s->capture) {
        c->invalidated = true;
        if (c->origin == s) {  // nobody can end this capture any more: drop it
            for (auto* joined : c->streams) joined->capture.reset();
            std::erase(sim::captures().active, c);
            delete c->graph;
            c->graph = nullptr;
        } else {
            std::erase(c->streams, s);
            s->capture.reset();
        }
    }
    // Work already enqueued still completes: its operations live on in the events that stamp it.
    s->destroyed = true;
    std::erase(st.blocking, s);
    return cudaSuccess;
}

SIM_API cudaError_t cudaStreamQuery(cudaStream_t stream) {
    SIM_ENTER("cudaStreamQuery");
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    sim::OpPtr tail;
    if (const cudaError_t e = stream_to_wait(st, stream, &tail); e != cudaSuccess) return e;
    return sim::op_complete(tail) ? cudaSuccess : cudaErrorNotReady;
}

SIM_API cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    SIM_ENTER("cudaStreamSynchronize");
    auto& st = sim::state();
    sim::OpPtr tail;
    {
        std::lock_guard lk(st.mu);
        if (const cudaError_t e = stream_to_wait(st, stream, &tail); e != cudaSuccess) return e;
    }
    sim::wait_ops({tail});
    return cudaSuccess;
}

SIM_API cudaError_t cudaDeviceSynchronize(void) {
    SIM_ENTER("cudaDeviceSynchronize");
    auto& st = sim::state();
    std::vector<sim::OpPtr> tails;
    {
        std::lock_guard lk(st.mu);
        if (const cudaError_t e = sim::check_unsafe_call(st); e != cudaSuccess) return sim::fail(e);
        tails = sim::all_tails(st);
    }
    sim::wait_ops(std::move(tails));
    return cudaSuccess;
}

// Waits for the device; resources (streams, events, memory) stay valid in the simulator.
SIM_API cudaError_t cudaDeviceReset(void) {
    SIM_ENTER("cudaDeviceReset");
    auto& st = sim::state();
    std::vector<sim::OpPtr> tails;
    {
        std::lock_guard lk(st.mu);
        tails = sim::all_tails(st);
    }
    sim::wait_ops(std::move(tails));
    return cudaSuccess;
}

SIM_API cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event,
                                        unsigned int flags) {
    SIM_ENTER("cudaStreamWaitEvent");
    if ((flags & ~static_cast<unsigned>(cudaEventWaitExternal)) != 0) {
        return sim::fail(cudaErrorInvalidValue);
    }
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    if (event == nullptr || !st.events.contains(event)) {
        return sim::fail(cudaErrorInvalidResourceHandle);
    }
    CUstream_st* s = nullptr;
    if (const cudaError_t e = sim::stream_for_work(st, stream, &s); e != cudaSuccess) return e;
    if (const auto& c = event->capture) {
        const bool active = std::find(sim::captures().active.begin(), sim::captures().active.end(),
                                      c) != sim::captures().active.end();
        if (!active || s->capture == c) return cudaSuccess;
        if (s->capture) return sim::fail(cudaErrorStreamCaptureMerge);
        if (s->legacy) return sim::fail(cudaErrorStreamCaptureImplicit);
        s->capture = c;  // the stream joins the capture (fork)
        c->streams.push_back(s);
        return cudaSuccess;
    }
    // A capturing stream waiting on work outside its capture: no node (dependencies are not
    // modelled in graphs).
    if (s->capture) return cudaSuccess;
    sim::enqueue(st, s, sim::make_op(0), event->record);
    return cudaSuccess;
}

SIM_API cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void* userData) {
    SIM_ENTER("cudaLaunchHostFunc");
    if (fn == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    CUstream_st* s = nullptr;
    if (const cudaError_t e = sim::stream_for_work(st, stream, &s); e != cudaSuccess) return e;
    sim::Node node;
    node.kind = sim::Node::Kind::host;
    node.fn = fn;
    node.data = userData;
    sim::submit(st, s, node);
    return cudaSuccess;
}
