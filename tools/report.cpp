// `scope-profiler report` (report.hpp).

#include "report.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "nesting.hpp"
#include "numpy_percentile.hpp"
#include "output_file.hpp"
#include "progress.hpp"
#include "text_cells.hpp"
#include "duration_sum.hpp"

namespace scope_profiler::cli {

namespace {

/// Elements read per dataset call: 1M intervals are 20 MB of host columns.
constexpr std::uint64_t kSlice = std::uint64_t{1} << 20;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The earliest-starting and the latest-ending call of a set of intervals.
struct Ends {
    std::int64_t first_start = std::numeric_limits<std::int64_t>::max(), first = 0;
    std::int64_t last_end = std::numeric_limits<std::int64_t>::min(), last = 0;

    void add(std::int64_t start, std::int64_t end) {
        if (start < first_start) first_start = start, first = end - start;
        if (end > last_end) last_end = end, last = end - start;
    }
};

/// Durations of one region in one file (every chosen rank, one after the other).
struct Collected {
    std::vector<std::int64_t> durations;
    Ends ends;

    void add(std::int64_t start, std::int64_t end) {
        durations.push_back(end - start);
        ends.add(start, end);
    }
};

/// The workers parallel_for runs n tasks on: up to one per core.
std::size_t worker_count(std::size_t n) { return std::min<std::size_t>(n, std::max(1u, std::thread::hardware_concurrency())); }

/// Runs task(i) for every i in [0, n) on worker_count(n) threads, or task(i, worker) where the
/// task takes the worker's index (< worker_count(n)) too; rethrows the first exception once all
/// are done.
template <typename Task>
void parallel_for(std::size_t n, const Task& task) {
    const std::size_t workers = worker_count(n);
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&](std::size_t worker) {
        for (std::size_t i = next++; i < n; i = next++) {
            try {
                if constexpr (std::is_invocable_v<const Task&, std::size_t, std::size_t>) {
                    task(i, worker);
                } else {
                    task(i);
                }
            } catch (...) {
                const std::lock_guard lock(error_mutex);
                if (!error) error = std::current_exception();
            }
        }
    };
    std::vector<std::thread> pool;
    for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(work, w);
    work(0);
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

/// Inclusive and self times of a rank, summed over its threads: nested in parallel, one
/// builder per worker (times are sums over threads, so how threads are split changes nothing).
/// A builder per thread held arrays of every region: threads x regions of time and memory,
/// which a rank of 100,000 threads and as many regions made 10^10.
NestedTimes nest(std::map<std::int32_t, std::vector<Span>> threads, std::uint32_t region_count) {
    std::vector<std::vector<Span>> spans;
    for (auto& [id, list] : threads) spans.push_back(std::move(list));
    threads.clear();
    std::vector<std::optional<NestingBuilder>> builders(worker_count(spans.size()));
    parallel_for(spans.size(), [&](std::size_t i, std::size_t worker) {
        if (!builders[worker]) builders[worker].emplace(region_count, false);
        builders[worker]->add_thread(std::move(spans[i]));
    });
    NestedTimes sum;
    sum.inclusive_ns.assign(region_count, 0);
    sum.self_ns.assign(region_count, 0);
    for (const auto& builder : builders) {
        if (!builder) continue;
        for (std::uint32_t r = 0; r < region_count; ++r) {
            sum.inclusive_ns[r] = add_ns(sum.inclusive_ns[r], builder->times().inclusive_ns[r]);
            sum.self_ns[r] = add_ns(sum.self_ns[r], builder->times().self_ns[r]);
        }
    }
    return sum;
}

/// Asks the kernel to back a large, untouched buffer with huge pages (where transparent huge
/// pages are enabled "madvise"): filling gigabytes of spans then costs a few thousand page
/// faults instead of hundreds of thousands. Only a hint; nothing changes where it is refused.
template <typename T>
void prefer_huge_pages(std::vector<T>& buffer) {
    constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
    const auto begin = reinterpret_cast<std::uintptr_t>(buffer.data());
    const std::uintptr_t end = begin + buffer.capacity() * sizeof(T);
    const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
    const std::uintptr_t last = end & ~(kHuge - 1);
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

/// One empty span buffer per thread of the rank, its capacity exactly the thread's intervals
/// (a first pass over the thread ids only).
std::map<std::int32_t, std::vector<Span>> thread_buffers(const ProfileFile& file, const RankInfo& rank,
                                                         Progress& progress) {
    std::map<std::int32_t, std::uint64_t> counts;
    for (const auto& region : rank.regions) {
        for (std::uint64_t first = 0; first < region.host_count; first += kSlice) {
            const std::vector<std::int32_t> ids = file.read_thread_ids(region, first, kSlice);
            for (std::size_t i = 0; i < ids.size();) {  // runs of one thread: one map look-up each
                std::size_t j = i + 1;
                while (j < ids.size() && ids[j] == ids[i]) ++j;
                counts[ids[i]] += j - i;
                i = j;
            }
            progress.advance(ids.size());
        }
    }
    std::map<std::int32_t, std::vector<Span>> threads;
    for (const auto& [id, n] : counts) {
        threads[id].reserve(n);
        prefer_huge_pages(threads[id]);
    }
    return threads;
}

/// Statistics of durations[offset, end) (reordered), with first/last from `ends`.
DurationStats stats_of(std::vector<std::int64_t>& durations, std::size_t offset, const Ends& ends) {
    DurationStats stats = duration_stats(durations.begin() + static_cast<std::ptrdiff_t>(offset), durations.end());
    stats.first = ends.first;
    stats.last = ends.last;
    return stats;
}

}  // namespace

double percentile(std::vector<std::int64_t>::iterator begin, std::vector<std::int64_t>::iterator end, double q) {
    const PercentilePosition at = percentile_position(static_cast<std::uint64_t>(end - begin), q);
    const auto last = static_cast<std::ptrdiff_t>(end - begin) - 1;
    const auto lo = std::clamp(static_cast<std::ptrdiff_t>(at.below), std::ptrdiff_t{0}, last);
    const auto hi = std::clamp(static_cast<std::ptrdiff_t>(at.below) + 1, std::ptrdiff_t{0}, last);
    std::nth_element(begin, begin + lo, end);
    const std::int64_t a = begin[lo];
    const std::int64_t b = hi == lo ? a : *std::min_element(begin + lo + 1, end);
    return percentile_between(a, b, at.gamma);
}

DurationStats duration_stats(std::vector<std::int64_t>::iterator begin, std::vector<std::int64_t>::iterator end) {
    DurationStats stats;
    stats.count = static_cast<std::uint64_t>(end - begin);
    if (stats.count == 0) return stats;
    stats.min = *begin;
    stats.max = *begin;
    for (auto it = begin; it != end; ++it) {
        stats.total = add_ns(stats.total, *it);
        stats.min = std::min(stats.min, *it);
        stats.max = std::max(stats.max, *it);
    }
    const auto n = static_cast<long double>(stats.count);
    const long double mean = static_cast<long double>(stats.total) / n;
    long double squares = 0;
    for (auto it = begin; it != end; ++it) {
        const long double d = static_cast<long double>(*it) - mean;
        squares += d * d;
    }
    stats.mean = static_cast<double>(mean);
    stats.std = static_cast<double>(std::sqrt(squares / n));
    // Ascending q: each selection narrows the range of the next.
    stats.p50 = percentile(begin, end, 50.0);
    stats.p95 = percentile(begin, end, 95.0);
    stats.p99 = percentile(begin, end, 99.0);
    return stats;
}

FileReport build_report(const ProfileFile& file, const RegionFilter& filter, const RankSet& chosen) {
    FileReport report;
    report.path = file.path();
    report.label = std::filesystem::path(file.path()).stem().string();
    report.num_ranks = static_cast<int>(file.ranks().size());
    report.metadata = file.metadata();

    // Every region name of the file gets an index (nesting needs them all); shown ones a slot.
    std::unordered_map<std::string, std::uint32_t> index_of;
    std::vector<std::string> names;
    std::vector<bool> shown;
    std::uint64_t total_intervals = 0;
    for (const auto& rank : file.ranks()) {
        if (!chosen.contains(rank.rank)) continue;
        for (const auto& region : rank.regions) {
            total_intervals += region.host_count + region.device_count;
            if (index_of.try_emplace(region.name, static_cast<std::uint32_t>(names.size())).second) {
                names.push_back(region.name);
                shown.push_back(filter.matches(region.name));
            }
        }
    }
    require_chosen_ranks(file, chosen);

    const auto count = static_cast<std::uint32_t>(names.size());
    std::vector<Collected> host(count), device(count);
    for (const auto& rank : file.ranks()) {  // exact buffers: no regrowth of gigabytes
        if (!chosen.contains(rank.rank)) continue;
        for (const auto& region : rank.regions) {
            const std::uint32_t index = index_of.at(region.name);
            if (!shown[index]) continue;
            host[index].durations.reserve(host[index].durations.capacity() + region.host_count);
            device[index].durations.reserve(device[index].durations.capacity() + region.device_count);
        }
    }
    for (std::uint32_t i = 0; i < count; ++i) {
        prefer_huge_pages(host[i].durations);
        prefer_huge_pages(device[i].durations);
    }
    std::vector<std::uint64_t> fallback(count, 0);
    std::vector<std::int64_t> inclusive(count, 0), self(count, 0);
    std::uint64_t host_intervals = 0;
    for (const auto& rank : file.ranks()) {
        if (!chosen.contains(rank.rank)) continue;
        for (const auto& region : rank.regions) host_intervals += region.host_count;
    }
    // Units of work: the thread-id pass and the nesting count each host interval once more.
    Progress progress("reading " + file.path(), total_intervals + 2 * host_intervals);

    for (const auto& rank : file.ranks()) {
        if (!chosen.contains(rank.rank)) continue;
        RankReport rank_report;
        rank_report.rank = rank.rank;
        std::map<std::int32_t, std::vector<Span>> threads = thread_buffers(file, rank, progress);
        std::vector<Span>* thread = nullptr;
        std::int32_t thread_id = 0;
        struct Slot {
            std::uint32_t index;
            std::size_t host_offset, device_offset;
            Ends host_ends, device_ends;
            std::uint64_t fallback = 0;
        };
        std::vector<Slot> slots;
        for (const auto& region : rank.regions) {
            const std::uint32_t index = index_of.at(region.name);
            Slot slot{index, host[index].durations.size(), device[index].durations.size(), {}, {}, 0};
            for (std::uint64_t first = 0; first < region.host_count; first += kSlice) {
                const HostColumns columns = file.read_host(region, first, kSlice);
                for (std::size_t i = 0; i < columns.start_times.size(); ++i) {
                    const std::int64_t start = columns.start_times[i], end = columns.end_times[i];
                    if (thread == nullptr || columns.thread_ids[i] != thread_id) {
                        thread_id = columns.thread_ids[i];
                        thread = &threads[thread_id];
                    }
                    thread->push_back(Span{start, end, index});
                    if (shown[index]) {
                        host[index].add(start, end);
                        slot.host_ends.add(start, end);
                    }
                }
                progress.advance(columns.start_times.size());
            }
            if (shown[index]) {
                for (std::uint64_t first = 0; first < region.device_count; first += kSlice) {
                    const DeviceColumns columns = file.read_device(region, first, kSlice);
                    for (std::size_t i = 0; i < columns.start_times.size(); ++i) {
                        device[index].add(columns.start_times[i], columns.end_times[i]);
                        slot.device_ends.add(columns.start_times[i], columns.end_times[i]);
                        slot.fallback += columns.host_fallback[i] != 0;
                    }
                    progress.advance(columns.start_times.size());
                }
                slots.push_back(std::move(slot));
            } else {
                progress.advance(region.device_count);
            }
        }
        progress.set_label("nesting the calls of " + file.path());
        const NestedTimes times = nest(std::move(threads), count);
        progress.set_label("reading " + file.path());
        for (const auto& region : rank.regions) progress.advance(region.host_count);
        rank_report.regions.resize(slots.size());
        parallel_for(slots.size(), [&](std::size_t k) {
            const Slot& slot = slots[k];
            const std::uint32_t i = slot.index;
            RegionReport& region = rank_report.regions[k];
            region.name = names[i];
            region.host = stats_of(host[i].durations, slot.host_offset, slot.host_ends);
            region.device = stats_of(device[i].durations, slot.device_offset, slot.device_ends);
            region.device_host_fallback = slot.fallback;
            region.inclusive_ns = times.inclusive_ns[i];
            region.self_ns = times.self_ns[i];
        });
        for (const auto& slot : slots) {
            fallback[slot.index] += slot.fallback;
            inclusive[slot.index] = add_ns(inclusive[slot.index], times.inclusive_ns[slot.index]);
            self[slot.index] = add_ns(self[slot.index], times.self_ns[slot.index]);
        }
        report.ranks.push_back(std::move(rank_report));
    }

    progress.set_label("statistics of " + file.path());
    std::vector<std::uint32_t> reported;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (shown[i]) reported.push_back(i);
    }
    report.regions.resize(reported.size());
    parallel_for(reported.size(), [&](std::size_t k) {
        const std::uint32_t i = reported[k];
        RegionReport& region = report.regions[k];
        region.name = names[i];
        region.host = stats_of(host[i].durations, 0, host[i].ends);
        region.device = stats_of(device[i].durations, 0, device[i].ends);
        region.device_host_fallback = fallback[i];
        region.inclusive_ns = inclusive[i];
        region.self_ns = self[i];
        host[i] = Collected{};
        device[i] = Collected{};
    });
    return report;
}

// ---- sorting ----

namespace {

using Key = double (*)(const RegionReport&);

double count_or_nan(const DurationStats& s, double value) { return s.count == 0 ? kNaN : value; }

/// The columns of one kind of interval (host or device), named with a prefix.
template <DurationStats RegionReport::*kind>
void add_stat_keys(std::vector<std::pair<std::string, Key>>& keys, const std::string& prefix) {
    keys.insert(keys.end(), {
        {prefix + "calls", [](const RegionReport& r) { return static_cast<double>((r.*kind).count); }},
        {prefix + "total", [](const RegionReport& r) { return static_cast<double>((r.*kind).total); }},
        {prefix + "mean", [](const RegionReport& r) { return count_or_nan(r.*kind, (r.*kind).mean); }},
        {prefix + "min", [](const RegionReport& r) { return count_or_nan(r.*kind, static_cast<double>((r.*kind).min)); }},
        {prefix + "max", [](const RegionReport& r) { return count_or_nan(r.*kind, static_cast<double>((r.*kind).max)); }},
        {prefix + "std", [](const RegionReport& r) { return count_or_nan(r.*kind, (r.*kind).std); }},
        {prefix + "p50", [](const RegionReport& r) { return count_or_nan(r.*kind, (r.*kind).p50); }},
        {prefix + "p95", [](const RegionReport& r) { return count_or_nan(r.*kind, (r.*kind).p95); }},
        {prefix + "p99", [](const RegionReport& r) { return count_or_nan(r.*kind, (r.*kind).p99); }},
    });
}

const std::vector<std::pair<std::string, Key>>& sort_keys() {
    static const std::vector<std::pair<std::string, Key>> keys = [] {
        std::vector<std::pair<std::string, Key>> all = {{"name", nullptr}};
        add_stat_keys<&RegionReport::host>(all, "");
        all.emplace_back("inclusive", [](const RegionReport& r) { return static_cast<double>(r.inclusive_ns); });
        all.emplace_back("self", [](const RegionReport& r) { return static_cast<double>(r.self_ns); });
        add_stat_keys<&RegionReport::device>(all, "device_");
        return all;
    }();
    return keys;
}

}  // namespace

const std::vector<std::string>& sort_columns() {
    static const std::vector<std::string> columns = [] {
        std::vector<std::string> names;
        for (const auto& [name, key] : sort_keys()) names.push_back(name);
        return names;
    }();
    return columns;
}

void sort_regions(std::vector<RegionReport>& regions, const std::string& column) {
    const auto& keys = sort_keys();
    const auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.first == column; });
    if (it == keys.end()) {
        std::string known;
        for (const auto& name : sort_columns()) known += (known.empty() ? "" : ", ") + name;
        throw InputError("--sort: unknown column '" + column + "' (one of " + known + ")");
    }
    const Key key = it->second;
    std::stable_sort(regions.begin(), regions.end(), [key](const RegionReport& a, const RegionReport& b) {
        if (key != nullptr) {
            const double x = key(a), y = key(b);
            if (std::isnan(x) != std::isnan(y)) return std::isnan(y);  // empty statistics last
            if (x != y && !std::isnan(x)) return x > y;
        }
        return a.name < b.name;
    });
}

// ---- the table ----

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

// ---- JSON ----

namespace {

using Json = nlohmann::ordered_json;

Json seconds(double ns) { return std::isnan(ns) ? Json(nullptr) : Json(ns / 1e9); }

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
    append(j, "inclusive_seconds", static_cast<double>(r.inclusive_ns) / 1e9);
    append(j, "inclusive_ns", r.inclusive_ns);
    append(j, "self_seconds", static_cast<double>(r.self_ns) / 1e9);
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
    return found == 2 ? Json(static_cast<double>(finalize - start) / 1e9) : Json(nullptr);
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

// ---- CSV ----

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

// ---- the command ----

void run_report(const ReportOptions& options) {
    protect_inputs(options.files);
    const RegionFilter filter(options.include, options.exclude);
    const RankSet ranks(options.ranks);
    std::vector<RegionReport> none;
    sort_regions(none, options.sort);  // an unknown column fails before any work
    // Outputs are created before the work: an unwritable path fails in a second, not after it.
    std::unique_ptr<OutputFile> json, csv;
    if (!options.json_path.empty()) json = std::make_unique<OutputFile>(options.json_path);
    if (!options.csv_path.empty()) csv = std::make_unique<OutputFile>(options.csv_path);

    std::vector<FileReport> reports;
    for (const auto& path : options.files) {
        const ProfileFile file(path);
        reports.push_back(naming_the_file(path, [&] { return build_report(file, filter, ranks); }));
        FileReport& report = reports.back();
        sort_regions(report.regions, options.sort);
        for (auto& rank : report.ranks) sort_regions(rank.regions, options.sort);
    }
    print_table(std::cout, reports, options.per_rank);
    std::cout.flush();
    if (json) write_json(json->stream(), reports, options);
    if (csv) write_csv(csv->stream(), reports);
    std::vector<OutputFile*> outputs;
    for (OutputFile* file : {json.get(), csv.get()}) {
        if (file != nullptr) outputs.push_back(file);
    }
    commit_all(outputs);  // both, or neither
}

}  // namespace scope_profiler::cli
