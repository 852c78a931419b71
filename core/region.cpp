// Region: the queries. They lock the region (and each recorder briefly) and copy.
#include <algorithm>
#include <numeric>

#include "scope_profiler/detail/runtime.hpp"
#include "scope_profiler/region.hpp"
#include "stats.hpp"
#include "summary.hpp"

namespace scope_profiler {

Region::Region(std::string name, std::uint64_t hash, std::uint32_t id)
    : id_(id), hash_(hash), name_(std::move(name)) {}

Region::~Region() = default;

std::uint64_t Region::num_calls() const {
    std::lock_guard lock(mutex_);
    std::uint64_t calls = 0;
    for (const auto& recorder : recorders_) calls += recorder->calls.load(std::memory_order_relaxed);
    return calls;
}

void Region::visit_blocks(const std::function<void(std::int32_t, const detail::Block&)>& visit,
                          const std::function<void()>& locked) const {
    std::lock_guard lock(mutex_);
    if (locked) locked();
    for (const auto& recorder : recorders_) {
        std::lock_guard recorder_lock(recorder->mutex);
        // Handed to the flusher but not on disk yet, then filled, then the one being filled.
        for (const detail::Block* block : recorder->handed) visit(recorder->thread_index, *block);
        for (const detail::Block* block : recorder->full) visit(recorder->thread_index, *block);
        if (recorder->current != nullptr) visit(recorder->thread_index, *recorder->current);
    }
}

HostIntervals Region::get_intervals() const {
    HostIntervals out;
    std::int32_t first_thread = -1;
    bool threads = false;  // more than one thread recorded
    visit_blocks([&](std::int32_t thread, const detail::Block& block) {
        const std::uint32_t n = block.size.load(std::memory_order_acquire);
        out.start_times.insert(out.start_times.end(), block.start, block.start + n);
        out.end_times.insert(out.end_times.end(), block.end, block.end + n);
        out.thread_ids.insert(out.thread_ids.end(), n, thread);
        if (first_thread < 0) first_thread = thread;
        threads = threads || thread != first_thread;
    });
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
    visit_blocks(
        [&](std::int32_t, const detail::Block& block) {
            const std::uint32_t n = block.size.load(std::memory_order_acquire);
            for (std::uint32_t i = 0; i < n; ++i) durations.push_back(block.end[i] - block.start[i]);
        },
        [&] {
            if (flushed_) flushed = flushed_->host;
        });
    return detail::combined_stats(flushed, durations);
}

namespace detail {

struct FlushedAccess {
    /// The region's flushed data, made on first use; region.mutex_ held by the caller.
    static FlushedData& flushed_locked(Region& region) {
        if (!region.flushed_) region.flushed_ = std::make_unique<FlushedData>();
        return *region.flushed_;
    }
    static void absorb(Region& region, std::span<const std::int64_t> durations, bool device) {
        std::lock_guard lock(region.mutex_);
        FlushedData& flushed = flushed_locked(region);
        detail::absorb(device ? flushed.device : flushed.host, durations);
    }
    static FlushedData copy(const Region& region) {
        std::lock_guard lock(region.mutex_);
        return region.flushed_ ? *region.flushed_ : FlushedData{};
    }
    static void commit(Region& region, ThreadRecorder& recorder, std::span<Block* const> blocks,
                       std::span<const std::int64_t> durations) {
        std::lock_guard lock(region.mutex_);
        detail::absorb(flushed_locked(region).host, durations);
        // The owning thread takes this lock when a block fills: keep it short. Batches are
        // written in the order they were handed, so the batch is the list's head unless an
        // earlier one failed.
        std::lock_guard recorder_lock(recorder.mutex);
        auto& handed = recorder.handed;
        if (handed.size() >= blocks.size() && std::equal(blocks.begin(), blocks.end(), handed.begin())) {
            handed.erase(handed.begin(), handed.begin() + static_cast<std::ptrdiff_t>(blocks.size()));
        } else {
            std::erase_if(handed, [&](Block* b) {
                return std::find(blocks.begin(), blocks.end(), b) != blocks.end();
            });
        }
    }
    static void commit_device(Region& region, const DeviceIntervals* intervals,
                              std::span<const std::int64_t> durations) {
        std::lock_guard lock(region.mutex_);
        FlushedData& flushed = flushed_locked(region);
        detail::absorb(flushed.device, durations);
        flushed.device_fallback += static_cast<std::uint64_t>(
            std::count(intervals->host_fallback.begin(), intervals->host_fallback.end(), 1));
        std::lock_guard device_lock(region.device_mutex_);
        std::erase_if(region.device_handed_, [&](const auto& b) { return b.get() == intervals; });
    }
    static void clear(Region& region) {
        std::lock_guard lock(region.mutex_);
        region.flushed_.reset();
    }
};

void absorb_flushed(Region& region, std::span<const std::int64_t> durations, bool device) {
    FlushedAccess::absorb(region, durations, device);
}
void commit_flushed(Region& region, ThreadRecorder& recorder, std::span<Block* const> blocks,
                    std::span<const std::int64_t> durations) {
    FlushedAccess::commit(region, recorder, blocks, durations);
}
void commit_device_flushed(Region& region, const DeviceIntervals* intervals,
                           std::span<const std::int64_t> durations) {
    FlushedAccess::commit_device(region, intervals, durations);
}
FlushedData flushed_of(const Region& region) { return FlushedAccess::copy(region); }
void clear_flushed(Region& region) { FlushedAccess::clear(region); }

}  // namespace detail

}  // namespace scope_profiler
