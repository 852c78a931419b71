// `scope-profiler report`: the table on the terminal (report.hpp, print_table).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "report.hpp"
#include "text_cells.hpp"

namespace scope_profiler::cli {

std::string format_duration(double ns) {
    if (std::isnan(ns)) return "-";
    static constexpr std::pair<double, const char*> kUnits[] = {{1.0, "ns"}, {1e3, "us"}, {1e6, "ms"}, {1e9, "s"}};
    std::size_t unit = 0;
    while (unit + 1 < std::size(kUnits) && std::fabs(ns) >= kUnits[unit + 1].first * 0.9995) ++unit;
    const double value = ns / kUnits[unit].first;
    char text[48];
    if (unit == 0 && value == std::round(value)) {
        std::snprintf(text, sizeof text, "%.0f ns", value);
    } else if (std::fabs(value) >= 1e4) {
        std::snprintf(text, sizeof text, "%.0f %s", value, kUnits[unit].second);
    } else {
        const int digits = std::fabs(value) >= 1000 ? 0 : std::fabs(value) >= 100 ? 1 : std::fabs(value) >= 10 ? 2 : 3;
        std::snprintf(text, sizeof text, "%.*f %s", digits, value, kUnits[unit].second);
    }
    return text;
}

namespace {

void print_regions(std::ostream& out, const std::vector<RegionReport>& regions, bool device) {
    constexpr std::size_t kMaxName = 48, kCell = 11;
    std::size_t name_width = std::string("region").size();
    for (const auto& r : regions) name_width = std::max(name_width, width_of(display_name(r.name)));
    name_width = std::min(name_width, kMaxName);
    const std::vector<std::string> head = device
        ? std::vector<std::string>{"calls", "total", "mean", "min", "max", "std", "p50", "p95", "p99", "on host"}
        : std::vector<std::string>{"calls", "total", "mean", "min", "max", "std", "p50", "p95", "p99", "inclusive", "self"};
    out << fit("region", name_width);
    for (const auto& h : head) out << right(h, kCell);
    out << '\n';
    for (const auto& r : regions) {
        const DurationStats& s = device ? r.device : r.host;
        if (device && s.count == 0) continue;
        out << fit(display_name(r.name), name_width) << right(std::to_string(s.count), kCell);
        const bool empty = s.count == 0;
        for (const double v : {static_cast<double>(s.total), s.mean, static_cast<double>(s.min),
                               static_cast<double>(s.max), s.std, s.p50, s.p95, s.p99}) {
            out << right(empty ? "-" : format_duration(v), kCell);
        }
        if (device) {
            out << right(std::to_string(r.device_host_fallback), kCell);
        } else {
            out << right(format_duration(static_cast<double>(r.inclusive_ns)), kCell)
                << right(format_duration(static_cast<double>(r.self_ns)), kCell);
        }
        out << '\n';
    }
}

void print_scope(std::ostream& out, const std::string& title, const std::vector<RegionReport>& regions) {
    std::uint64_t host = 0, device = 0;
    for (const auto& r : regions) host += r.host.count, device += r.device.count;
    out << title << ": " << regions.size() << (regions.size() == 1 ? " region, " : " regions, ") << host
        << " host intervals" << (device > 0 ? ", " + std::to_string(device) + " device intervals" : "") << "\n\n";
    if (regions.empty()) return;
    print_regions(out, regions, false);
    if (device > 0) {
        out << "\ndevice intervals (GPU time; \"on host\": calls timed on the host, no GPU)\n";
        print_regions(out, regions, true);
    }
}

}  // namespace

void print_table(std::ostream& out, const std::vector<FileReport>& files, bool per_rank) {
    bool first = true;
    for (const auto& file : files) {
        if (!first) out << '\n';
        first = false;
        std::string ranks;
        for (const auto& r : file.ranks) ranks += (ranks.empty() ? "" : ",") + std::to_string(r.rank);
        const std::string scope = file.num_ranks == 1 ? "" :
            file.ranks.size() == static_cast<std::size_t>(file.num_ranks) ? " (all " + std::to_string(file.num_ranks) + " ranks)"
                                                                        : " (ranks " + ranks + ")";
        // A run that did not end with finalize() says how it ended (a signal, or exit).
        std::string ending;
        for (const MetadataField& field : file.metadata)
            if (field.key == "ended_by" && field.text != "finalize()") ending = " [ended by " + field.text + "]";
        print_scope(out, "== " + file.path + scope + ending, file.regions);
        if (per_rank && file.num_ranks > 1) {
            for (const auto& rank : file.ranks) {
                out << '\n';
                print_scope(out, "-- rank " + std::to_string(rank.rank), rank.regions);
            }
        }
    }
}

}  // namespace scope_profiler::cli
