#pragma once
// The moments reduction as Thrust functors, shared by the CPP backend (stats_host.cpp, g++) and
// the CUDA backend (stats_cuda.cu, nvcc): one definition, two execution policies. Each step
// is the stats component's (stats/moments.hpp).
#include <thrust/transform_reduce.h>

#include <cstdint>

#include "stats.hpp"

namespace scope_profiler::detail {

/// One value as moments (stats::moments_of).
struct LiftToMoments {
    _CCCL_HOST_DEVICE Moments operator()(std::int64_t x) const { return stats::moments_of(x); }
};

/// Two sets of moments together (stats::merge: exact, so any reduction order gives the same).
struct AddMoments {
    _CCCL_HOST_DEVICE Moments operator()(const Moments& a, const Moments& b) const { return stats::merge(a, b); }
};

/// transform_reduce over [first, last) with `policy`.
template <class Policy, class Iterator>
Moments reduce_moments(Policy&& policy, Iterator first, Iterator last) {
    return thrust::transform_reduce(policy, first, last, LiftToMoments{}, Moments{}, AddMoments{});
}

}  // namespace scope_profiler::detail
