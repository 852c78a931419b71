// The session's lifecycle: setup(), finalize() (also on a termination signal, and at exit when
// the program never called it), and the session state every scope reads (g_session).
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>

#include "device_backend.hpp"
#include "diagnostics.hpp"
#include "flusher.hpp"
#include "fork_child.hpp"
#include "format/names.hpp"
#include "h5_writer.hpp"
#include "job.hpp"
#include "library_threads.hpp"
#include "output.hpp"
#include "region_state.hpp"
#include "registry.hpp"
#include "signals.hpp"
#include "stats.hpp"
#include "summary.hpp"
#include "tick_clock.hpp"

namespace scope_profiler::detail {

constinit SessionWord g_session;

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
            RegionState& state = RegionAccess::state(*region);
            std::lock_guard region_lock(state.mutex);
            if (!recorders_free)
                for (auto& recorder : state.recorders) retired_.push_back(std::move(recorder));
            state.recorders.clear();
            state.dropped.store(0, std::memory_order_relaxed);
            state.backpressure_dropped.store(0, std::memory_order_relaxed);
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
        const RegionState& state = RegionAccess::state(*region);
        const std::uint64_t dropped = state.dropped.load(std::memory_order_relaxed);
        if (dropped > 0) {
            log(LogLevel::warning, std::to_string(dropped) + " calls of region '" + format::name_for_message(region->name()) +
                                       "' were lost: memory ran out while recording");
        }
        const std::uint64_t not_kept = state.backpressure_dropped.load(std::memory_order_relaxed);
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

}  // namespace scope_profiler::detail
