#pragma once
// What a Region holds besides what every call reads: its recorders, its device intervals, what
// of it left memory, and the locks that guard them. Made with the region (RegionAccess::make) and
// reached through RegionAccess::state(region); regions live for the whole process, and so does
// their state. Internal to core/.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "scope_profiler/detail/runtime.hpp"
#include "scope_profiler/region.hpp"
#include "stats.hpp"

namespace scope_profiler::detail {

struct RegionState {
    std::mutex mutex;  // guards recorders and flushed
    std::vector<std::unique_ptr<ThreadRecorder>> recorders;  // current session, one per thread
    std::unique_ptr<FlushedData> flushed;  // what left memory this session (mutex)
    std::atomic<std::uint64_t> dropped{0};  // calls lost to allocation failure (reported at finalize)
    std::atomic<std::uint64_t> backpressure_dropped{0};  // calls dropped: the disk fell behind

    std::mutex device_mutex;  // guards device and device_awaiting_disk
    DeviceIntervals device;   // resolved device intervals of this session, not in a batch yet
    // Batches of resolved device intervals queued for the flusher (hand_off_device) and not on
    // disk yet, oldest first; a batch leaves once it is written (commit_device_flushed).
    std::vector<std::shared_ptr<const DeviceIntervals>> device_awaiting_disk;
    std::atomic<std::uint64_t> device_calls{0};  // device scopes exited, this session
};

}  // namespace scope_profiler::detail
