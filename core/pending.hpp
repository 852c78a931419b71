#pragma once
// The intervals a recorder holds in memory, as runs of consecutive intervals, oldest first: the
// part of the oldest block not on disk yet, the other filled blocks, then the current block up to
// its published size. The queries (core/region.cpp) read them under the recorder's lock; the
// flusher (core/flusher.cpp) takes a PendingIntervals under it and reads the runs without it
// (the blocks stay the recorder's until commit_flushed()). Internal to core/.

#include <cstdint>
#include <span>
#include <vector>

#include "scope_profiler/detail/runtime.hpp"
#include "tick_clock.hpp"

namespace scope_profiler::detail {

/// Calls run(start, end, n) for each run of in-memory intervals: `blocks` (the recorder's filled
/// blocks), then `current` up to `current_size`; the first `flushed` intervals of the first of
/// them are on disk already and skipped.
/// In a session on the time-stamp counter (core/tick_clock.hpp) the blocks hold ticks: each run
/// is converted to steady_clock nanoseconds on the way, so every reader sees nanoseconds.
template <class Run>
void for_each_run(std::span<Block* const> blocks, std::uint32_t flushed, const Block* current,
                  std::uint32_t current_size, Run&& run) {
    const TickClock& clock = TickClock::instance();
    const bool ticks = clock.active();
    const auto emit = [&](const Block* block, std::uint32_t from, std::uint32_t n) {
        if (!ticks) {
            run(block->start + from, block->end + from, n);
            return;
        }
        std::int64_t start[kBlockCapacity], end[kBlockCapacity];
        clock.to_ns(block->start + from, start, n);
        clock.to_ns(block->end + from, end, n);
        run(static_cast<const std::int64_t*>(start), static_cast<const std::int64_t*>(end), n);
    };
    std::uint32_t skip = flushed;
    for (const Block* block : blocks) {
        const std::uint32_t n = block->size.load(std::memory_order_acquire);
        if (n > skip) emit(block, skip, n - skip);
        skip = 0;
    }
    if (current != nullptr && current_size > skip) emit(current, skip, current_size - skip);
}

/// The published size of a recorder's current block (0 where it has none), read with acquire:
/// the intervals below it are complete.
inline std::uint32_t published_size(const Block* current) {
    return current == nullptr ? 0 : current->size.load(std::memory_order_acquire);
}

/// How many intervals for_each_run would visit with these arguments.
inline std::size_t count_in_memory(std::span<Block* const> blocks, std::uint32_t flushed,
                                   std::uint32_t current_size) {
    std::size_t n = current_size;
    for (const Block* block : blocks) n += block->size.load(std::memory_order_acquire);
    return n >= flushed ? n - flushed : 0;
}

/// What the flusher takes of one recorder: what it held in memory at that moment.
struct PendingIntervals {
    ThreadRecorder* recorder = nullptr;
    std::int32_t thread_index = 0;
    std::vector<Block*> blocks;       // its filled blocks
    std::uint32_t flushed = 0;        // its `flushed` then
    const Block* current = nullptr;
    std::uint32_t current_size = 0;   // current's published size then (acquire)

    template <class Run>
    void for_each_run(Run&& run) const {
        detail::for_each_run(blocks, flushed, current, current_size, run);
    }
};

/// Under the region's lock (and each recorder's, briefly): what every recorder of `region`
/// holds in memory now. Recorders with nothing new are left out.
std::vector<PendingIntervals> pending_of(Region& region);

/// The flusher wrote `pending` (taken from `region` by pending_of) to disk. Under the region's
/// lock, the intervals' `durations` join the region's flushed host summary and the intervals
/// leave memory, so readers count each one once. Returns the blocks now entirely on disk, for
/// the caller to release (outside the locks).
std::vector<Block*> commit_flushed(Region& region, std::span<const PendingIntervals> pending,
                                   std::span<const std::int64_t> durations);

}  // namespace scope_profiler::detail
