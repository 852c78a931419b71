#pragma once
// The moments reduction as Thrust functors, shared by the CPP backend (stats_host.cpp, g++) and
// the CUDA backend (stats_cuda.cu, nvcc): one definition, two execution policies.
#include <thrust/transform_reduce.h>

#include <cstdint>

#include "stats.hpp"

namespace scope_profiler::detail {

/// One value as moments about a shift common to the whole reduction.
struct LiftToMoments {
    std::int64_t shift;
    _CCCL_HOST_DEVICE Moments operator()(std::int64_t x) const {
        const double d = static_cast<double>(static_cast<__int128>(x) - shift);  // exact, then rounded once
        Moments m;
        m.count = 1;
        m.sum = x;
        m.min = x;
        m.max = x;
        m.shift = shift;
        m.squares = d * d;
        return m;
    }
};

/// Moments with the same shift add up: no re-centering inside one reduction.
struct AddMoments {
    _CCCL_HOST_DEVICE Moments operator()(const Moments& a, const Moments& b) const {
        Moments m;
        m.count = a.count + b.count;
        m.sum = a.sum + b.sum;
        m.min = a.min < b.min ? a.min : b.min;
        m.max = a.max > b.max ? a.max : b.max;
        m.shift = a.shift;
        m.squares = a.squares + b.squares;
        return m;
    }
};

/// transform_reduce over [first, last) with `policy`, squares about `shift` (choose_shift).
template <class Policy, class Iterator>
Moments reduce_moments(Policy&& policy, Iterator first, Iterator last, std::int64_t shift) {
    Moments init;
    init.shift = shift;
    return thrust::transform_reduce(policy, first, last, LiftToMoments{shift}, init, AddMoments{});
}

}  // namespace scope_profiler::detail
