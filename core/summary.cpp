#include "summary.hpp"

#include <cstdio>

#include "stats/seconds.hpp"
#include "stats.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace scope_profiler::detail {

RegionSummary summarize(const Region& region, bool timed) {
    RegionSummary summary;
    summary.name = region.name();
    summary.calls = region.num_calls();
    summary.timed = timed;
    if (timed) summary.host = region.host_stats();
    summary.device_calls = region.num_device_calls();
    if (timed && summary.device_calls > 0) {
        // finalize() has resolved every pair.
        const DeviceSummary device = device_summary(region);
        summary.device = device.stats;
        summary.device_fallback = device.fallback;
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

// One block of lines: total, mean, min, max, standard deviation and percentiles, in seconds.
void write_stats(std::ostream& out, const char* const (&labels)[8], const Stats& stats) {
    const double values[8] = {static_cast<double>(stats.total), stats.mean,
                              static_cast<double>(stats.min), static_cast<double>(stats.max),
                              stats.stddev, stats.p50, stats.p95, stats.p99};
    for (int i = 0; i < 8; ++i) {
        out << labels[i] << format_seconds(stats::ns_to_seconds(values[i])) << " s";
        // Percentiles over intervals already flushed come from a sketch (docs/statistics.md).
        if (i >= 5 && !stats.percentiles_exact) out << " (within 0.5%)";
        out << '\n';
    }
}

// The Python library's labels for host intervals (the percentiles are ours), and ours for the
// device intervals beside them.
constexpr const char* kHostLabels[8] = {"  Total Time  : ", "  Avg Time    : ", "  Min Time    : ",
                                        "  Max Time    : ", "  Std Dev     : ", "  P50 Time    : ",
                                        "  P95 Time    : ", "  P99 Time    : "};
constexpr const char* kDeviceLabels[8] = {"  Device Time : ", "  Device Avg  : ", "  Device Min  : ",
                                          "  Device Max  : ", "  Device Std  : ", "  Device P50  : ",
                                          "  Device P95  : ", "  Device P99  : "};

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
                char share[32];
                std::snprintf(share, sizeof share, "%.1f%%",
                              100.0 * static_cast<double>(r.device_fallback) / static_cast<double>(r.device.count));
                out_ << "  Fallback    : " << r.device_fallback << " of " << r.device.count << " (" << share
                     << ") device intervals timed on the host (no device timing)\n";
            }
        }
        out_ << "----------------------------------------\n";
    }
    out_.flush();
}

}  // namespace scope_profiler::detail
