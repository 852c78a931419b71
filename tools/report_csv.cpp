// `scope-profiler report --csv` (report.hpp, write_csv).

#include <charconv>
#include <ostream>
#include <string_view>

#include "report.hpp"

namespace scope_profiler::cli {

namespace {

std::string csv_field(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string quoted = "\"";
    for (const char c : text) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + '"';
}

std::string number(double value) {
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value);
    return std::string(text, result.ptr);
}

void csv_rows(std::ostream& out, const std::string& file, const std::string& rank, const RegionReport& r) {
    for (const bool device : {false, true}) {
        const DurationStats& s = device ? r.device : r.host;
        if (device && s.count == 0) continue;
        out << csv_field(file) << ',' << rank << ',' << csv_field(r.name) << ',' << (device ? "device" : "host") << ','
            << s.count;
        if (s.count == 0) {
            out << ",,,,,,,,,,";
        } else {
            out << ',' << s.total << ',' << number(s.mean) << ',' << s.min << ',' << s.max << ',' << number(s.std)
                << ',' << number(s.p50) << ',' << number(s.p95) << ',' << number(s.p99) << ',' << s.first << ','
                << s.last;
        }
        if (device) {
            out << ",,," << r.device_host_fallback << '\n';
        } else {
            out << ',' << r.inclusive_ns << ',' << r.self_ns << ",\n";
        }
    }
}

}  // namespace

void write_csv(std::ostream& out, const std::vector<FileReport>& files) {
    out << "file,rank,region,kind,count,total_ns,mean_ns,min_ns,max_ns,std_ns,p50_ns,p95_ns,p99_ns,first_ns,"
           "last_ns,inclusive_ns,self_ns,host_fallback\n";
    for (const auto& file : files) {
        for (const auto& region : file.regions) csv_rows(out, file.path, "all", region);
        for (const auto& rank : file.ranks) {
            for (const auto& region : rank.regions) csv_rows(out, file.path, std::to_string(rank.rank), region);
        }
    }
}

}  // namespace scope_profiler::cli
