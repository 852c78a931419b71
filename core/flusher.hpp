#pragma once
// The flusher (flush_to_disk = true): a background thread that writes what the recording
// threads hold in memory to this rank's file during the run, so memory stays bounded, a killed
// run loses little, and no recording thread waits for the disk unless it outruns it (back-pressure:
// pending_block_limit, make_room). Internal to core/.
//
// It writes at least every flush_interval_ms, and sooner when a thread has recorded
// buffer_limit calls of a region since its last mark (the mark wakes it). Each pass takes, per
// region, what every thread's recorder holds that is not on disk yet (pending_of: the filled
// prefix of the block a thread is still writing included), appends it in one go, then commits:
// under the region's lock the intervals join the region's flushed summary and leave memory, so
// queries and statistics see every interval exactly once. A pass that fails to write (full
// disk, HDF5 error) is reported once and commits nothing: the next pass (at most once a second)
// writes the same intervals again, and finalize() writes whatever is still in memory.

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

/// Calls of a region a thread records between two flush marks (buffer_limit); 0 when this
/// session does not flush.
std::size_t flush_limit() noexcept;

/// A thread reached a flush mark: wake the flusher (cheap when it is awake already).
void request_flush() noexcept;

/// When (steady_clock ns) the last pass that wrote everything it took began: every interval a
/// thread had recorded before then is on disk. 0 before the first. For tests and diagnostics.
std::int64_t last_complete_pass_began_ns() noexcept;

/// Back-pressure: the most filled blocks a thread's recorder of a region may hold that are not on
/// disk, max(64, 4 x buffer_limit in blocks); 0 where there is no bound (the session does not
/// flush, the flusher has stopped, or it is failing: then the calls stay in memory, as said).
std::uint32_t pending_block_limit() noexcept;

/// A recorder holds `allowed` (pending_block_limit()) filled blocks that are not on disk yet.
/// Config::on_backpressure wait: wakes the flusher and waits until the recorder holds fewer (or
/// there is no bound any more), then true; drop: false, the caller drops the call. Takes no lock
/// of the library's other than its own.
bool make_room(const std::atomic<std::uint32_t>& filled_count, std::uint32_t allowed) noexcept;

/// This session's waits for the disk (Backpressure::wait), reported at finalize(): begun, ended,
/// and the time the ended ones took.
struct BackpressureWaits {
    std::uint64_t begun = 0;
    std::uint64_t count = 0;
    std::int64_t total_ns = 0;
};
BackpressureWaits backpressure_waits() noexcept;

/// Tests only: while held, the flusher starts no pass (a disk that does not keep up at all);
/// stopping it (finalize(), setup()) still works.
void hold_flusher_for_tests(bool held) noexcept;

/// `region` records timed calls in this session: the flusher's passes include it.
void watch_for_flush(Region& region) noexcept;

/// Resolved device intervals a region holds before it hands them off; 0 when not flushing.
std::size_t device_flush_limit() noexcept;

/// Hands a batch of `region`'s resolved device intervals (already in its device_awaiting_disk
/// list, core/region_state.hpp) to the flusher. On failure they stay in that list, and
/// finalize() writes them.
void hand_off_device(Region& region, std::shared_ptr<const DeviceIntervals> intervals) noexcept;

class Flusher {
public:
    static Flusher& instance();

    /// setup(): starts flushing for the new session (when config asks for it), writing
    /// rank_file_path(config.file_path, job.rank) from the first pass that finds intervals on.
    /// Any previous session's flusher is stopped first and its file removed.
    void start(const Config& config, const Job& job);
    /// Stops the thread and removes the session's rank file (setup() again).
    void discard() noexcept;
    /// finalize(): lets a pass under way finish, then stops the thread. What is not on disk
    /// then is in memory, and finalize() appends it.
    void drain() noexcept;
    /// After drain(): the rank file when one was opened (nullptr otherwise). open = true opens it
    /// now (throws when it cannot be created).
    h5::RankFile* rank_file(bool open);
    /// The rank file is merged (removed) or kept: forget it.
    void release_rank_file() noexcept;

    void enqueue(Region& region, std::shared_ptr<const DeviceIntervals> intervals);
    void watch(Region& region);
    void request() noexcept;

    Flusher(const Flusher&) = delete;
    Flusher& operator=(const Flusher&) = delete;
    ~Flusher() = delete;  // process-wide, never destroyed (threads may record until the end)

private:
    Flusher();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace scope_profiler::detail
