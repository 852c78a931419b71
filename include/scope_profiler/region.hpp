#pragma once
/// @file region.hpp
/// @brief scope_profiler::Region, a named unit of measurement, and what can be asked of it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace scope_profiler {

namespace detail {
struct RegionAccess;
struct RegionState;
}  // namespace detail

/**
 * @brief Statistics of a set of durations, in nanoseconds.
 *
 * The standard deviation is the population one (numpy's default, ddof = 0); the percentiles
 * interpolate linearly between the two nearest ranks (numpy's default method). All fields are 0
 * when `count` is 0. Percentiles are exact while every interval is in memory; over intervals
 * already handed off to disk they come from a mergeable sketch, within 0.5 % relative error
 * (`percentiles_exact` says which). See docs/statistics.md.
 */
struct Stats {
    std::uint64_t count = 0;  ///< intervals summarized
    std::int64_t total = 0;   ///< sum of durations (saturates at INT64_MAX, 292 years)
    double mean = 0.0;        ///< total / count
    std::int64_t min = 0;     ///< shortest duration
    std::int64_t max = 0;     ///< longest duration
    double stddev = 0.0;      ///< population standard deviation
    double p50 = 0.0;         ///< median
    double p95 = 0.0;         ///< 95th percentile
    double p99 = 0.0;         ///< 99th percentile
    bool percentiles_exact = true;  ///< false: some intervals were flushed (0.5 % relative error)
};

/// @brief Every buffered host interval of a region, as parallel arrays in completion order.
struct HostIntervals {
    std::vector<std::int64_t> start_times;  ///< ns, std::chrono::steady_clock
    std::vector<std::int64_t> end_times;    ///< ns, std::chrono::steady_clock
    std::vector<std::int32_t> thread_ids;   ///< the profiler's index of the recording thread
};

/// @brief Every resolved device interval of a region, as parallel arrays in device start order.
struct DeviceIntervals {
    std::vector<std::int64_t> start_times;  ///< ns on the host steady_clock timeline
    std::vector<std::int64_t> end_times;    ///< ns on the host steady_clock timeline
    std::vector<std::int64_t> stream_ids;   ///< an id per CUDA stream (cudaStreamGetId where known)
    std::vector<std::uint8_t> host_fallback;  ///< 1 where no GPU timed the call (host timing instead)
};

/**
 * @brief A named region: every call of every scope, decorator or handle of that name.
 *
 * Regions are created by ProfileManager (on first use of a name) and live as long as the process,
 * so a `Region&` or `Region*` never dangles; ProfileManager::setup() clears their data instead.
 * Queries take a lock and copy; they are safe while other threads record, and see every call
 * that completed before the query began.
 * \code
 * if (const sp::Region* r = sp::ProfileManager::get_region("solver"))
 *     std::printf("%s: %llu calls\n", r->name().c_str(), (unsigned long long)r->num_calls());
 * \endcode
 */
class Region {
public:
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
    ~Region();

    /// @brief The region's name, exactly as first given.
    const std::string& name() const noexcept { return name_; }

    /// @brief Completed calls in the current session, from every thread. Open calls do not count.
    std::uint64_t num_calls() const;

    /// @brief Durations (end - start, ns) of the buffered calls, in completion order.
    std::vector<std::int64_t> get_durations() const;
    /// @brief Start times (ns, steady_clock) of the buffered calls, in completion order.
    std::vector<std::int64_t> get_start_times() const;
    /// @brief End times (ns, steady_clock) of the buffered calls, in completion order.
    std::vector<std::int64_t> get_end_times() const;
    /// @brief The thread index of each buffered call (same order as get_start_times()).
    std::vector<std::int32_t> get_thread_ids() const;
    /// @brief Starts, ends and threads of the buffered calls in one consistent snapshot.
    HostIntervals get_intervals() const;

    /// @brief Statistics of the host durations: count, total, mean, min, max, std, p50/p95/p99.
    Stats host_stats() const;

    /// @brief Device scopes of this region that have exited in this session (resolved or not).
    std::uint64_t num_device_calls() const noexcept;
    /**
     * @brief GPU durations (ns) of every device scope whose events have completed.
     * @param wait first wait for the pending ones (synchronizes on their end events); without
     *        it nothing blocks and scopes still running on the GPU are left out.
     */
    std::vector<std::int64_t> get_device_durations(bool wait = false) const;
    /// @brief Start, end, stream and fallback flag of every completed device scope.
    DeviceIntervals get_device_intervals(bool wait = false) const;
    /// @brief Statistics of the completed device durations (fallback intervals included).
    Stats device_stats(bool wait = false) const;

private:
    friend struct detail::RegionAccess;  // the library's one way in (detail/runtime.hpp)
    Region(std::string name, std::uint64_t hash, std::uint32_t id);

    // Read on every call, so held here and not behind state_ (no pointer chase): the id by the
    // inlined hot path (detail/runtime.hpp), the hash and the session by look-ups by name
    // (profile_region(name)), the NVTX attributes by every scope of an NVTX session.
    std::uint32_t id_;  // dense index: the slot of this region in each thread's recorder cache
    std::uint64_t hash_;
    std::string name_;
    std::atomic<std::uint64_t> session_{0};  // the session this region is listed in
    mutable std::atomic<const void*> nvtx_{nullptr};  // this region's NVTX attributes, made once
    // The rest, made with the region: its recorders, device intervals, what left memory, and
    // their locks (core/region_state.hpp).
    std::unique_ptr<detail::RegionState> state_;
};

}  // namespace scope_profiler
