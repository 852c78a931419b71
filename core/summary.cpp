#include "summary.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace scope_profiler::detail {

Stats compute_stats(std::span<const std::int64_t> durations) {
    Stats stats;
    stats.count = durations.size();
    if (durations.empty()) return stats;
    // Exact integer total; a 128-bit accumulator cannot overflow for any count of int64 values
    // that fits in memory.
    __int128 total = 0;
    std::int64_t lo = durations.front();
    std::int64_t hi = durations.front();
    for (const std::int64_t d : durations) {
        total += d;
        lo = std::min(lo, d);
        hi = std::max(hi, d);
    }
    const long double mean = static_cast<long double>(total) / durations.size();
    long double squares = 0;  // second pass about the mean: no cancellation
    for (const std::int64_t d : durations) {
        const long double delta = static_cast<long double>(d) - mean;
        squares += delta * delta;
    }
    stats.total = static_cast<std::int64_t>(
        std::clamp<__int128>(total, INT64_MIN, INT64_MAX));  // saturates past 292 years
    stats.mean = static_cast<double>(mean);
    stats.min = lo;
    stats.max = hi;
    stats.stddev = static_cast<double>(std::sqrt(squares / durations.size()));
    return stats;
}

RegionSummary summarize(const Region& region, bool timed) {
    RegionSummary summary;
    summary.name = region.name();
    summary.calls = region.num_calls();
    summary.timed = timed;
    if (timed) summary.host = region.host_stats();
    summary.device_calls = region.num_device_calls();
    if (timed && summary.device_calls > 0) {
        const DeviceIntervals device = region.get_device_intervals(false);
        std::vector<std::int64_t> durations(device.start_times.size());
        for (std::size_t i = 0; i < durations.size(); ++i) {
            durations[i] = device.end_times[i] - device.start_times[i];
            summary.device_fallback += device.host_fallback[i];
        }
        summary.device = compute_stats(durations);
    }
    return summary;
}

std::string format_seconds(double seconds) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, seconds);
    std::string text(buffer, result.ptr);
    if (text.find_first_of(".eni") == std::string::npos) text += ".0";  // "0" -> "0.0"
    return text;
}

namespace {

// One block of five lines: total, mean, min, max and standard deviation, in seconds.
void write_stats(std::ostream& out, const char* const (&labels)[5], const Stats& stats) {
    constexpr double kSecondsPerNs = 1e-9;
    const double values[5] = {static_cast<double>(stats.total), stats.mean,
                              static_cast<double>(stats.min), static_cast<double>(stats.max),
                              stats.stddev};
    for (int i = 0; i < 5; ++i) out << labels[i] << format_seconds(values[i] * kSecondsPerNs) << " s\n";
}

// The Python library's labels for host intervals, and ours for device intervals beside them.
constexpr const char* kHostLabels[5] = {"  Total Time  : ", "  Avg Time    : ", "  Min Time    : ",
                                        "  Max Time    : ", "  Std Dev     : "};
constexpr const char* kDeviceLabels[5] = {"  Device Time : ", "  Device Avg  : ", "  Device Min  : ",
                                          "  Device Max  : ", "  Device Std  : "};

}  // namespace

void TextSummaryWriter::write(std::span<const RegionSummary> regions) {
    for (const RegionSummary& r : regions) {
        out_ << "Region: " << r.name << '\n';
        out_ << "  Total Calls : " << r.calls << '\n';
        if (r.timed && r.host.count > 0) write_stats(out_, kHostLabels, r.host);
        if (r.device_calls > 0) out_ << "  Device Calls: " << r.device_calls << '\n';
        if (r.timed && r.device.count > 0) {
            write_stats(out_, kDeviceLabels, r.device);
            if (r.device_fallback > 0) {
                out_ << "  Fallback    : " << r.device_fallback << " of " << r.device.count
                     << " device intervals timed on the host (no device timing)\n";
            }
        }
        out_ << "----------------------------------------\n";
    }
    out_.flush();
}

}  // namespace scope_profiler::detail
