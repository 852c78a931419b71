#pragma once
// 128-bit integers, the one platform assumption of the statistics: GCC, clang and nvcc have
// __int128 (MSVC does not; a port would define these two types here). __extension__ keeps
// -Wpedantic quiet. Used by the exact moments (stats/moments.hpp) and compare's bounded
// random integers (tools/compare_stats.cpp).

namespace scope_profiler::stats {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

}  // namespace scope_profiler::stats
