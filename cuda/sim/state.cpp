// The device model's queues: enqueueing, resolving start/end times, waiting, and the dispatcher
// thread that runs host functions when their stream reaches them.
#include "state.hpp"

#include <algorithm>
#include <chrono>

namespace scope_profiler::cuda_sim::detail {

Ns now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void sleep_until_ns(Ns t) {
    std::this_thread::sleep_until(
        std::chrono::steady_clock::time_point(std::chrono::nanoseconds(t)));
}

State& state() {
    // Leaked on purpose: the dispatcher thread and user threads may still use it during exit.
    static State* const st = [] {
        auto* s = new State;
        s->legacy.legacy = true;
        s->legacy.id = s->next_stream_id++;
        s->streams.insert(&s->legacy);
        s->all.push_back(&s->legacy);
        return s;
    }();
    return *st;
}

namespace {

thread_local CUstream_st* tls_per_thread = nullptr;

void dispatcher_loop(State& st);

// Under the lock: `op` has no unknown dependency left; give it its start (and end).
void start_op(State& st, const OpPtr& op) {
    op->started = true;
    op->start = op->floor;
    op->deps.clear();
    if (op->fn != nullptr) {
        st.host_queue.push_back(op);
        if (!st.dispatcher) {
            st.dispatcher = true;
            std::thread([&st] { dispatcher_loop(st); }).detach();
        }
        st.dispatch_cv.notify_all();
        return;
    }
    op->end = op->start + op->duration;
    op->done = true;
}

// Under the lock: drops finished dependencies; true when none is left.
bool settle_deps(const OpPtr& op) {
    auto& deps = op->deps;
    for (const auto& d : deps) {
        if (d->done) op->floor = std::max(op->floor, d->end);
    }
    std::erase_if(deps, [](const OpPtr& d) { return d->done; });
    return deps.empty();
}

// Under the lock: one pass in enqueue order starts everything that can start (an operation only
// depends on earlier ones, so one pass reaches a fixed point).
void resolve_pending(State& st) {
    std::vector<OpPtr> still;
    for (auto& op : st.pending) {
        if (settle_deps(op)) {
            start_op(st, op);
        } else {
            still.push_back(std::move(op));
        }
    }
    st.pending = std::move(still);
}

void dispatcher_loop(State& st) {
    std::unique_lock lk(st.mu);
    for (;;) {
        if (st.host_queue.empty()) {
            st.dispatch_cv.wait(lk);
            continue;
        }
        auto it =
            std::min_element(st.host_queue.begin(), st.host_queue.end(),
                             [](const OpPtr& a, const OpPtr& b) { return a->start < b->start; });
        const Ns when = (*it)->start;
        if (now_ns() < when) {
            // Wakes early when an earlier host function is queued meanwhile.
            st.dispatch_cv.wait_until(
                lk, std::chrono::steady_clock::time_point(std::chrono::nanoseconds(when)));
            continue;
        }
        OpPtr op = *it;
        st.host_queue.erase(it);
        ++st.host_running;
        lk.unlock();
        op->fn(op->data);  // never under the lock: the function may call the runtime
        lk.lock();
        --st.host_running;
        op->end = std::max(now_ns(), op->start);
        op->done = true;
        resolve_pending(st);
        st.done_cv.notify_all();
    }
}

}  // namespace

CUstream_st* resolve_stream(State& st, cudaStream_t handle) {
    if (handle == nullptr || handle == cudaStreamLegacy) return &st.legacy;
    if (handle == cudaStreamPerThread) {
        if (tls_per_thread == nullptr) {
            auto* s = new CUstream_st;  // lives as long as the process, like every stream
            s->per_thread = true;
            s->id = st.next_stream_id++;
            st.streams.insert(s);
            st.all.push_back(s);
            st.blocking.push_back(s);
            tls_per_thread = s;
        }
        return tls_per_thread;
    }
    if (!st.streams.contains(handle) || handle->destroyed) return nullptr;
    return handle;
}

OpPtr make_op(Ns duration) {
    auto op = std::make_shared<Op>();
    op->floor = now_ns();
    op->duration = duration;
    return op;
}

std::vector<OpPtr> implicit_deps(State& st, const CUstream_st* s) {
    std::vector<OpPtr> deps;
    if (s->tail) deps.push_back(s->tail);
    if (s->legacy) {
        for (const auto* b : st.blocking) {
            if (b->tail) deps.push_back(b->tail);
        }
    } else if (s->blocking() && st.legacy.tail) {
        deps.push_back(st.legacy.tail);
    }
    return deps;
}

void enqueue(State& st, CUstream_st* s, const OpPtr& op, const OpPtr& extra_dep) {
    op->deps = implicit_deps(st, s);
    if (extra_dep) op->deps.push_back(extra_dep);
    s->tail = op;
    if (settle_deps(op)) {
        start_op(st, op);
    } else {
        st.pending.push_back(op);
    }
}

bool op_complete(const OpPtr& op) { return !op || (op->done && now_ns() >= op->end); }

std::vector<OpPtr> all_tails(State& st) {
    std::vector<OpPtr> tails;
    for (const auto* s : st.all) {
        if (s->tail && !op_complete(s->tail)) tails.push_back(s->tail);
    }
    return tails;
}

void wait_ops(std::vector<OpPtr> ops) {
    State& st = state();
    Ns last = 0;
    {
        std::unique_lock lk(st.mu);
        st.done_cv.wait(lk, [&] {
            return std::all_of(ops.begin(), ops.end(),
                               [](const OpPtr& op) { return !op || op->done; });
        });
        for (const auto& op : ops) {
            if (op) last = std::max(last, op->end);
        }
    }
    sleep_until_ns(last);
}

}  // namespace scope_profiler::cuda_sim::detail
