#pragma once
// Where interval blocks come from. Growing a buffer costs page faults, and on virtual machines a
// 4 KiB fault costs ~10 us: 40 ns per 16-byte interval, on the recording thread. So blocks are
// carved from 2 MiB chunks advised for transparent huge pages (one fault per chunk where the
// kernel allows it), a background thread faults the next chunks in ahead of demand, and emptied
// chunks are kept for reuse by the next session or flush.
#include "scope_profiler/detail/runtime.hpp"

namespace scope_profiler::detail {

/// A zeroed-size block, or nullptr when memory ran out. Takes a lock once per block.
Block* acquire_block() noexcept;
/// Returns a block to its chunk; a chunk whose blocks are all returned is kept or freed.
void release_block(Block* block) noexcept;

}  // namespace scope_profiler::detail
