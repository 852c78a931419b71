#pragma once
// The device model: streams are queues of operations on the host's steady_clock. Each operation
// knows its start once every operation it depends on knows its end; a kernel ends `duration`
// later, a host function when it returns on the dispatcher thread. One global mutex guards it
// all; nobody holds it while sleeping or running a host function.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "api.hpp"

namespace scope_profiler::cuda_sim::detail {

using Ns = std::int64_t;
Ns now_ns();
void sleep_until_ns(Ns t);

struct Op {
    Ns floor = 0;  // the earliest start: enqueue time and the ends of finished dependencies
    Ns duration = 0;
    cudaHostFn_t fn = nullptr;  // a host function: ends when it returns
    void* data = nullptr;
    std::vector<std::shared_ptr<Op>> deps;  // dependencies whose end is not known yet
    bool started = false;
    Ns start = 0;
    bool done = false;  // end is known
    Ns end = 0;
};
using OpPtr = std::shared_ptr<Op>;

struct Capture;

}  // namespace scope_profiler::cuda_sim::detail

struct CUstream_st {
    unsigned flags = 0;
    int priority = 0;
    unsigned long long id = 0;
    bool legacy = false;
    bool per_thread = false;
    bool destroyed = false;
    scope_profiler::cuda_sim::detail::OpPtr tail;  // the last operation enqueued
    std::shared_ptr<scope_profiler::cuda_sim::detail::Capture> capture;  // active capture, if any
    bool blocking() const {
        return !legacy && (per_thread || (flags & cudaStreamNonBlocking) == 0);
    }
};

struct CUevent_st {
    unsigned flags = 0;
    scope_profiler::cuda_sim::detail::OpPtr record;                      // null: never recorded
    std::shared_ptr<scope_profiler::cuda_sim::detail::Capture> capture;  // last recorded in one
};

namespace scope_profiler::cuda_sim::detail {

struct State {
    std::mutex mu;
    std::condition_variable done_cv;      // some operation got its end
    std::condition_variable dispatch_cv;  // the dispatcher has work
    CUstream_st legacy;
    std::unordered_set<const CUstream_st*> streams;  // every stream ever made (never freed)
    std::vector<CUstream_st*> all;                   // the same, in creation order
    std::vector<CUstream_st*> blocking;              // live blocking and per-thread streams
    std::unordered_set<const CUevent_st*> events;    // live events
    std::vector<OpPtr> pending;                      // not started, in enqueue order
    std::vector<OpPtr> host_queue;                   // host functions waiting to run
    int host_running = 0;
    bool dispatcher = false;
    unsigned long long next_stream_id = 1;
};

// The process-wide state; intentionally leaked so threads still running at exit never see it
// destroyed (no static destructor, no join at exit).
State& state();

// Under the lock: the stream a handle names (0/cudaStreamLegacy, cudaStreamPerThread or a live
// stream), or nullptr for a destroyed or unknown handle.
CUstream_st* resolve_stream(State& st, cudaStream_t handle);
// Under the lock: `op` enters `s` after the stream's own tail and its implicit dependencies.
void enqueue(State& st, CUstream_st* s, const OpPtr& op, const OpPtr& extra_dep = nullptr);
OpPtr make_op(Ns duration);
// Under the lock: the implicit dependencies of new work on `s` (legacy-stream semantics).
std::vector<OpPtr> implicit_deps(State& st, const CUstream_st* s);
// Without the lock: blocks until every op has ended, then until the clock reaches the last end.
void wait_ops(std::vector<OpPtr> ops);
// Under the lock: the tail of every stream, for a device-wide wait.
std::vector<OpPtr> all_tails(State& st);
bool op_complete(const OpPtr& op);  // under the lock: ended and the clock is past its end

}  // namespace scope_profiler::cuda_sim::detail
