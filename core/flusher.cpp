#include "flusher.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "block_pool.hpp"
#include "diagnostics.hpp"
#include "format/names.hpp"
#include "library_threads.hpp"
#include "pending.hpp"
#include "stats.hpp"

namespace scope_profiler::detail {

namespace {

std::atomic<std::size_t> g_flush_limit{0};
std::atomic<std::int64_t> g_last_complete_pass{0};  // see last_complete_pass_began_ns()
std::atomic<std::size_t> g_device_flush_limit{0};

// Back-pressure (make_room).
std::atomic<std::uint32_t> g_pending_limit{0};
std::atomic<bool> g_drop{false};
std::atomic<bool> g_failing{false};  // the last pass failed to write (reported once); no bound then
std::atomic<std::uint64_t> g_waits_begun{0};
std::atomic<std::uint64_t> g_waits{0};
std::atomic<std::int64_t> g_waited_ns{0};
std::atomic<bool> g_test_hold{false};
std::mutex g_room_mutex;
std::condition_variable g_room;  // notified after every pass, and when the flusher stops

using Clock = std::chrono::steady_clock;

// After a failed pass, the next one waits at least this long (a full disk may have room again).
constexpr auto kRetryInterval = std::chrono::seconds(1);

}  // namespace

std::string rank_file_path(const std::string& file_path, int rank) {
    const std::filesystem::path path(file_path);
    std::filesystem::path name = path.stem();
    name += ".rank" + std::to_string(rank);
    name += path.has_extension() ? path.extension() : std::filesystem::path(".h5");
    return (path.parent_path() / name).string();
}

std::size_t flush_limit() noexcept { return g_flush_limit.load(std::memory_order_relaxed); }

std::uint32_t pending_block_limit() noexcept {
    return g_failing.load(std::memory_order_relaxed) ? 0
                                                     : g_pending_limit.load(std::memory_order_relaxed);
}

bool make_room(const std::atomic<std::uint32_t>& filled_count, std::uint32_t allowed) noexcept {
    request_flush();
    if (g_drop.load(std::memory_order_relaxed)) return false;
    const Clock::time_point began = Clock::now();
    g_waits_begun.fetch_add(1, std::memory_order_relaxed);
    try {
        std::unique_lock lock(g_room_mutex);
        // Timed waits: a notification may come between the check and the wait, and the bound
        // may go (the flusher stopped or failing) without one.
        while (filled_count.load(std::memory_order_relaxed) >= allowed && pending_block_limit() != 0) {
            g_room.wait_for(lock, std::chrono::milliseconds(10));
            request_flush();
        }
    } catch (...) {  // NOLINT(bugprone-empty-catch): a mutex error: record the call, do not wait
    }
    g_waits.fetch_add(1, std::memory_order_relaxed);
    g_waited_ns.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - began)
                              .count(),
                          std::memory_order_relaxed);
    return true;
}

BackpressureWaits backpressure_waits() noexcept {
    return {g_waits_begun.load(std::memory_order_relaxed), g_waits.load(std::memory_order_relaxed),
            g_waited_ns.load(std::memory_order_relaxed)};
}

void hold_flusher_for_tests(bool held) noexcept {
    g_test_hold.store(held, std::memory_order_relaxed);
}

void request_flush() noexcept { Flusher::instance().request(); }

std::int64_t last_complete_pass_began_ns() noexcept {
    return g_last_complete_pass.load(std::memory_order_acquire);
}

void watch_for_flush(Region& region) noexcept {
    if (flush_limit() == 0) return;
    try {
        Flusher::instance().watch(region);
    } catch (...) {
        // Out of memory, or the flusher stopped: the region's calls stay in memory, and
        // finalize() writes them with the rest.
    }
}

std::size_t device_flush_limit() noexcept {
    return g_device_flush_limit.load(std::memory_order_relaxed);
}

void hand_off_device(Region& region, std::shared_ptr<const DeviceIntervals> intervals) noexcept {
    try {
        Flusher::instance().enqueue(region, std::move(intervals));
    } catch (...) {
        // The batch stays in the region's device_awaiting_disk; finalize() writes it.
    }
}

struct Flusher::Impl {
    /// A region's resolved device intervals, handed off once it held device_flush_limit().
    struct DeviceBatch {
        Region* region = nullptr;
        std::shared_ptr<const DeviceIntervals> intervals;
    };

    std::mutex mutex;  // guards what follows, up to `thread`
    std::condition_variable wake;
    std::deque<DeviceBatch> queue;
    std::vector<Region*> watched;  // regions with timed calls this session, in first-use order
    std::unordered_set<Region*> watched_set;
    bool accepting = false;
    bool stopping = false;
    std::thread thread;
    std::atomic<bool> wanted{false};  // a thread reached a flush mark since the last pass began
    Clock::duration interval{};       // zero: no timed passes

    // The flusher thread's, and the caller's of drain()/rank_file() once the thread is joined.
    std::string path;
    Job job;
    std::unique_ptr<h5::RankFile> file;
    std::vector<DeviceBatch> failed;  // device batches written to no file yet (still awaiting disk)
    h5::RegionColumns columns;  // reused between passes
    std::vector<std::int64_t> durations;

    h5::RankFile& open_file();
    void ensure_thread();  // mutex held
    void run();
    bool pass(std::vector<DeviceBatch>& device, const std::vector<Region*>& regions);
    bool write_host(Region& region);
    bool write_device(const DeviceBatch& batch);
    bool append(const std::string& region_name);
    void stop();
};

Flusher::Flusher() : impl_(std::make_unique<Impl>()) {}

Flusher& Flusher::instance() {
    static Flusher* const flusher = new Flusher();  // never destroyed: see the header
    return *flusher;
}

void Flusher::start(const Config& config, const Job& job) {
    discard();
    Impl& f = *impl_;
    std::lock_guard lock(f.mutex);
    f.path = rank_file_path(config.file_path, job.rank);
    f.job = job;
    const bool flush = config.profiling_activated && config.time_trace && config.flush_to_disk;
    g_flush_limit.store(flush ? config.buffer_limit : 0, std::memory_order_relaxed);
    g_device_flush_limit.store(flush ? config.buffer_limit : 0, std::memory_order_relaxed);
    f.interval = std::chrono::milliseconds(config.flush_interval_ms);
    const std::size_t batch_blocks = (config.buffer_limit + kBlockCapacity - 1) / kBlockCapacity;
    g_pending_limit.store(flush ? static_cast<std::uint32_t>(std::clamp<std::size_t>(
                                      4 * batch_blocks, 64, UINT32_MAX / 2))
                                : 0,
                          std::memory_order_relaxed);
    g_drop.store(config.on_backpressure == Backpressure::drop, std::memory_order_relaxed);
    g_failing.store(false, std::memory_order_relaxed);
    g_waits_begun.store(0, std::memory_order_relaxed);
    g_waits.store(0, std::memory_order_relaxed);
    g_waited_ns.store(0, std::memory_order_relaxed);
    f.accepting = flush;
    f.stopping = false;
    g_last_complete_pass.store(0, std::memory_order_relaxed);
}

void Flusher::enqueue(Region& region, std::shared_ptr<const DeviceIntervals> intervals) {
    Impl& f = *impl_;
    std::lock_guard lock(f.mutex);
    if (!f.accepting) throw std::logic_error("the flusher is stopped");
    f.queue.push_back({&region, std::move(intervals)});
    f.ensure_thread();
    f.wake.notify_one();
}

void Flusher::watch(Region& region) {
    Impl& f = *impl_;
    std::lock_guard lock(f.mutex);
    if (!f.accepting) return;
    if (f.watched_set.insert(&region).second) f.watched.push_back(&region);
    f.ensure_thread();
}

void Flusher::request() noexcept {
    Impl& f = *impl_;
    // Between two passes only the first mark takes the lock: the flusher clears `wanted` when
    // a pass begins, and that pass takes whatever the threads hold then.
    if (f.wanted.exchange(true, std::memory_order_acq_rel)) return;
    try {
        std::lock_guard lock(f.mutex);
        f.wake.notify_one();
    } catch (...) {  // NOLINT(bugprone-empty-catch): the timed pass writes it instead
    }
}

void Flusher::Impl::ensure_thread() {
    if (!thread.joinable()) {
        thread = start_library_thread([this] { run(); });
    }
}

void Flusher::Impl::run() {
    std::unique_lock lock(mutex);
    const auto never = Clock::time_point::max();
    Clock::time_point due = interval == Clock::duration::zero() ? never : Clock::now() + interval;
    Clock::time_point retry_at = Clock::time_point::min();
    for (;;) {
        if (stopping) return;
        if (g_test_hold.load(std::memory_order_relaxed)) {
            wake.wait_for(lock, std::chrono::milliseconds(1));
            continue;
        }
        const bool asked = wanted.load(std::memory_order_acquire) || !queue.empty();
        const Clock::time_point next = asked ? retry_at : std::max(due, retry_at);
        if (Clock::now() < next) {
            if (next == never) {
                wake.wait(lock);
            } else {
                wake.wait_until(lock, next);
            }
            continue;
        }
        wanted.store(false, std::memory_order_release);
        std::vector<DeviceBatch> device(std::make_move_iterator(queue.begin()),
                                        std::make_move_iterator(queue.end()));
        queue.clear();
        const std::vector<Region*> regions = watched;  // grows only; the regions outlive the session
        lock.unlock();
        const Clock::time_point began = Clock::now();
        bool ok = false;
        try {
            ok = pass(device, regions);
        } catch (...) {
            // Out of memory: nothing of this pass was committed; the next one, or finalize(),
            // writes it.
        }
        if (ok) {
            g_last_complete_pass.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           began.time_since_epoch()).count(),
                                       std::memory_order_release);
        }
        g_room.notify_all();  // threads waiting for room (Backpressure::wait)
        due = interval == Clock::duration::zero() ? never : began + interval;
        retry_at = ok ? Clock::time_point::min() : Clock::now() + kRetryInterval;
        lock.lock();
    }
}

bool Flusher::Impl::pass(std::vector<DeviceBatch>& device, const std::vector<Region*>& regions) {
    bool ok = true;
    // Device batches that failed before first, then the new ones, oldest first.
    std::vector<DeviceBatch> batches;
    batches.swap(failed);
    batches.insert(batches.end(), std::make_move_iterator(device.begin()),
                   std::make_move_iterator(device.end()));
    for (DeviceBatch& batch : batches) {
        if (!write_device(batch)) {
            failed.push_back(std::move(batch));
            ok = false;
        }
    }
    for (Region* region : regions) ok = write_host(*region) && ok;
    return ok;
}

bool Flusher::Impl::append(const std::string& region_name) {
    try {
        open_file().append(columns);
    } catch (const std::exception& e) {
        if (!g_failing.load(std::memory_order_relaxed)) {
            log(LogLevel::error, "flushing region '" + format::name_for_message(region_name) + "' failed: " + e.what() +
                                     "; its intervals stay in memory and the flush is retried (at finalize() at "
                                     "the latest)");
        }
        g_failing.store(true, std::memory_order_relaxed);  // no bound: the calls stay in memory
        return false;
    }
    if (g_failing.load(std::memory_order_relaxed)) {
        log(LogLevel::info, "flushing to " + path + " works again");
        g_failing.store(false, std::memory_order_relaxed);
    }
    return true;
}

namespace {

void clear_columns(h5::RegionColumns& c) {
    c.start_times.clear();
    c.end_times.clear();
    c.thread_ids.clear();
    c.device_start_times.clear();
    c.device_end_times.clear();
    c.device_stream_ids.clear();
    c.device_host_fallback.clear();
}

}  // namespace

bool Flusher::Impl::write_host(Region& region) {
    const std::vector<PendingIntervals> pending = pending_of(region);
    if (pending.empty()) return true;
    clear_columns(columns);
    columns.name = region.name();
    for (const PendingIntervals& p : pending) {
        const std::size_t before = columns.start_times.size();
        p.for_each_run([&](const std::int64_t* start, const std::int64_t* end, std::uint32_t n) {
            columns.start_times.insert(columns.start_times.end(), start, start + n);
            columns.end_times.insert(columns.end_times.end(), end, end + n);
        });
        columns.thread_ids.insert(columns.thread_ids.end(), columns.start_times.size() - before,
                                  p.thread_index);
    }
    if (!append(columns.name)) return false;
    durations.resize(columns.start_times.size());
    std::transform(columns.end_times.begin(), columns.end_times.end(), columns.start_times.begin(),
                   durations.begin(), std::minus<>{});
    std::vector<Block*> done;
    try {
        done = commit_flushed(region, pending, durations);
    } catch (...) {
        // Out of memory for the summary: the intervals stay in memory, and finalize() writes
        // them again. Rare enough that counting them twice in the file beats losing them.
        return true;
    }
    for (Block* block : done) release_block(block);
    return true;
}

bool Flusher::Impl::write_device(const DeviceBatch& batch) {
    clear_columns(columns);
    columns.name = batch.region->name();
    columns.device_start_times = batch.intervals->start_times;
    columns.device_end_times = batch.intervals->end_times;
    columns.device_stream_ids = batch.intervals->stream_ids;
    columns.device_host_fallback = batch.intervals->host_fallback;
    if (!append(columns.name)) return false;
    durations.resize(columns.device_start_times.size());
    std::transform(columns.device_end_times.begin(), columns.device_end_times.end(),
                   columns.device_start_times.begin(), durations.begin(), std::minus<>{});
    try {
        commit_device_flushed(*batch.region, batch.intervals.get(), durations);
    } catch (...) {
        // As for host intervals: written twice rather than lost.
    }
    return true;
}

void Flusher::Impl::stop() {
    {
        std::lock_guard lock(mutex);
        accepting = false;
        stopping = true;
        g_pending_limit.store(0, std::memory_order_relaxed);  // no thread waits for it any more
        g_room.notify_all();
        queue.clear();  // the batches are still in their regions' device_awaiting_disk
        wake.notify_one();
    }
    if (thread.joinable()) thread.join();
    std::lock_guard lock(mutex);
    stopping = false;
    watched.clear();
    watched_set.clear();
    wanted.store(false, std::memory_order_relaxed);
    failed.clear();
    g_flush_limit.store(0, std::memory_order_relaxed);
    g_device_flush_limit.store(0, std::memory_order_relaxed);
}

void Flusher::discard() noexcept {
    Impl& f = *impl_;
    f.stop();
    if (f.file) {  // the session it belonged to is gone: so is its file
        f.file.reset();
        std::error_code ignored;
        std::filesystem::remove(f.path, ignored);
    }
}

void Flusher::drain() noexcept {
    // What is not on disk now is in memory (device batches in their regions'
    // device_awaiting_disk), and finalize() appends everything in memory to the rank file after
    // this.
    impl_->stop();
}

h5::RankFile& Flusher::Impl::open_file() {
    if (!file) file = std::make_unique<h5::RankFile>(path, job.rank, job.clock_offset_ns);
    return *file;
}

h5::RankFile* Flusher::rank_file(bool open) {
    if (open) impl_->open_file();
    return impl_->file.get();
}

void Flusher::release_rank_file() noexcept { impl_->file.reset(); }

}  // namespace scope_profiler::detail
