#include "tick_clock.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "scope_profiler/detail/runtime.hpp"

namespace scope_profiler::detail {

namespace {

std::atomic<bool> g_active{false};
std::atomic<const char*> g_forced_unusable{nullptr};
std::atomic<bool> g_refresh_always{false};

/// Why the counter cannot be used here; "" when it can.
std::string counter_unusable() {
    if (const char* forced = g_forced_unusable.load()) return forced;
#if defined(__x86_64__)
    // Linux sets constant_tsc and nonstop_tsc from CPUID's invariant-TSC bit (and on VMs whose
    // host says so): the counter then ticks at one rate in every P- and C-state, on every core.
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("flags", 0) != 0) continue;
        std::istringstream words(line);
        bool constant = false, nonstop = false;
        for (std::string word; words >> word;) {
            constant = constant || word == "constant_tsc";
            nonstop = nonstop || word == "nonstop_tsc";
        }
        if (constant && nonstop) return "";
        return "the CPU's time-stamp counter is not invariant (no constant_tsc and nonstop_tsc in /proc/cpuinfo)";
    }
    return "cannot read /proc/cpuinfo to tell whether the time-stamp counter is invariant";
#elif defined(__aarch64__)
    return "";  // the generic timer's virtual count: constant rate by the architecture
#else
    return "this platform has no invariant counter the library can read";
#endif
}

/// dt x slope rounded to the nearest integer, ties to even (the default rounding mode).
std::int64_t scaled(std::int64_t dt, double slope) noexcept {
    return std::llrint(static_cast<double>(dt) * slope);
}

constexpr double kTwo52 = 0x1p52;
constexpr std::uint64_t kTwo52Bits = std::bit_cast<std::uint64_t>(kTwo52);

/// dt as a double, exactly, for dt < 2^52: the bits of 2^52 + dt, less 2^52.
inline double exact_double(std::uint64_t dt) noexcept { return std::bit_cast<double>(dt | kTwo52Bits) - kTwo52; }

/// x rounded to the nearest integer, ties to even, for 0 <= x < 2^51: added to 2^52, x keeps
/// only its integer part in the mantissa (what llrint gives, as scaled() does).
inline std::int64_t nearest(double x) noexcept {
    return static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(x + kTwo52) - kTwo52Bits);
}

/// ns[i] = at + (ticks[i] - from) x slope, rounded as scaled() does; false (ns then undefined)
/// where a tick lies before `from` or more than `limit` ticks after it.
[[gnu::always_inline]] inline bool line_loop(const std::int64_t* __restrict ticks, std::int64_t* __restrict ns,
                                             std::size_t n, std::uint64_t from, std::uint64_t limit,
                                             std::int64_t at, double slope) noexcept {
    std::uint64_t outside = 0;  // its top bit: some tick is before `from`, or past `limit`
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t dt = static_cast<std::uint64_t>(ticks[i]) - from;
        outside |= dt | (limit - dt);
        ns[i] = at + nearest(exact_double(dt) * slope);
    }
    return (outside >> 63) == 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
// The same loop for AVX2, four values per instruction instead of SSE2's two; chosen at run
// time (not by an ifunc, which runs before the sanitizers' runtimes are ready).
[[gnu::target("avx2")]] bool line_loop_avx2(const std::int64_t* ticks, std::int64_t* ns, std::size_t n,
                                            std::uint64_t from, std::uint64_t limit, std::int64_t at,
                                            double slope) noexcept {
    return line_loop(ticks, ns, n, from, limit, at, slope);
}
#endif

bool along_line(const std::int64_t* ticks, std::int64_t* ns, std::size_t n, std::uint64_t from,
                std::uint64_t limit, std::int64_t at, double slope) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
    static const bool avx2 = __builtin_cpu_supports("avx2");
    if (avx2) return line_loop_avx2(ticks, ns, n, from, limit, at, slope);
#endif
    return line_loop(ticks, ns, n, from, limit, at, slope);
}

/// The largest distance in ticks from a point that exact_double() and nearest() convert for a
/// segment of `slope` ns per tick and `length` ticks (0 where they cannot: a slope that is not
/// a positive number, which no calibration gives).
std::uint64_t fast_span(double slope, std::int64_t length) noexcept {
    if (!(slope > 0) || !std::isfinite(slope) || length < 0) return 0;
    const double most = std::min(0x1p51 / slope, 0x1p51);
    return std::min(static_cast<std::uint64_t>(length), static_cast<std::uint64_t>(most));
}

}  // namespace

TickClock& TickClock::instance() noexcept {
    // Never destroyed: the write at exit (a program that did not call finalize()) reads blocks
    // after static destructors have begun, and this was made after that handler was registered.
    static TickClock* const clock = new TickClock;
    return *clock;
}

TickClock::Point TickClock::measure() noexcept {
    Point best;
    best.width_ticks = std::numeric_limits<std::int64_t>::max();
    for (int i = 0; i < 8; ++i) {
        const std::int64_t before = read_ticks();
        const std::int64_t ns = now_ns();
        const std::int64_t after = read_ticks();
        if (after - before < best.width_ticks) {
            best.width_ticks = after - before;
            best.ticks = before + (after - before) / 2;
            best.ns = ns;
        }
    }
    return best;
}

bool TickClock::start(std::string& why_not) {
    stop();
    why_not = counter_unusable();
    if (!why_not.empty()) return false;
    for (int attempt = 0; attempt < 3; ++attempt) {
        const Point first = measure();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        const Point second = measure();
        const double slope = static_cast<double>(second.ns - first.ns) / static_cast<double>(second.ticks - first.ticks);
        // A counter between 10 MHz and 10 GHz, and two points read closely (not preempted).
        const bool sane = second.ticks > first.ticks && std::isfinite(slope) && slope >= 0.1 && slope <= 100.0 &&
                          static_cast<double>(std::max(first.width_ticks, second.width_ticks)) * slope < 2000.0;
        if (!sane) continue;
        std::lock_guard lock(mutex_);
        points_.clear();
        refused_ = 0;
        added_ = 2;
        calibrated_slope_ = slope;
        best_width_ticks_ = std::min(first.width_ticks, second.width_ticks);
        refresh_ticks_ = static_cast<std::int64_t>(1e7 / slope);
        points_.push_back(first);
        points_.back().slope = slope;
        points_.push_back(second);
        points_.back().slope = slope;
        g_active.store(true, std::memory_order_release);
        return true;
    }
    why_not = "the time-stamp counter and steady_clock did not agree in 3 calibrations of 5 ms";
    return false;
}

void TickClock::stop() noexcept { g_active.store(false, std::memory_order_release); }

bool TickClock::active() const noexcept { return g_active.load(std::memory_order_acquire); }

void TickClock::refresh() noexcept {
    if (!active()) return;
    {
        std::lock_guard lock(mutex_);
        if (points_.empty()) return;
        if (!g_refresh_always.load(std::memory_order_relaxed) && read_ticks() - points_.back().ticks < refresh_ticks_)
            return;
    }
    const Point p = measure();
    std::lock_guard lock(mutex_);
    try {
        append_locked(p);
    } catch (...) {  // out of memory for one more point: the last slope goes on
    }
}

void TickClock::append_locked(const Point& p) {
    const Point& last = points_.back();
    if (p.ticks <= last.ticks || p.ns <= last.ns) return;  // another thread's point came first
    const double slope = static_cast<double>(p.ns - last.ns) / static_cast<double>(p.ticks - last.ticks);
    // Preempted between its reads (a wide pair), or off the calibration's line by more than a
    // slew of 0.1 % and the two points' own errors (half their widths, and 10 ns): refused.
    const bool wide = p.width_ticks > 4 * std::max<std::int64_t>(best_width_ticks_, 1) &&
                      static_cast<double>(p.width_ticks) * calibrated_slope_ > 200.0;
    const double elapsed = static_cast<double>(p.ns - last.ns);
    const double predicted = static_cast<double>(p.ticks - last.ticks) * calibrated_slope_;
    const double allowed = 1e-3 * elapsed + 10.0 +
                           0.5 * static_cast<double>(p.width_ticks + last.width_ticks) * calibrated_slope_;
    if (wide || std::abs(elapsed - predicted) > allowed) {
        ++refused_;
        return;
    }
    best_width_ticks_ = std::min(best_width_ticks_, p.width_ticks);
    ++added_;
    // The last point lies on the line from the one before it to p: it adds nothing.
    if (points_.size() >= 2) {
        const Point& before = points_[points_.size() - 2];
        const double through = static_cast<double>(before.ns) +
                               static_cast<double>(last.ticks - before.ticks) *
                                   (static_cast<double>(p.ns - before.ns) / static_cast<double>(p.ticks - before.ticks));
        if (std::abs(through - static_cast<double>(last.ns)) <= static_cast<double>(kMergeNs)) {
            points_.pop_back();
            Point& anchor = points_.back();
            anchor.slope = static_cast<double>(p.ns - anchor.ns) / static_cast<double>(p.ticks - anchor.ticks);
            Point next = p;
            next.slope = anchor.slope;
            points_.push_back(next);
            return;
        }
    }
    points_.back().slope = slope;
    Point next = p;
    next.slope = slope;
    points_.push_back(next);
}

std::int64_t TickClock::convert_locked(std::int64_t ticks, std::size_t& segment) const noexcept {
    // The segment [points_[segment], points_[segment + 1]) holding `ticks`; the last point's
    // own slope past it, the first's before it. Runs of nearby ticks keep their segment.
    const std::size_t n = points_.size();
    const bool inside = points_[segment].ticks <= ticks && (segment + 1 == n || ticks < points_[segment + 1].ticks);
    if (!inside) {
        const auto it = std::upper_bound(points_.begin(), points_.end(), ticks,
                                         [](std::int64_t t, const Point& p) { return t < p.ticks; });
        segment = it == points_.begin() ? 0 : static_cast<std::size_t>(it - points_.begin()) - 1;
    }
    const Point& p = points_[segment];
    return p.ns + scaled(ticks - p.ticks, p.slope);
}

void TickClock::to_ns(const std::int64_t* ticks, std::int64_t* ns, std::size_t n) const noexcept {
    std::lock_guard lock(mutex_);
    if (points_.empty()) {
        std::copy(ticks, ticks + n, ns);
        return;
    }
    if (n == 0) return;
    // This is on every read of intervals (10 M of them read back cost it 20 M times). A run (at
    // most a block, recorded within moments) nearly always lies in one segment: then one line
    // for all of it, in one loop the compiler turns into SIMD code (SSE2 has no int64 <->
    // double conversion: exact_double() and nearest() do it with integer and double adds).
    std::size_t segment = points_.size() - 1;
    (void)convert_locked(ticks[0], segment);
    const Point& p = points_[segment];
    const std::uint64_t from = static_cast<std::uint64_t>(p.ticks);
    const std::uint64_t limit = fast_span(p.slope, segment + 1 < points_.size()
                                                       ? points_[segment + 1].ticks - p.ticks - 1
                                                       : std::numeric_limits<std::int64_t>::max());
    if (along_line(ticks, ns, n, from, limit, p.ns, p.slope)) return;
    // Across segments (a run recorded while a calibration point was taken), or ticks from
    // before setup(): each value finds its segment, the same rounding.
    for (std::size_t i = 0; i < n; ++i) ns[i] = convert_locked(ticks[i], segment);
}

std::int64_t TickClock::to_ns(std::int64_t ticks) const noexcept {
    std::int64_t ns = 0;
    to_ns(&ticks, &ns, 1);
    return ns;
}

TickCalibration TickClock::calibration() const {
    std::lock_guard lock(mutex_);
    TickCalibration c;
    if (points_.empty()) return c;
    c.ns_per_tick = points_.back().slope;
    c.points = points_.size();
    std::int64_t widest = 0;
    for (const Point& p : points_) widest = std::max(widest, p.width_ticks);
    c.widest_point_ns = std::llround(static_cast<double>(widest) * c.ns_per_tick);
    c.refused = refused_;
    c.added = added_;
    return c;
}

void TickClock::force_unusable_for_tests(const char* why) noexcept { g_forced_unusable.store(why); }

void TickClock::refresh_always_for_tests(bool always) noexcept { g_refresh_always.store(always); }

}  // namespace scope_profiler::detail
