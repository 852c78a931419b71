#pragma once
/// @file config.hpp
/// @brief The profiler's configuration: scope_profiler::Config.

#include <cstddef>
#include <string>

namespace scope_profiler {

/// What a recording thread does when the disk cannot keep up with it (Config::on_backpressure).
enum class Backpressure {
    /// It waits for the flusher before it records more: nothing is lost, the waits are counted
    /// and reported at finalize().
    wait,
    /// It drops the call: the thread never waits; the dropped calls are counted and reported.
    drop,
};

/// What scopes read the time from (Config::clock). Either way every time the library returns or
/// writes is steady_clock nanoseconds.
enum class Clock {
    /// std::chrono::steady_clock, read at both ends of every call.
    steady,
    /// The invariant time-stamp counter (rdtsc on x86-64, cntvct_el0 on AArch64), mapped onto
    /// steady_clock nanoseconds by a calibration taken at setup() and refreshed while the run
    /// goes on. About half the cost of `steady` per call; where the counter is not usable,
    /// setup() says why once and uses `steady`. See docs/configuration.md.
    tsc,
};

/**
 * @brief What the profiler records and where it writes, chosen once at ProfileManager::setup().
 *
 * The fields and their defaults are those of the Python scope-profiler, plus `use_nvtx`,
 * `flush_interval_ms` and `finalize_on_signal`.
 * Designated initializers keep call sites readable:
 * \code
 * sp::ProfileManager::setup({.time_trace = true, .flush_to_disk = false});
 * \endcode
 */
struct Config {
    /// Record anything at all. `false` turns every region into a no-op (near zero cost).
    bool profiling_activated = true;
    /// Record a start/end timestamp pair per call. `false` counts calls only.
    bool time_trace = true;
    /// Write what the threads record to this rank's HDF5 file during the run, from a background
    /// thread (see docs/configuration.md). `false`: everything stays in memory until finalize().
    bool flush_to_disk = true;
    /// With `flush_to_disk`: each time a thread has recorded this many calls of a region, they
    /// go to disk (the Python library's meaning).
    std::size_t buffer_limit = 100000;
    /// The merged HDF5 file written by ProfileManager::finalize().
    std::string file_path = "profiling_data.h5";
    /// Emit an NVTX range for every region (device builds; ignored where NVTX is absent).
    bool use_nvtx = true;
    /// With `flush_to_disk`: also write whatever every thread has recorded at least this often
    /// (milliseconds), so a killed run loses at most the last interval's calls. 0: only
    /// `buffer_limit` triggers a flush.
    std::size_t flush_interval_ms = 1000;
    /// On SIGTERM, SIGINT or SIGHUP, finish the file before the signal takes its usual course
    /// (the previous handler, or the default action). See docs/configuration.md.
    bool finalize_on_signal = true;
    /// With `flush_to_disk`: what a thread does once it holds more calls of a region that are
    /// not on disk yet than memory is allowed for (max(4 x buffer_limit, 65,280) calls), because
    /// the disk (or the flusher's core) cannot keep up. See docs/configuration.md.
    Backpressure on_backpressure = Backpressure::wait;
    /// What scopes read the time from: `steady` (the default) or `tsc` (cheaper, calibrated onto
    /// steady_clock). See docs/configuration.md.
    Clock clock = Clock::steady;

    /**
     * @brief `base` with every `SCOPE_PROFILER_*` environment variable that is set applied on top.
     *
     * Variables: `SCOPE_PROFILER_PROFILING_ACTIVATED`, `SCOPE_PROFILER_TIME_TRACE`,
     * `SCOPE_PROFILER_FLUSH_TO_DISK`, `SCOPE_PROFILER_USE_NVTX`,
     * `SCOPE_PROFILER_FINALIZE_ON_SIGNAL` (booleans: 1/0, true/false, on/off, yes/no, any case),
     * `SCOPE_PROFILER_BUFFER_LIMIT` (a positive integer), `SCOPE_PROFILER_FLUSH_INTERVAL_MS` (an
     * integer, 0 included), `SCOPE_PROFILER_ON_BACKPRESSURE` (`wait` or `drop`),
     * `SCOPE_PROFILER_CLOCK` (`steady` or `tsc`) and
     * `SCOPE_PROFILER_FILE_PATH`. An unset or empty variable leaves the field as it is.
     * @throws std::invalid_argument naming the variable when a value cannot be parsed.
     * \code
     * // the program's choice, which SCOPE_PROFILER_PROFILING_ACTIVATED=0 can still switch off
     * sp::ProfileManager::setup(sp::Config::from_env({.flush_to_disk = false}));
     * \endcode
     */
    static Config from_env(Config base);
    /// @brief The defaults with the environment applied: `from_env(Config{})`.
    static Config from_env();

    /// @brief Throws std::invalid_argument with the reason when a field holds an unusable value.
    void validate() const;
};

}  // namespace scope_profiler
