// Events: an event record is a zero-length operation; the event completes when its stream
// reaches it and carries that time, so cudaEventElapsedTime is exact. Recorded on a capturing
// stream, an event becomes a capture event (a fork/join point, not a timestamp).
#include "capture.hpp"
#include "faults.hpp"

namespace sim = scope_profiler::cuda_sim::detail;

namespace {

constexpr unsigned kEventFlags =
    cudaEventBlockingSync | cudaEventDisableTiming | cudaEventInterprocess;

bool live(sim::State& st, cudaEvent_t e) { return e != nullptr && st.events.contains(e); }

cudaError_t record(cudaEvent_t event, cudaStream_t stream, unsigned int flags) {
    if ((flags & ~static_cast<unsigned>(cudaEventRecordExternal)) != 0) {
        return sim::fail(cudaErrorInvalidValue);
    }
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    if (!live(st, event)) return sim::fail(cudaErrorInvalidResourceHandle);
    CUstream_st* s = nullptr;
    if (const cudaError_t e = sim::stream_for_work(st, stream, &s); e != cudaSuccess) return e;
    if (s->capture) {
        if ((flags & cudaEventRecordExternal) != 0) {  // an event record node of the graph
            sim::Node node;
            node.kind = sim::Node::Kind::event_record;
            node.event = event;
            sim::add_node(s, node);
        } else {
            event->capture = s->capture;
        }
        return cudaSuccess;
    }
    auto op = sim::make_op(0);
    sim::enqueue(st, s, op);
    event->record = op;
    event->capture.reset();
    return cudaSuccess;
}

// Under the lock: the checks shared by cudaEventQuery and cudaEventSynchronize.
cudaError_t event_to_wait(sim::State& st, cudaEvent_t event) {
    if (!live(st, event)) return sim::fail(cudaErrorInvalidResourceHandle);
    if (const cudaError_t e = sim::check_unsafe_call(st); e != cudaSuccess) return sim::fail(e);
    if (event->capture) return sim::fail(cudaErrorStreamCaptureUnsupported);
    return cudaSuccess;
}

}  // namespace

SIM_API cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
    SIM_ENTER("cudaEventCreateWithFlags");
    if (event == nullptr || (flags & ~kEventFlags) != 0) return sim::fail(cudaErrorInvalidValue);
    if ((flags & cudaEventInterprocess) != 0 && (flags & cudaEventDisableTiming) == 0) {
        return sim::fail(cudaErrorInvalidValue);
    }
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    auto* e = new CUevent_st;
    e->flags = flags;
    st.events.insert(e);
    *event = e;
    return cudaSuccess;
}

SIM_API cudaError_t cudaEventCreate(cudaEvent_t* event) {
    SIM_ENTER("cudaEventCreate");
    if (event == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    auto* e = new CUevent_st;
    st.events.insert(e);
    *event = e;
    return cudaSuccess;
}

SIM_API cudaError_t cudaEventDestroy(cudaEvent_t event) {
    SIM_ENTER("cudaEventDestroy");
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    if (!live(st, event)) return sim::fail(cudaErrorInvalidResourceHandle);
    // Handles are checked against the live set before use, so freeing is safe; operations do not
    // point at events.
    st.events.erase(event);
    delete event;
    return cudaSuccess;
}

SIM_API cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
    SIM_ENTER("cudaEventRecord");
    return record(event, stream, cudaEventRecordDefault);
}

SIM_API cudaError_t cudaEventRecordWithFlags(cudaEvent_t event, cudaStream_t stream,
                                             unsigned int flags) {
    SIM_ENTER("cudaEventRecordWithFlags");
    return record(event, stream, flags);
}

SIM_API cudaError_t cudaEventQuery(cudaEvent_t event) {
    SIM_ENTER("cudaEventQuery");
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    if (const cudaError_t e = event_to_wait(st, event); e != cudaSuccess) return e;
    return sim::op_complete(event->record) ? cudaSuccess : cudaErrorNotReady;
}

SIM_API cudaError_t cudaEventSynchronize(cudaEvent_t event) {
    SIM_ENTER("cudaEventSynchronize");
    auto& st = sim::state();
    sim::OpPtr op;
    {
        std::lock_guard lk(st.mu);
        if (const cudaError_t e = event_to_wait(st, event); e != cudaSuccess) return e;
        op = event->record;
    }
    sim::wait_ops({op});
    return cudaSuccess;
}

SIM_API cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    SIM_ENTER("cudaEventElapsedTime");
    if (ms == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    if (!live(st, start) || !live(st, end)) return sim::fail(cudaErrorInvalidResourceHandle);
    if (start->capture || end->capture) return sim::fail(cudaErrorStreamCaptureUnsupported);
    if (((start->flags | end->flags) & cudaEventDisableTiming) != 0 || !start->record ||
        !end->record) {
        return sim::fail(cudaErrorInvalidResourceHandle);
    }
    // Not ready is a state, not an error: the last error is left alone, as cudart does.
    if (!sim::op_complete(start->record) || !sim::op_complete(end->record))
        return cudaErrorNotReady;
    *ms = static_cast<float>(static_cast<double>(end->record->end - start->record->end) / 1e6);
    return cudaSuccess;
}
