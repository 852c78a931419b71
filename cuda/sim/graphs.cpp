// Graphs made by stream capture: node listing, instantiation, launch and destruction. A graph is
// the sequence of its captured nodes; a launch enqueues them in order on one stream.
#include "capture.hpp"
#include "durations.hpp"
#include "faults.hpp"

namespace sim = scope_profiler::cuda_sim::detail;

SIM_API cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* numNodes) {
    SIM_ENTER("cudaGraphGetNodes");
    if (numNodes == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    if (graph == nullptr || !sim::captures().graphs.contains(graph)) {
        return sim::fail(cudaErrorInvalidValue);
    }
    const std::size_t n = graph->nodes.size();
    if (nodes != nullptr) {
        for (std::size_t i = 0; i < *numNodes; ++i)
            nodes[i] = i < n ? graph->nodes[i].get() : nullptr;
        if (*numNodes < n) return cudaSuccess;  // the first *numNodes nodes
    }
    *numNodes = n;
    return cudaSuccess;
}

SIM_API cudaError_t cudaGraphInstantiate(cudaGraphExec_t* pGraphExec, cudaGraph_t graph,
                                         unsigned long long /*flags*/) {
    SIM_ENTER("cudaGraphInstantiate");
    if (pGraphExec == nullptr) return sim::fail(cudaErrorInvalidValue);
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    auto& caps = sim::captures();
    if (graph == nullptr || !caps.graphs.contains(graph)) return sim::fail(cudaErrorInvalidValue);
    auto* exec = new CUgraphExec_st;
    exec->nodes.reserve(graph->nodes.size());
    for (const auto& n : graph->nodes) exec->nodes.push_back(n->node);
    caps.execs.insert(exec);
    *pGraphExec = exec;
    return cudaSuccess;
}

// Each kernel node takes the launching thread's next queued duration (set_next_kernel_ns) if
// there is one, else keeps the duration it was captured with.
SIM_API cudaError_t cudaGraphLaunch(cudaGraphExec_t graphExec, cudaStream_t stream) {
    SIM_ENTER("cudaGraphLaunch");
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    if (graphExec == nullptr || !sim::captures().execs.contains(graphExec)) {
        return sim::fail(cudaErrorInvalidValue);
    }
    CUstream_st* s = nullptr;
    if (const cudaError_t e = sim::stream_for_work(st, stream, &s); e != cudaSuccess) return e;
    for (sim::Node node : graphExec->nodes) {
        // A graph launched into a capture joins the new graph inline, with its own durations.
        if (!s->capture && node.kind == sim::Node::Kind::kernel) {
            node.duration = sim::take_kernel_ns(node.duration);
        }
        sim::submit(st, s, node);
    }
    return cudaSuccess;
}

SIM_API cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
    SIM_ENTER("cudaGraphDestroy");
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    if (graph == nullptr || sim::captures().graphs.erase(graph) == 0) {
        return sim::fail(cudaErrorInvalidValue);
    }
    delete graph;
    return cudaSuccess;
}

SIM_API cudaError_t cudaGraphExecDestroy(cudaGraphExec_t graphExec) {
    SIM_ENTER("cudaGraphExecDestroy");
    auto& st = sim::state();
    std::lock_guard lk(st.mu);
    if (graphExec == nullptr || sim::captures().execs.erase(graphExec) == 0) {
        return sim::fail(cudaErrorInvalidValue);
    }
    delete graphExec;
    return cudaSuccess;
}
