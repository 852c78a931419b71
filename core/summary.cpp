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

void TextSummaryWriter::write(std::span<const RegionSummary> regions) {
    constexpr double kSecondsPerNs = 1e-9;
    for (const RegionSummary& r : regions) {
        out_ << "Region: " << r.name << '\n';
        out_ << "  Total Calls : " << r.calls << '\n';
        if (r.timed && r.host.count > 0) {
            out_ << "  Total Time  : " << format_seconds(r.host.total * kSecondsPerNs) << " s\n";
            out_ << "  Avg Time    : " << format_seconds(r.host.mean * kSecondsPerNs) << " s\n";
            out_ << "  Min Time    : " << format_seconds(r.host.min * kSecondsPerNs) << " s\n";
            out_ << "  Max Time    : " << format_seconds(r.host.max * kSecondsPerNs) << " s\n";
            out_ << "  Std Dev     : " << format_seconds(r.host.stddev * kSecondsPerNs) << " s\n";
        }
        if (r.device_calls > 0) {
            out_ << "  Device Calls: " << r.device_calls << '\n';
        }
        if (r.timed && r.device.count > 0) {
            out_ << "  Device Time : " << format_seconds(r.device.total * kSecondsPerNs) << " s\n";
            out_ << "  Device Avg  : " << format_seconds(r.device.mean * kSecondsPerNs) << " s\n";
            out_ << "  Device Min  : " << format_seconds(r.device.min * kSecondsPerNs) << " s\n";
            out_ << "  Device Max  : " << format_seconds(r.device.max * kSecondsPerNs) << " s\n";
            out_ << "  Device Std  : " << format_seconds(r.device.stddev * kSecondsPerNs) << " s\n";
            if (r.device_fallback > 0) {
                out_ << "  Fallback    : " << r.device_fallback << " of " << r.device.count
                     << " device intervals timed on the host (no GPU)\n";
            }
        }
        out_ << "----------------------------------------\n";
    }
    out_.flush();
}

}  // namespace scope_profiler::detail
