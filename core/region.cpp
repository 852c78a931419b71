// Region: the queries. They lock the region (and each recorder briefly) and copy.
#include <algorithm>
#include <functional>
#include <numeric>

#include "pending.hpp"
#include "region_state.hpp"
#include "scope_profiler/detail/runtime.hpp"
#include "scope_profiler/region.hpp"
#include "stats.hpp"

namespace scope_profiler {

namespace {

/// Room for what the threads may record while the runs are read, beyond what was counted: a
/// block's worth (more costs one doubling, not a room per thread that 1000 threads of a few
/// calls each would waste).
constexpr std::size_t kRecordedMeanwhile = detail::kBlockCapacity;

/// Room for the intervals in memory: 10 M intervals then cost one allocation per column, not 24
/// doublings.
void reserve_for(HostIntervals& out, std::size_t in_memory) {
    const std::size_t room = in_memory + kRecordedMeanwhile;
    out.start_times.reserve(room);
    out.end_times.reserve(room);
    out.thread_ids.reserve(room);
}

/// Calls `visit(thread, start, end, n)` for every run of this session's intervals still in
/// memory, under the locks, in order per thread; `locked`, when given, first, under the
/// region's lock, with the number of intervals in memory then (the runs may hold a few more:
/// the threads go on recording).
using RunVisitor =
    std::function<void(std::int32_t, const std::int64_t*, const std::int64_t*, std::uint32_t)>;
void visit_runs(detail::RegionState& state, const RunVisitor& visit,
                const std::function<void(std::size_t in_memory)>& locked = {}) {
    detail::TickClock::instance().refresh();  // a calibration point after every tick read here
    std::lock_guard lock(state.mutex);
    if (locked) {
        std::size_t in_memory = 0;
        for (const auto& recorder : state.recorders) {
            std::lock_guard recorder_lock(recorder->mutex);
            in_memory += detail::count_in_memory(recorder->filled, recorder->flushed,
                                                 detail::published_size(recorder->current));
        }
        locked(in_memory);
    }
    for (const auto& recorder : state.recorders) {
        std::lock_guard recorder_lock(recorder->mutex);
        const detail::Block* current = recorder->current;
        detail::for_each_run(recorder->filled, recorder->flushed, current, detail::published_size(current),
                             [&](const std::int64_t* start, const std::int64_t* end,
                                 std::uint32_t n) { visit(recorder->thread_index, start, end, n); });
    }
}

}  // namespace

Region::Region(std::string name, std::uint64_t hash, std::uint32_t id)
    : id_(id), hash_(hash), name_(std::move(name)), state_(std::make_unique<detail::RegionState>()) {}

Region::~Region() = default;

std::unique_ptr<Region> detail::RegionAccess::make(std::string name, std::uint64_t hash,
                                                   std::uint32_t id) {
    return std::unique_ptr<Region>(new Region(std::move(name), hash, id));
}

std::uint64_t Region::num_calls() const {
    std::lock_guard lock(state_->mutex);
    std::uint64_t calls = 0;
    for (const auto& recorder : state_->recorders)
        calls += recorder->calls.load(std::memory_order_relaxed);
    return calls;
}

HostIntervals Region::get_intervals() const {
    HostIntervals out;
    std::int32_t first_thread = -1;
    bool threads = false;  // more than one thread recorded
    visit_runs(
        *state_,
        [&](std::int32_t thread, const std::int64_t* start, const std::int64_t* end, std::uint32_t n) {
            out.start_times.insert(out.start_times.end(), start, start + n);
            out.end_times.insert(out.end_times.end(), end, end + n);
            out.thread_ids.insert(out.thread_ids.end(), n, thread);
            if (first_thread < 0) first_thread = thread;
            threads = threads || thread != first_thread;
        },
        [&](std::size_t in_memory) { reserve_for(out, in_memory); });
    if (!threads) return out;  // one thread records in completion order already

    // Several threads: merge into one completion order (by end time; equal end times keep the
    // order in which the threads first used the region).
    std::vector<std::size_t> order(out.end_times.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return out.end_times[a] < out.end_times[b];
    });
    HostIntervals sorted;
    sorted.start_times.reserve(order.size());
    sorted.end_times.reserve(order.size());
    sorted.thread_ids.reserve(order.size());
    for (const std::size_t i : order) {
        sorted.start_times.push_back(out.start_times[i]);
        sorted.end_times.push_back(out.end_times[i]);
        sorted.thread_ids.push_back(out.thread_ids[i]);
    }
    return sorted;
}

std::vector<std::int64_t> Region::get_durations() const {
    const HostIntervals intervals = get_intervals();
    std::vector<std::int64_t> durations(intervals.start_times.size());
    std::transform(intervals.end_times.begin(), intervals.end_times.end(),
                   intervals.start_times.begin(), durations.begin(), std::minus<>{});
    return durations;
}

std::vector<std::int64_t> Region::get_start_times() const { return get_intervals().start_times; }
std::vector<std::int64_t> Region::get_end_times() const { return get_intervals().end_times; }
std::vector<std::int32_t> Region::get_thread_ids() const { return get_intervals().thread_ids; }

Stats Region::host_stats() const {
    // Statistics need no completion order: the durations straight from the blocks.
    // The flushed summary and the blocks under one lock: the flusher moves intervals from one
    // to the other under it, so each interval is counted exactly once.
    std::vector<std::int64_t> durations;
    detail::FlushedSummary flushed;
    visit_runs(
        *state_,
        [&](std::int32_t, const std::int64_t* start, const std::int64_t* end, std::uint32_t n) {
            for (std::uint32_t i = 0; i < n; ++i) durations.push_back(end[i] - start[i]);
        },
        [&](std::size_t in_memory) {
            durations.reserve(in_memory + kRecordedMeanwhile);
            if (state_->flushed) flushed = state_->flushed->host;
        });
    return detail::combined_stats(flushed, durations);
}

namespace detail {

namespace {

/// The region's flushed data, made on first use; the state's mutex held by the caller.
FlushedData& flushed_locked(RegionState& state) {
    if (!state.flushed) state.flushed = std::make_unique<FlushedData>();
    return *state.flushed;
}

}  // namespace

void absorb_flushed(Region& region, std::span<const std::int64_t> durations, bool device) {
    RegionState& state = RegionAccess::state(region);
    std::lock_guard lock(state.mutex);
    FlushedData& flushed = flushed_locked(state);
    detail::absorb(device ? flushed.device : flushed.host, durations);
}

std::vector<PendingIntervals> pending_of(Region& region) {
    TickClock::instance().refresh();  // a calibration point after every tick taken here
    std::vector<PendingIntervals> out;
    RegionState& state = RegionAccess::state(region);
    std::lock_guard lock(state.mutex);
    for (const auto& recorder : state.recorders) {
        // The owning thread takes this lock when a block fills: keep it short.
        std::lock_guard recorder_lock(recorder->mutex);
        PendingIntervals p;
        p.recorder = recorder.get();
        p.thread_index = recorder->thread_index;
        p.flushed = recorder->flushed;
        p.current = recorder->current;
        p.current_size = published_size(p.current);
        const bool nothing_new = recorder->filled.empty() && p.current_size == p.flushed;
        if (nothing_new) continue;
        p.blocks = recorder->filled;
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<Block*> commit_flushed(Region& region, std::span<const PendingIntervals> pending,
                                   std::span<const std::int64_t> durations) {
    std::vector<Block*> done;
    RegionState& state = RegionAccess::state(region);
    std::lock_guard lock(state.mutex);
    detail::absorb(flushed_locked(state).host, durations);
    for (const PendingIntervals& p : pending) {
        std::lock_guard recorder_lock(p.recorder->mutex);
        // Only the flusher removes blocks, from the head; the owner appends at the tail. So
        // the blocks taken are still the head, and the oldest block in memory now is the
        // one that was current (filled.front(), or still current).
        auto& filled = p.recorder->filled;
        const auto taken = static_cast<std::ptrdiff_t>(p.blocks.size());
        done.insert(done.end(), filled.begin(), filled.begin() + taken);
        filled.erase(filled.begin(), filled.begin() + taken);
        p.recorder->filled_count.store(static_cast<std::uint32_t>(filled.size()),
                                       std::memory_order_relaxed);
        p.recorder->flushed = p.current_size;
    }
    return done;
}

void commit_device_flushed(Region& region, const DeviceIntervals* intervals,
                           std::span<const std::int64_t> durations) {
    RegionState& state = RegionAccess::state(region);
    std::lock_guard lock(state.mutex);
    FlushedData& flushed = flushed_locked(state);
    detail::absorb(flushed.device, durations);
    flushed.device_fallback += static_cast<std::uint64_t>(
        std::count(intervals->host_fallback.begin(), intervals->host_fallback.end(), 1));
    std::lock_guard device_lock(state.device_mutex);
    std::erase_if(state.device_awaiting_disk, [&](const auto& b) { return b.get() == intervals; });
}

void clear_flushed(Region& region) {
    RegionState& state = RegionAccess::state(region);
    std::lock_guard lock(state.mutex);
    state.flushed.reset();
}

}  // namespace detail

}  // namespace scope_profiler
