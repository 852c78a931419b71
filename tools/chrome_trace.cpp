// `scope-profiler export --chrome-trace` (chrome_trace.hpp).

#include "chrome_trace.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <set>

#include "output_file.hpp"
#include "progress.hpp"
#include "utf8.hpp"

namespace scope_profiler::cli {

namespace {

constexpr std::uint64_t kSlice = std::uint64_t{1} << 20;


/// Appends an integer in decimal.
void append_integer(std::string& line, long long value) {
    char text[24];
    const auto result = std::to_chars(text, text + sizeof text, value);
    line.append(text, result.ptr);
}

/// Appends ns as microseconds, exactly: "1234.567" (trailing zeros of the fraction dropped).
void append_microseconds(std::string& line, std::int64_t ns) {
    // The magnitude in unsigned arithmetic: -INT64_MIN does not fit in 64 signed bits.
    std::uint64_t magnitude = static_cast<std::uint64_t>(ns);
    if (ns < 0) {
        line += '-';
        magnitude = 0 - magnitude;
    }
    char text[24];
    const auto result = std::to_chars(text, text + sizeof text, magnitude / 1000);
    line.append(text, result.ptr);
    int fraction = static_cast<int>(magnitude % 1000);
    if (fraction == 0) return;
    char digits[4] = {static_cast<char>('.'), static_cast<char>('0' + fraction / 100),
                      static_cast<char>('0' + fraction / 10 % 10), static_cast<char>('0' + fraction % 10)};
    int length = 4;
    while (digits[length - 1] == '0') --length;
    line.append(digits, static_cast<std::size_t>(length));
}

/// The traceEvents array: a comma before every element but the first.
class Events {
public:
    explicit Events(std::ostream& out) : out_(out) {}
    std::ostream& next() {
        out_ << (first_ ? "\n" : ",\n");
        first_ = false;
        return out_;
    }

private:
    std::ostream& out_;
    bool first_ = true;
};

struct Track {
    int pid = 0;
    long long tid = 0;
};

/// One complete event, formatted in a reused buffer and written in one piece (50 million of
/// them are written for a large file).
void put_event(Events& events, std::string& line, const std::string& name_json, const char* category,
               Track track, std::int64_t start, std::int64_t end, std::int64_t origin, bool host_fallback) {
    line.assign("{\"name\":");
    line += name_json;
    line += ",\"cat\":\"";
    line += category;
    line += "\",\"ph\":\"X\",\"pid\":";
    append_integer(line, track.pid);
    line += ",\"tid\":";
    append_integer(line, track.tid);
    line += ",\"ts\":";
    append_microseconds(line, start - origin);
    line += ",\"dur\":";
    append_microseconds(line, end - start);
    if (host_fallback) line += ",\"args\":{\"host_fallback\":true}";
    line += '}';
    events.next().write(line.data(), static_cast<std::streamsize>(line.size()));
}

void put_metadata_event(Events& events, const char* name, int pid, const long long* tid, const std::string& args) {
    std::ostream& out = events.next();
    out << "{\"name\":\"" << name << "\",\"ph\":\"M\",\"pid\":" << pid;
    if (tid != nullptr) out << ",\"tid\":" << *tid;
    out << ",\"args\":{" << args << "}}";
}

}  // namespace

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x20 || c == 0x7F) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
            ++i;
        } else if (const std::size_t length = utf8::sequence_length(text, i); length > 0) {
            out.append(text.substr(i, length));
            i += length;
        } else {
            out += "\\ufffd";
            ++i;
        }
    }
    return out + '"';
}

void write_chrome_trace(std::ostream& out, const ProfileFile& file, const RegionFilter& regions,
                        const RankSet& ranks) {
    // First pass, structure and start times only: the origin, the thread ids and the streams.
    std::int64_t origin = std::numeric_limits<std::int64_t>::max();
    std::uint64_t total = 0;
    for (const auto& rank : file.ranks()) {
        if (!ranks.contains(rank.rank)) continue;
        for (const auto& region : rank.regions) {
            if (regions.matches(region.name)) total += region.host_count + region.device_count;
        }
    }
    std::map<int, std::set<std::int32_t>> threads;
    std::map<int, std::set<std::int64_t>> streams;
    {
        Progress progress("scanning " + file.path(), total);
        for (const auto& rank : file.ranks()) {
            if (!ranks.contains(rank.rank)) continue;
            threads[rank.rank];
            for (const auto& region : rank.regions) {
                if (!regions.matches(region.name)) continue;
                for (std::uint64_t first = 0; first < region.host_count; first += kSlice) {
                    const HostColumns c = file.read_host(region, first, kSlice);
                    if (!c.start_times.empty()) origin = std::min(origin, *std::min_element(c.start_times.begin(), c.start_times.end()));
                    threads[rank.rank].insert(c.thread_ids.begin(), c.thread_ids.end());
                    progress.advance(c.start_times.size());
                }
                for (std::uint64_t first = 0; first < region.device_count; first += kSlice) {
                    const DeviceColumns c = file.read_device(region, first, kSlice);
                    if (!c.start_times.empty()) origin = std::min(origin, *std::min_element(c.start_times.begin(), c.start_times.end()));
                    streams[rank.rank].insert(c.stream_ids.begin(), c.stream_ids.end());
                    progress.advance(c.start_times.size());
                }
            }
        }
    }
    if (origin == std::numeric_limits<std::int64_t>::max()) origin = 0;

    // Stream tracks get tids above every thread id of the file (rounded up to a multiple of
    // 1000, so they read as 1000, 1001, ...), in stream id order.
    std::int32_t max_thread = -1;
    for (const auto& [rank, ids] : threads) {
        if (!ids.empty()) max_thread = std::max(max_thread, *ids.rbegin());
    }
    const long long stream_base = (static_cast<long long>(max_thread) / 1000 + 1) * 1000;

    out << "{\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"source_file\":" << json_string(file.path())
        << ",\"time_origin_ns\":" << origin;
    for (const auto& [key, value, number] : file.metadata()) {
        out << ",\n " << json_string(key) << ':' << (number ? value : json_string(value));  // a number's text is JSON
    }
    out << "},\n\"traceEvents\":[";
    Events events(out);
    std::map<int, std::map<std::int64_t, long long>> stream_tid;
    for (const auto& [rank, ids] : threads) {
        put_metadata_event(events, "process_name", rank, nullptr, "\"name\":\"rank " + std::to_string(rank) + "\"");
        put_metadata_event(events, "process_sort_index", rank, nullptr, "\"sort_index\":" + std::to_string(rank));
        for (const std::int32_t id : ids) {
            const long long tid = id;
            put_metadata_event(events, "thread_name", rank, &tid, "\"name\":\"thread " + std::to_string(id) + "\"");
            put_metadata_event(events, "thread_sort_index", rank, &tid, "\"sort_index\":" + std::to_string(tid));
        }
        long long next = stream_base;
        for (const std::int64_t stream : streams[rank]) {
            const long long tid = next++;
            stream_tid[rank][stream] = tid;
            put_metadata_event(events, "thread_name", rank, &tid, "\"name\":\"stream " + std::to_string(stream) + "\"");
            put_metadata_event(events, "thread_sort_index", rank, &tid, "\"sort_index\":" + std::to_string(tid));
        }
    }

    Progress progress("writing the trace of " + file.path(), total);
    std::string line;
    for (const auto& rank : file.ranks()) {
        if (!ranks.contains(rank.rank)) continue;
        const auto& tids = stream_tid[rank.rank];
        for (const auto& region : rank.regions) {
            if (!regions.matches(region.name)) continue;
            const std::string name = json_string(region.name);
            for (std::uint64_t first = 0; first < region.host_count; first += kSlice) {
                const HostColumns c = file.read_host(region, first, kSlice);
                for (std::size_t i = 0; i < c.start_times.size(); ++i) {
                    put_event(events, line, name, "host", {rank.rank, c.thread_ids[i]}, c.start_times[i], c.end_times[i], origin, false);
                }
                progress.advance(c.start_times.size());
            }
            for (std::uint64_t first = 0; first < region.device_count; first += kSlice) {
                const DeviceColumns c = file.read_device(region, first, kSlice);
                for (std::size_t i = 0; i < c.start_times.size(); ++i) {
                    put_event(events, line, name, "device", {rank.rank, tids.at(c.stream_ids[i])}, c.start_times[i], c.end_times[i],
                              origin, c.host_fallback[i] != 0);
                }
                progress.advance(c.start_times.size());
            }
        }
    }
    out << "\n]}\n";
}

void run_export(const ExportOptions& options) {
    protect_inputs({options.file});
    const RegionFilter regions(options.include, options.exclude);
    const RankSet ranks(options.ranks);
    auto file = std::make_unique<ProfileFile>(options.file);
    require_chosen_ranks(*file, ranks);
    if (options.chrome_trace.empty()) {
        throw InputError("export: say what to write, e.g. --chrome-trace trace.json");
    }
    OutputFile output(options.chrome_trace);
    write_chrome_trace(output.stream(), *file, regions, ranks);
    // The input is closed before the output appears: libhdf5 can fail (even crash) closing a
    // damaged file, and a command that fails leaves no output.
    file.reset();
    output.commit();
}

}  // namespace scope_profiler::cli
