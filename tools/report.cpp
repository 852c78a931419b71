// `scope-profiler report` (report.hpp): the computation, every statistic through the stats/
// component, and the sorting. The outputs: report_text.cpp (the table), report_json.cpp,
// report_csv.cpp.

#include "report.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <span>
#include <map>
#include <ostream>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "huge_pages.hpp"
#include "nesting.hpp"
#include "output_file.hpp"
#include "progress.hpp"
#include "duration_sum.hpp"
#include "stats/host_stats.hpp"
#include "stats/moments.hpp"

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

/// Statistics of durations[offset, end), with first/last from `ends`.
DurationStats stats_of(const std::vector<std::int64_t>& durations, std::size_t offset, const Ends& ends) {
    DurationStats stats = duration_stats(std::span(durations).subspan(offset));
    stats.first = ends.first;
    stats.last = ends.last;
    return stats;
}

}  // namespace

DurationStats duration_stats(std::span<const std::int64_t> durations) {
    DurationStats stats;
    const stats::Moments m = stats::plain_moments(durations);
    if (!stats::total_fits(m)) throw SumOverflow();
    const Stats s = stats::stats_of(durations, m);
    stats.count = s.count;
    if (stats.count == 0) return stats;
    stats.total = s.total;
    stats.min = s.min;
    stats.max = s.max;
    stats.mean = s.mean;
    stats.std = s.stddev;
    stats.p50 = s.p50;
    stats.p95 = s.p95;
    stats.p99 = s.p99;
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
