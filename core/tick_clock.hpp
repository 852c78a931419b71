#pragma once
// Config::clock = tsc: scopes record ticks of the invariant time-stamp counter (a read pair costs
// about 0.4 x a steady_clock pair), and TickClock maps ticks onto steady_clock nanoseconds
// wherever host intervals are read (for_each_run in core/pending.hpp: queries, the flusher,
// finalize()). Everything the library returns or writes stays on the steady_clock timeline.
//
// The map is piecewise linear through calibration points, each a counter reading and a
// steady_clock reading taken together (the best of 8 tries: the steady_clock read between the
// two closest counter reads). setup() takes two points 5 ms apart; every read of intervals first
// adds a point (at most one per 10 ms), so a recorded tick lies between two measured points, or
// less than 10 ms after the last one, where the last slope extrapolates.
// Between points steady_clock is taken as linear in the counter; a point that lies within
// kMergeNs of the line through its neighbours is merged away, so a long run keeps few points.
// A new point whose slope strays more than 0.1 % from the calibration's is refused (the kernel
// does not slew steady_clock that fast). Internal to core/.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace scope_profiler::detail {

/// The calibration, as the file's metadata and the tests see it.
struct TickCalibration {
    double ns_per_tick = 0;       ///< the slope of the latest segment
    std::size_t points = 0;       ///< calibration points kept
    std::int64_t widest_point_ns = 0;  ///< the widest pair of counter reads kept (a point's error is half of it at most)
    std::uint64_t refused = 0;    ///< points refused (preempted between the reads, or off the line)
    std::uint64_t added = 0;      ///< points added since setup(), merged ones included
};

class TickClock {
public:
    /// What a point may lie off the line through its neighbours and still be merged away.
    static constexpr std::int64_t kMergeNs = 5;

    static TickClock& instance() noexcept;

    /// Calibrates for a new session (about 5 ms); false, with the reason in `why_not`, where the
    /// counter cannot be used (no invariant counter, or a calibration that does not hold).
    bool start(std::string& why_not);
    /// The session reads steady_clock: nothing is converted.
    void stop() noexcept;
    [[nodiscard]] bool active() const noexcept;

    /// A calibration point now, unless the last one is younger than 10 ms.
    void refresh() noexcept;
    /// ticks[i] -> steady_clock ns (the arrays do not overlap).
    void to_ns(const std::int64_t* ticks, std::int64_t* ns, std::size_t n) const noexcept;
    [[nodiscard]] std::int64_t to_ns(std::int64_t ticks) const noexcept;
    [[nodiscard]] TickCalibration calibration() const;

    /// Tests: start() fails with this reason (nullptr: as the machine is). And refresh() adds a
    /// point however young the last one is.
    static void force_unusable_for_tests(const char* why) noexcept;
    static void refresh_always_for_tests(bool always) noexcept;

private:
    struct Point {
        std::int64_t ticks = 0;
        std::int64_t ns = 0;
        std::int64_t width_ticks = 0;
        double slope = 0;  ///< ns per tick to the next point (the last one: the previous slope)
    };
    static Point measure() noexcept;
    void append_locked(const Point& p);
    [[nodiscard]] std::int64_t convert_locked(std::int64_t ticks, std::size_t& segment) const noexcept;

    mutable std::mutex mutex_;
    std::vector<Point> points_;
    double calibrated_slope_ = 0;
    std::int64_t best_width_ticks_ = 0;
    std::uint64_t refused_ = 0;
    std::uint64_t added_ = 0;
    std::int64_t refresh_ticks_ = 0;  ///< 10 ms, in ticks
};

}  // namespace scope_profiler::detail
