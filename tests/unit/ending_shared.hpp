#pragma once
// What ending_child's "record" mode publishes to the test, in a file both map (MAP_SHARED).
#include <atomic>
#include <cstdint>

namespace ending {

inline constexpr int kMaxThreads = 8;

struct Shared {
    std::atomic<std::uint64_t> calls[kMaxThreads];  // completed calls of "work", per thread
    std::atomic<std::int64_t> pass_began_ns;        // last_complete_pass_began_ns()
    std::atomic<std::uint64_t> in_memory;           // intervals of "work" not on disk yet,
    std::atomic<std::uint64_t> in_memory_after;     // measured after this many calls (all threads)
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

}  // namespace ending
