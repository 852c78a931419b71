#pragma once
// The flusher (flush_to_disk = true): a background thread that appends handed-off blocks to this
// rank's file during the run, so memory stays bounded and no recording thread waits for the
// disk. Internal to core/.
//
// A recorder hands off its full blocks once they hold the buffer limit (next_block(), once per
// buffer_limit calls of a region on a thread): the blocks move to the recorder's `handed` list
// and a batch naming them is queued. They stay the recorder's until they are on disk, so the
// queries and the statistics see every interval exactly once: in a block, or, once the flusher
// wrote it, in the region's flushed summary (both updated under the region's lock). A batch that
// fails to write (full disk, HDF5 error) is reported and its blocks stay in memory; it is retried
// with later batches and, at the latest, written at finalize().

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "h5_writer.hpp"
#include "job.hpp"
#include "scope_profiler/config.hpp"
#include "scope_profiler/detail/runtime.hpp"

namespace scope_profiler::detail {

/// The per-rank file of a session writing `file_path`: "dir/stem.rank<N>.h5" beside it.
std::string rank_file_path(const std::string& file_path, int rank);

/// Blocks a recorder holds before it hands them off; 0 when this session does not flush.
std::uint32_t flush_blocks() noexcept;

/// Hands `recorder.full` to the flusher (recorder.mutex held by the caller).
void hand_off(ThreadRecorder& recorder) noexcept;

/// Resolved device intervals a region holds before it hands them off; 0 when not flushing.
std::size_t device_flush_limit() noexcept;

/// Hands a batch of `region`'s resolved device intervals (already in its handed list) to the
/// flusher. On failure they stay in the list, and finalize() writes them.
void hand_off_device(Region& region, std::shared_ptr<const DeviceIntervals> intervals) noexcept;

class Flusher {
public:
    static Flusher& instance();

    /// setup(): starts flushing for the new session (when config asks for it), writing
    /// rank_file_path(config.file_path, job.rank) from the first hand-off on. Any previous
    /// session's flusher is stopped first and its queued batches dropped.
    void start(const Config& config, const Job& job);
    /// Stops the thread and drops queued batches (their blocks are freed with their recorders).
    void discard() noexcept;
    /// finalize(): writes every queued batch and retries failed ones, then stops the thread.
    /// Blocks whose writes failed stay in their recorders' `handed` lists.
    void drain() noexcept;
    /// After drain(): the rank file when one was opened (nullptr otherwise). open = true opens it
    /// now (throws when it cannot be created).
    h5::RankFile* rank_file(bool open);
    /// The rank file is merged (removed) or kept: forget it.
    void release_rank_file() noexcept;

    void enqueue(ThreadRecorder& recorder, std::vector<Block*> blocks);
    void enqueue(Region& region, std::shared_ptr<const DeviceIntervals> intervals);

    Flusher(const Flusher&) = delete;
    Flusher& operator=(const Flusher&) = delete;
    ~Flusher() = delete;  // process-wide, never destroyed (threads may record until the end)

private:
    Flusher();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace scope_profiler::detail
