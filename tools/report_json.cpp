// `scope-profiler report --json`: region_statistics.json (report.hpp, write_json).

#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <unordered_map>

#include "report.hpp"
#include "stats/seconds.hpp"

namespace scope_profiler::cli {

namespace {

using Json = nlohmann::ordered_json;

Json seconds(double ns) { return std::isnan(ns) ? Json(nullptr) : Json(stats::ns_to_seconds(ns)); }

/// Adds a member the object does not hold yet. ordered_json's operator[] first looks for the key
/// member by member (its map is a vector of pairs), which a region's fifty keys pay fifty times
/// over; every caller here adds keys it knows to be new.
void append(Json& object, std::string key, Json value) {
    object.get_ref<Json::object_t&>().emplace_back(std::move(key), std::move(value));
}

/// The Python library's keys for one set of durations, with ours, under a prefix ("" or "device_").
void put_stats(Json& j, const DurationStats& s, const std::string& prefix) {
    append(j, prefix + "count", s.count);
    const bool empty = s.count == 0;
    // Seconds under the Python library's key, and the exact ns beside it (integers stay integers).
    auto put = [&](const char* name, auto ns) {
        const std::string key = prefix + name;
        append(j, key + "_duration_seconds", empty ? Json(nullptr) : seconds(static_cast<double>(ns)));
        append(j, key + "_duration_ns", empty ? Json(nullptr) : Json(ns));
    };
    put("average", s.mean);
    put("min", s.min);
    put("max", s.max);
    put("first", s.first);
    put("last", s.last);
    put("std", s.std);
    put("total", s.total);
    put("p50", s.p50);
    put("p95", s.p95);
    put("p99", s.p99);
}

Json region_json(const RegionReport& r) {
    Json j = Json::object();
    put_stats(j, r.host, "");
    append(j, "inclusive_seconds", stats::ns_to_seconds(static_cast<double>(r.inclusive_ns)));
    append(j, "inclusive_ns", r.inclusive_ns);
    append(j, "self_seconds", stats::ns_to_seconds(static_cast<double>(r.self_ns)));
    append(j, "self_ns", r.self_ns);
    put_stats(j, r.device, "device_");
    append(j, "device_host_fallback_count", r.device_host_fallback);
    return j;
}

Json patterns(const std::vector<std::string>& list) { return list.empty() ? Json(nullptr) : Json(list); }

/// The run's length from the metadata's start_time_ns and finalize_time_ns (ours: no writer
/// writes them today, neither the Python library nor ours, so it is null).
Json total_time(const FileReport& file) {
    std::int64_t start = 0, finalize = 0;
    int found = 0;
    for (const auto& [key, value, number] : file.metadata) {
        std::int64_t* target = key == "start_time_ns" ? &start : key == "finalize_time_ns" ? &finalize : nullptr;
        if (target == nullptr) continue;
        const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), *target);
        found += error == std::errc{} && end == value.data() + value.size();
    }
    return found == 2 ? Json(stats::ns_to_seconds(static_cast<double>(finalize - start))) : Json(nullptr);
}

/// Writes a JSON document exactly as Json::dump(2) lays it out, one member or element at a
/// time: the document of a file of many regions is never held whole. Held whole, its
/// region_statistics object was one ordered_json of every region (about 10 KB each), and each
/// insertion into it searched all the regions before it: quadratic (100,000 regions: minutes).
class JsonWriter {
public:
    explicit JsonWriter(std::ostream& out) : out_(out) {}

    void begin_object() { open('{'); }
    void end_object() { close('}'); }
    void begin_array() { open('['); }
    void end_array() { close(']'); }

    /// The name of the next member of the object open.
    void key(const std::string& name) {
        next_line();
        put(Json(name));
        out_ << ": ";
        after_key_ = true;
    }

    /// A whole value: the next element of the array open, or the value of the member named.
    void value(const Json& value) {
        if (!after_key_) next_line();
        after_key_ = false;
        put(value);
    }

private:
    struct Level {
        char close;
        bool empty = true;
    };

    void open(char bracket) {
        if (!after_key_ && !levels_.empty()) next_line();
        after_key_ = false;
        out_ << bracket;
        levels_.push_back({bracket == '{' ? '}' : ']'});
    }

    void close(char bracket) {
        const Level level = levels_.back();
        levels_.pop_back();
        if (!level.empty) out_ << '\n' << std::string(2 * levels_.size(), ' ');
        out_ << bracket;
    }

    /// Before a member or an element: the comma after the one before, a new line, the indent.
    void next_line() {
        Level& level = levels_.back();
        out_ << (level.empty ? "\n" : ",\n") << std::string(2 * levels_.size(), ' ');
        level.empty = false;
    }

    /// A value dumped on its own, its lines indented to the depth it is written at (a JSON
    /// string holds no raw newline: every '\n' of the dump is between lines).
    void put(const Json& value) {
        const std::string text = value.dump(2, ' ', false, Json::error_handler_t::replace);
        const std::string indent(2 * levels_.size(), ' ');
        std::size_t from = 0;
        for (std::size_t nl = text.find('\n'); nl != std::string::npos; from = nl + 1, nl = text.find('\n', from)) {
            out_.write(text.data() + from, static_cast<std::streamsize>(nl + 1 - from));
            out_ << indent;
        }
        out_.write(text.data() + from, static_cast<std::streamsize>(text.size() - from));
    }

    std::ostream& out_;
    std::vector<Level> levels_;
    bool after_key_ = false;
};

/// The regions of `files` that every file has, in the order of the first file.
std::vector<std::string> common_regions(const std::vector<FileReport>& files) {
    std::vector<std::string> common;
    if (files.empty()) return common;
    std::unordered_map<std::string_view, std::size_t> seen;  // name -> files that have it
    for (const auto& region : files.front().regions) seen.try_emplace(region.name, 1);
    for (std::size_t f = 1; f < files.size(); ++f) {
        for (const auto& region : files[f].regions) {
            const auto it = seen.find(region.name);
            if (it != seen.end() && it->second == f) ++it->second;  // once per file
        }
    }
    for (const auto& region : files.front().regions) {
        if (seen.at(region.name) == files.size()) common.push_back(region.name);
    }
    return common;
}

}  // namespace

void write_json(std::ostream& out, const std::vector<FileReport>& files, const ReportOptions& options) {
    JsonWriter w(out);
    w.begin_object();
    w.key("units");
    w.value({{"durations", "seconds"}, {"*_ns", "nanoseconds"}});
    RankSet ranks(options.ranks);
    w.key("filters");
    w.value({{"include", patterns(options.include)},
             {"exclude", patterns(options.exclude)},
             {"ranks", ranks.all() ? Json(nullptr) : Json(ranks.ranks())}});
    w.key("common_regions");
    w.begin_array();
    for (const std::string& name : common_regions(files)) w.value(name);
    w.end_array();
    w.key("files");
    w.begin_array();
    std::map<std::string, int> label_uses;
    for (const auto& file : files) ++label_uses[file.label];
    for (const auto& file : files) {
        w.begin_object();
        w.key("label");
        w.value(label_uses[file.label] > 1 ? file.path : file.label);
        std::error_code error;
        const auto absolute = std::filesystem::absolute(file.path, error);
        w.key("file_path");
        w.value(error ? file.path : absolute.lexically_normal().string());
        w.key("num_ranks");
        w.value(file.num_ranks);
        w.key("total_time_seconds");
        w.value(total_time(file));
        // Each rank's regions by name: one look-up per region and rank, not a scan of the rank.
        std::vector<std::unordered_map<std::string_view, const RegionReport*>> by_name(file.ranks.size());
        for (std::size_t k = 0; k < file.ranks.size(); ++k) {
            for (const auto& rr : file.ranks[k].regions) by_name[k][rr.name] = &rr;
        }
        w.key("region_statistics");
        w.begin_object();
        for (const auto& region : file.regions) {
            Json r = region_json(region);
            Json per_rank = Json::object();
            for (std::size_t k = 0; k < file.ranks.size(); ++k) {
                const auto it = by_name[k].find(region.name);
                if (it != by_name[k].end()) append(per_rank, std::to_string(file.ranks[k].rank), region_json(*it->second));
            }
            append(r, "per_rank", std::move(per_rank));
            w.key(region.name);
            w.value(r);
        }
        w.end_object();
        // A later attribute of the same name replaces an earlier one, in the earlier one's place.
        std::vector<const MetadataField*> metadata;
        std::unordered_map<std::string_view, std::size_t> position;
        for (const MetadataField& field : file.metadata) {
            const auto [it, inserted] = position.try_emplace(field.key, metadata.size());
            if (inserted) metadata.push_back(&field);
            else metadata[it->second] = &field;
        }
        w.key("metadata");
        w.begin_object();
        for (const MetadataField* field : metadata) {  // numbers as JSON numbers, as the file holds them
            w.key(field->key);
            w.value(field->number ? Json::parse(field->text) : Json(field->text));
        }
        w.end_object();
        w.end_object();
    }
    w.end_array();
    w.end_object();
    out << '\n';
}

}  // namespace scope_profiler::cli
