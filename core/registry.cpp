#include "registry.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "block_pool.hpp"
#include "device_backend.hpp"
#include "flusher.hpp"
#include "fork_child.hpp"
#include "format/names.hpp"
#include "h5_writer.hpp"
#include "job.hpp"
#include "library_threads.hpp"
#include "output.hpp"
#include "quiescence.hpp"
#include "signals.hpp"
#include "stats.hpp"
#include "summary.hpp"
#include "diagnostics.hpp"
#include "tick_clock.hpp"

namespace scope_profiler::detail {

constinit SessionWord g_session;
thread_local constinit ThreadCache t_cache;

// Open addressing, linear probing, load factor at most 1/2. Readers probe without a lock;
// a slot, once set, never changes, and a table that is replaced stays alive (tables_).
struct Registry::Table {
    explicit Table(std::size_t capacity)
        : mask(capacity - 1), slots(new std::atomic<Region*>[capacity]) {
        for (std::size_t i = 0; i < capacity; ++i) slots[i].store(nullptr, std::memory_order_relaxed);
    }
    std::size_t mask;
    std::unique_ptr<std::atomic<Region*>[]> slots;
    std::size_t used = 0;  // writers only, under the registry mutex
};

namespace {

// A new session state: the next epoch with `mode` (under the registry mutex).
void next_state(Mode mode, bool nvtx = false, bool tsc = false) noexcept {
    const std::uint32_t epoch = (g_session.word.load(std::memory_order_relaxed) >> 8) + 1;
    g_session.word.store((epoch << 8) | static_cast<std::uint32_t>(mode) | (nvtx ? kNvtxFlag : 0u) |
                            (tsc ? kTscFlag : 0u),
                        std::memory_order_release);
}

/// Whether this session's scopes read the time-stamp counter: Config::clock, where the counter
/// is usable (else one warning and steady_clock). The old session's recorders are gone: no
/// tick of it is read again.
bool start_clock(const Config& config, Mode mode) {
    TickClock& clock = TickClock::instance();
    if (mode != Mode::time || config.clock != Clock::tsc) {
        clock.stop();
        return false;
    }
    std::string why_not;
    if (clock.start(why_not)) return true;
    log(LogLevel::warning, "clock=tsc: " + why_not + "; scopes read steady_clock");
    return false;
}

}  // namespace

void end_session_in_fork_child() noexcept { next_state(Mode::off); }

namespace {

std::uint64_t hash_name(std::string_view name) noexcept { return std::hash<std::string_view>{}(name); }

// Releases a thread's cache when the thread ends; the data it recorded stays with the regions.
struct ThreadGuard {
    ThreadGuard() { Registry::instance().add_thread(&t_cache); }
    ~ThreadGuard() {
        Registry::instance().remove_thread(&t_cache);
        delete[] t_cache.slots;
        t_cache.slots = nullptr;
        t_cache.n_slots = 0;
    }
};

}  // namespace

Registry::Registry() {
    tables_.push_back(std::make_unique<Table>(256));
    table_.store(tables_.back().get(), std::memory_order_release);
}

Registry& Registry::instance() {
    static Registry* const registry = new Registry();  // leaked on purpose: see the header
    return *registry;
}

Region* Registry::find_in(const Table& table, std::string_view name,
                          std::uint64_t hash) const noexcept {
    for (std::size_t i = hash & table.mask;; i = (i + 1) & table.mask) {
        Region* region = table.slots[i].load(std::memory_order_acquire);
        if (region == nullptr) return nullptr;
        if (region->hash_ == hash && region->name_ == name) return region;
    }
}

Region* Registry::find(std::string_view name) const noexcept {
    return find_in(*table_.load(std::memory_order_acquire), name, hash_name(name));
}

void Registry::insert(Table& table, Region* region) noexcept {
    std::size_t i = region->hash_ & table.mask;
    while (table.slots[i].load(std::memory_order_relaxed) != nullptr) i = (i + 1) & table.mask;
    table.slots[i].store(region, std::memory_order_release);
    ++table.used;
}

Region& Registry::get_or_create(std::string_view name) {
    if (name.empty()) throw_empty_name();
    const std::uint64_t hash = hash_name(name);
    if (Region* found = find_in(*table_.load(std::memory_order_acquire), name, hash)) return *found;

    std::lock_guard lock(mutex_);
    Table* table = table_.load(std::memory_order_relaxed);
    if (Region* found = find_in(*table, name, hash)) return *found;  // created meanwhile
    if (regions_.size() >= UINT32_MAX) throw std::length_error("scope_profiler: too many regions");
    regions_.push_back(std::unique_ptr<Region>(
        new Region(std::string(name), hash, static_cast<std::uint32_t>(regions_.size()))));
    Region* region = regions_.back().get();
    if (2 * (table->used + 1) > table->mask + 1) {
        auto bigger = std::make_unique<Table>(2 * (table->mask + 1));
        for (const auto& r : regions_) insert(*bigger, r.get());
        tables_.push_back(std::move(bigger));
        table_.store(tables_.back().get(), std::memory_order_release);
    } else {
        insert(*table, region);
    }
    return *region;
}

void Registry::activate(Region& region) {
    std::lock_guard lock(mutex_);
    const std::uint64_t session = session_.load(std::memory_order_relaxed);
    if (region.session_.load(std::memory_order_relaxed) == session) return;
    listed_.push_back(&region);
    region.session_.store(session, std::memory_order_relaxed);
}

ThreadRecorder* Registry::attach(Region& region, std::int32_t thread_index, bool timed) noexcept {
    try {
        auto recorder = std::make_unique<ThreadRecorder>(&region, thread_index);
        if (timed) {
            Block* first = acquire_block();
            if (first == nullptr) return nullptr;
            recorder->begin(first);
        }
        ThreadRecorder* raw = recorder.get();
        {
            std::lock_guard lock(region.mutex_);
            region.recorders_.push_back(std::move(recorder));
        }
        if (!listed(region)) activate(region);
        if (timed) watch_for_flush(region);
        return raw;
    } catch (...) {  // std::bad_alloc or std::system_error from a mutex
        return nullptr;
    }
}

void Registry::add_thread(ThreadCache* cache) {
    std::lock_guard lock(threads_mutex_);
    threads_.push_back(cache);
    cache->thread_index = next_thread_index_++;
}

void Registry::remove_thread(ThreadCache* cache) noexcept {
    std::lock_guard lock(threads_mutex_);
    std::erase(threads_, cache);
}

bool Registry::wait_until_no_thread_holds_a_recorder() const noexcept {
    if (!barrier_on_every_thread()) return false;
    for (;;) {
        bool marked = false;
        {
            // Looked at under the lock, so that no thread's cache goes away meanwhile; released
            // between looks, so that an ending thread is not held up.
            std::lock_guard lock(threads_mutex_);
            for (const ThreadCache* cache : threads_)
                marked = marked || (cache != &t_cache &&
                                    cache->recording.load(std::memory_order_acquire) != 0);
        }
        if (!marked) return true;
        std::this_thread::yield();  // a marked thread is a few instructions from its end
    }
}

namespace {

// A program that never calls finalize() still gets its file, at normal exit, with a warning.
void finalize_at_exit() {
    if (in_fork_child()) return;  // the parent's session: not this process's to write
    Registry& registry = Registry::instance();
    if (!registry.active()) return;
    log(LogLevel::warning, "finalize() was not called; writing " + registry.config().file_path + " at exit");
    registry.finalize(false, kEndedByExit);
}

// SIGTERM, SIGINT or SIGHUP (on the signal watcher's thread, not in a signal handler): the file
// is finished, then the signal takes its usual course (core/signals.cpp).
void finish_on_signal(int signo) { Registry::instance().finalize_on_signal(signo); }

}  // namespace

void Registry::setup(const Config& config) {
    if (in_fork_child()) {
        warn_in_fork_child("setup()");
        return;
    }
    config.validate();
    // A file that cannot be written is found now, not after hours of work.
    if (config.profiling_activated) h5::check_writable(config.file_path);
    // HDF5 first, so its exit handler (which closes the library) runs after ours (which writes
    // the file): otherwise a flusher's first write could initialize HDF5 after this point, and
    // at exit the file would be written with HDF5 already closed.
    h5::open_library();
    handle_fork();
    static const bool at_exit_registered = std::atexit(finalize_at_exit) == 0;
    (void)at_exit_registered;
    // Collective under MPI (every rank calls setup()): rank, size and the clock offset to rank 0.
    const Job job = join_job();
    setup_locked(config, job);
    // The thread that sets up is the program's too (main(), usually, which may pthread_exit()).
    if (config.profiling_activated) watch_for_last_program_thread();
    // Outside the registry's lock: stopping the watcher waits for it, and it may be finalizing.
    if (config.profiling_activated && config.finalize_on_signal) {
        try {
            watch_termination_signals(finish_on_signal);
        } catch (const std::exception& e) {
            log(LogLevel::warning,
                std::string(e.what()) + "; SIGTERM, SIGINT and SIGHUP will end the run without its file");
        }
    } else {
        stop_watching_termination_signals();
    }
}

void Registry::setup_locked(const Config& config, const Job& job) {
    std::lock_guard one_at_a_time(setup_mutex_);  // another setup() must not free what we wait on
    {
        std::lock_guard lock(mutex_);
        next_state(Mode::off);  // every thread's cache is stale now, and open calls are dropped
    }
    // A thread may have read the old state just before and still write to its recorder: the
    // recorders go only once none does.
    const bool recorders_free = wait_until_no_thread_holds_a_recorder();
    std::lock_guard lock(mutex_);
    session_.fetch_add(1, std::memory_order_relaxed);
    device_on_setup();
    // Before the recorders go: queued batches name them.
    Flusher::instance().discard();
    for (const auto& region : regions_) {
        {
            std::lock_guard region_lock(region->mutex_);
            if (!recorders_free)
                for (auto& recorder : region->recorders_) retired_.push_back(std::move(recorder));
            region->recorders_.clear();
            region->dropped_.store(0, std::memory_order_relaxed);
            region->backpressure_dropped_.store(0, std::memory_order_relaxed);
        }
        clear_device_data(*region);
        clear_flushed(*region);
    }
    listed_.clear();
    config_ = config;
    job_ = job;
    if (config.profiling_activated) Flusher::instance().start(config, job);
    set_up_ = true;
    finalized_ = false;
#if defined(SCOPE_PROFILER_DISABLE)
    const Mode mode = Mode::off;  // compiled out: the library never records
#else
    const Mode mode = !config.profiling_activated ? Mode::off
                      : config.time_trace         ? Mode::time
                                                  : Mode::count;
#endif
    const bool nvtx = mode != Mode::off && config.use_nvtx && nvtx_prepare();
    next_state(mode, nvtx, start_clock(config, mode));
}

Config Registry::config() const {
    std::lock_guard lock(mutex_);
    return config_;
}

bool Registry::active() const {
    std::lock_guard lock(mutex_);
    return set_up_ && !finalized_;
}

RegionList Registry::regions() const {
    std::lock_guard lock(mutex_);
    RegionList list;
    list.reserve(listed_.size());
    for (const Region* region : listed_) list.emplace_back(region->name(), region);
    return list;
}

void Registry::report_open_scopes() const {
    std::lock_guard lock(threads_mutex_);
    for (const ThreadCache* cache : threads_) {
        const std::uint32_t depth = cache->depth.load(std::memory_order_relaxed);
        for (std::uint32_t level = 0; level < std::min(depth, kMaxTrackedDepth); ++level) {
            const Region* region = cache->open[level].load(std::memory_order_relaxed);
            log(LogLevel::warning, "region '" + format::name_for_message(region->name()) +
                                       "' is still open at finalize() on thread " +
                                       std::to_string(cache->thread_index) + "; that call is not counted");
        }
        if (depth > kMaxTrackedDepth) {
            log(LogLevel::warning, std::to_string(depth - kMaxTrackedDepth) + " more scopes are still open on thread " +
                                       std::to_string(cache->thread_index) + "; those calls are not counted");
        }
    }
}

void Registry::finalize(bool verbose, std::string_view ended_by) {
    if (in_fork_child()) {
        warn_in_fork_child("finalize()");
        return;
    }
    if (finalize_locked(verbose, ended_by, /*collective=*/true, /*quiet_when_done=*/false))
        stop_watching_termination_signals();  // outside the lock: the watcher may be waiting for it
}

void Registry::finalize_on_signal(int signo) {
    const std::string name = signal_name(signo);
    // Under MPI the other ranks may not have the signal (or may be gone): no collective call.
    finalize_locked(/*verbose=*/true, name, /*collective=*/false, /*quiet_when_done=*/true);
}

bool Registry::finalize_locked(bool verbose, std::string_view ended_by, bool collective,
                               bool quiet_when_done) {
    std::lock_guard lock(mutex_);
    if (quiet_when_done && (!set_up_ || finalized_)) return false;
    if (!set_up_) {
        log(LogLevel::warning,
            "finalize() called before setup(): nothing was profiled (call ProfileManager::setup() first)");
        return false;
    }
    if (finalized_) {
        log(LogLevel::warning, "finalize() called again: this session was finalized already "
                               "(call ProfileManager::setup() to start a new one)");
        return false;
    }
    if (!collective) {
        log(LogLevel::info, std::string(ended_by) + ": writing " +
                                (job_.mpi ? rank_file_path(config_.file_path, job_.rank) : config_.file_path) +
                                " before the signal takes its course");
    }
    // From here on, scopes record nothing: those still open are dropped at their exit.
    next_state(Mode::off);
    finalized_ = true;
    report_open_scopes();
    resolve_device_intervals(true);  // every device scope that exited has finished by now
    if (const std::uint64_t failed = device_intervals_failed(); failed > 0) {
        log(LogLevel::warning,
            std::to_string(failed) + " device intervals were lost to failing CUDA calls (reported above)");
    }

    if (const BackpressureWaits waits = backpressure_waits(); waits.count > 0) {
        log(LogLevel::warning, "the disk could not keep up: recording threads waited for the flusher " +
                                   std::to_string(waits.count) + " times, " +
                                   std::to_string(waits.total_ns / 1'000'000) +
                                   " ms in all (on_backpressure = wait: nothing was lost; the waits fall "
                                   "inside the enclosing regions)");
    }
    std::vector<RegionSummary> summaries;
    summaries.reserve(listed_.size());
    for (const Region* region : listed_) {
        const std::uint64_t dropped = region->dropped_.load(std::memory_order_relaxed);
        if (dropped > 0) {
            log(LogLevel::warning, std::to_string(dropped) + " calls of region '" + format::name_for_message(region->name()) +
                                       "' were lost: memory ran out while recording");
        }
        const std::uint64_t not_kept =
            region->backpressure_dropped_.load(std::memory_order_relaxed);
        if (not_kept > 0) {
            log(LogLevel::warning, std::to_string(not_kept) + " calls of region '" +
                                       format::name_for_message(region->name()) +
                                       "' were dropped: the disk could not keep up (on_backpressure = drop)");
        }
        summaries.push_back(summarize(*region, config_.time_trace));
    }
    if (verbose) TextSummaryWriter(std::cout).write(summaries);
    if (config_.profiling_activated) {
        write_session_file(config_, job_, std::vector<const Region*>(listed_.begin(), listed_.end()),
                           {.ended_by = std::string(ended_by), .collective = collective});
    }
    return true;
}

// ---- the slow paths of the hot path (declared in detail/runtime.hpp) ----

void register_thread() noexcept {
    ThreadCache& cache = t_cache;
    if (cache.registered) return;
    try {
        thread_local ThreadGuard guard;
        cache.registered = true;
        watch_for_last_program_thread();
    } catch (...) {
        // Out of memory: the thread records anyway, but finalize() cannot name its open scopes.
    }
}

void count_dropped(Region& region) noexcept {
    RegionAccess::dropped(region).fetch_add(1, std::memory_order_relaxed);
}

void record_slow(Region& region, std::int64_t start, std::int64_t end,
                 std::uint32_t state) noexcept {
    // A call that started before the current setup() or finalize() belongs to no session.
    if (!same_session(state)) return;
    ThreadCache& cache = t_cache;
    if (!cache.registered) register_thread();
    if (cache.state != state) {
        std::fill_n(cache.slots, cache.n_slots, nullptr);
        cache.state = state;
    }
    const std::uint32_t id = RegionAccess::id(region);
    if (id >= cache.n_slots) {
        const std::uint32_t size = std::max({2 * cache.n_slots, id + 1, 64u});
        auto* slots = new (std::nothrow) ThreadRecorder*[size];
        if (slots == nullptr) {
            count_dropped(region);
            return;
        }
        std::copy_n(cache.slots, cache.n_slots, slots);
        std::fill(slots + cache.n_slots, slots + size, nullptr);
        delete[] cache.slots;
        cache.slots = slots;
        cache.n_slots = size;
    }
    const bool timed = mode_of(state) == Mode::time;
    ThreadRecorder*& slot = cache.slots[id];
    if (slot == nullptr) {
        slot = Registry::instance().attach(region, cache.thread_index, timed);
        if (slot == nullptr) {
            count_dropped(region);
            return;
        }
    }
    if (!timed) {
        bump_calls(slot);
    } else if (!push_interval(slot, start, end)) {
        count_dropped(region);
    }
}

// ---- ThreadRecorder ----

ThreadRecorder::~ThreadRecorder() {
    for (Block* block : full) release_block(block);
    release_block(current);
}

namespace {

// The block's limit: the size at which the owner's next call takes the slow path (the block is
// full, or that call ends a batch). next_mark >= base + the block's size, always.
std::uint32_t limit_in(std::uint64_t base, std::uint64_t next_mark) noexcept {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(kBlockCapacity, next_mark - base));
}

}  // namespace

void ThreadRecorder::begin(Block* first) noexcept {
    current = first;
    current_base = 0;
    const std::size_t every = flush_limit();
    next_mark = every == 0 ? UINT64_MAX : every - 1;  // the last call of the first batch
    first->limit = limit_in(current_base, next_mark);
}

bool ThreadRecorder::push_at_limit(std::int64_t start, std::int64_t end) noexcept {
    Block* block = current;
    std::uint32_t n = block->size.load(std::memory_order_relaxed);
    if (n == kBlockCapacity) {
        // More full blocks not on disk than allowed: the disk cannot keep up (back-pressure).
        const std::uint32_t allowed = pending_block_limit();
        if (allowed != 0 && full_blocks.load(std::memory_order_relaxed) >= allowed &&
            !make_room(full_blocks, allowed)) {
            RegionAccess::backpressure_dropped(*region).fetch_add(1, std::memory_order_relaxed);
            return true;  // dropped, and counted as such
        }
        Block* fresh = acquire_block();
        if (fresh == nullptr) return false;  // the block stays full: the next call tries again
        try {
            std::lock_guard lock(mutex);
            full.push_back(block);
            full_blocks.store(static_cast<std::uint32_t>(full.size()), std::memory_order_relaxed);
            current = fresh;
        } catch (...) {
            release_block(fresh);
            return false;
        }
        current_base += kBlockCapacity;
        block = fresh;
        n = 0;
    }
    block->start[n] = start;
    block->end[n] = end;
    block->size.store(n + 1, std::memory_order_release);
    bump_calls(this);
    if (current_base + n == next_mark) {
        // This call ends a batch of buffer_limit: the batch goes to disk now, off this thread.
        // (Never at or below this call: the flusher may have stopped, flush_limit() is 0 then.)
        const std::size_t every = flush_limit();
        next_mark = every == 0 ? UINT64_MAX : next_mark + every;
        request_flush();
    }
    block->limit = limit_in(current_base, next_mark);
    return true;
}

// ---- the public entry points that live in the registry ----

void throw_empty_name() {
    throw std::invalid_argument(
        "scope_profiler: a region name must not be empty (it is the region's identity)");
}

Region* resolve_site(CallSite& site, std::string_view name) {
    Registry& registry = Registry::instance();
    Region& region = registry.get_or_create(name);
    if (!registry.listed(region)) registry.activate(region);
    site.region.store(&region, std::memory_order_release);
    return &region;
}

Region* region_for_scope(std::string_view name) {
    if (current_mode() == Mode::off) {
        if (name.empty()) throw_empty_name();
        return nullptr;
    }
    Registry& registry = Registry::instance();
    Region& region = registry.get_or_create(name);
    if (!registry.listed(region)) registry.activate(region);
    return &region;
}

}  // namespace scope_profiler::detail
