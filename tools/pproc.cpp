// `scope-profiler pproc` (pproc.hpp): two streaming passes over every file. The first gathers
// the statistics and each file's time span (slices of each region's datasets); the second,
// one rank at a time, groups the intervals by thread and by stream, lays out the timeline
// lanes and builds the call tree. The charts are made in memory and written at the end, each
// file whole or not at all.

#include "pproc.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "charts.hpp"
#include "filters.hpp"
#include "stats/moments.hpp"
#include "output_file.hpp"
#include "profile_file.hpp"
#include "progress.hpp"
#include "selection_options.hpp"
#include "svg.hpp"
#include "duration_sum.hpp"

namespace scope_profiler::cli {

namespace {

constexpr std::uint64_t kSlice = std::uint64_t{1} << 20;  // intervals read at a time

/// The regions of the chosen ranks that pass the filter, numbered over every file by name.
class RegionTable {
public:
    std::uint32_t index(const std::string& name) {
        const auto [it, inserted] = index_.try_emplace(name, static_cast<std::uint32_t>(names_.size()));
        if (inserted) names_.push_back(name);
        return it->second;
    }
    [[nodiscard]] std::uint32_t at(const std::string& name) const { return index_.at(name); }
    [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }

private:
    std::unordered_map<std::string, std::uint32_t> index_;
    std::vector<std::string> names_;
};

/// A lane of the timeline in a file: rank, stream (true) or thread (false), id.
using LaneKey = std::tuple<int, bool, std::int64_t>;

/// Counts intervals per lane id (thread or stream) into sizes, for one slice.
template <class Id>
void count_by_lane(const std::vector<Id>& ids, int rank, bool device, std::map<LaneKey, std::uint64_t>& sizes) {
    std::uint64_t* size = nullptr;
    std::int64_t lane_id = 0;
    for (const Id id : ids) {
        if (size == nullptr || id != lane_id) {  // intervals of one lane come in runs
            lane_id = id;
            size = &sizes[LaneKey{rank, device, lane_id}];
        }
        ++*size;
    }
}

/// What the first pass learns of one file.
struct FileSummary {
    std::int64_t first_start = std::numeric_limits<std::int64_t>::max();
    std::int64_t last_end = std::numeric_limits<std::int64_t>::min();
    std::uint64_t intervals = 0;
    std::vector<DurationSummary> host, device;  ///< by region index
    /// Per region, the largest per-rank total of host time (speedup.svg).
    std::vector<std::int64_t> slowest_rank_ns;
    int rank_count = 1;
    /// Intervals per lane, to size the lanes' span lists exactly in the second pass.
    std::map<LaneKey, std::uint64_t> lane_sizes;

    [[nodiscard]] std::int64_t span() const { return intervals ? last_end - first_start : 0; }
    void extend(std::int64_t start, std::int64_t end) {
        first_start = std::min(first_start, start);
        last_end = std::max(last_end, std::max(start, end));
        ++intervals;
    }
};

/// The rank count of a run: the metadata's mpi_size, else the number of rank groups.
int rank_count(const ProfileFile& file) {
    for (const auto& [key, value, number] : file.metadata()) {
        int n = 0;
        if (key == "mpi_size" && std::from_chars(value.data(), value.data() + value.size(), n).ec == std::errc{} && n > 0) {
            return n;
        }
    }
    return std::max<int>(1, static_cast<int>(file.ranks().size()));
}

/// Short names for the files: the file name, or the path where two file names are the same.
std::vector<std::string> file_labels(const std::vector<std::string>& paths) {
    std::vector<std::string> labels;
    for (const auto& p : paths) labels.push_back(std::filesystem::path(p).filename().string());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (std::count(labels.begin(), labels.end(), labels[i]) > 1) {
            for (std::size_t j = 0; j < labels.size(); ++j) {
                if (labels[j] == labels[i] && j != i) labels[j] = paths[j];
            }
            labels[i] = paths[i];
        }
    }
    return labels;
}

/// Calls fn(columns) for consecutive slices of a region's host intervals (device intervals
/// with `device`), kSlice intervals at a time.
template <bool device, class Fn>
void for_slices(const ProfileFile& file, const RegionInfo& region, Progress& progress, Fn&& fn) {
    const std::uint64_t count = device ? region.device_count : region.host_count;
    for (std::uint64_t first = 0; first < count; first += kSlice) {
        if constexpr (device) {
            fn(file.read_device(region, first, kSlice));
        } else {
            fn(file.read_host(region, first, kSlice));
        }
        progress.advance(std::min(kSlice, count - first));
    }
}

/// The intervals a file holds in the chosen ranks and regions (for the progress lines).
std::uint64_t chosen_intervals(const ProfileFile& file, const RankSet& ranks, const RegionFilter& filter) {
    std::uint64_t n = 0;
    for (const RankInfo& rank : file.ranks()) {
        if (!ranks.contains(rank.rank)) continue;
        for (const RegionInfo& region : rank.regions) {
            if (filter.matches(region.name)) n += region.host_count + region.device_count;
        }
    }
    return n;
}

/// Pass 1: statistics, time span, per-rank totals.
FileSummary summarize(const ProfileFile& file, const RankSet& ranks, const RegionFilter& filter,
                      RegionTable& table) {
    FileSummary summary;
    summary.rank_count = rank_count(file);
    Progress progress("reading " + file.path(), chosen_intervals(file, ranks, filter));
    const auto grow = [&summary](std::size_t n) {
        if (summary.host.size() < n) {
            summary.host.resize(n);
            summary.device.resize(n);
            summary.slowest_rank_ns.resize(n);
        }
    };
    for (const RankInfo& rank : file.ranks()) {
        if (!ranks.contains(rank.rank)) continue;
        for (const RegionInfo& region : rank.regions) {
            if (!filter.matches(region.name)) continue;
            const std::uint32_t r = table.index(region.name);
            grow(table.names().size());
            DurationSummary rank_host;
            for_slices<false>(file, region, progress, [&](const HostColumns& c) {
                for (std::size_t i = 0; i < c.start_times.size(); ++i) {
                    summary.extend(c.start_times[i], c.end_times[i]);
                    rank_host.add(c.end_times[i] - c.start_times[i]);
                }
                count_by_lane(c.thread_ids, rank.rank, false, summary.lane_sizes);
            });
            summary.host[r].merge(rank_host);
            summary.slowest_rank_ns[r] = std::max(summary.slowest_rank_ns[r], rank_host.total);
            for_slices<true>(file, region, progress, [&](const DeviceColumns& c) {
                for (std::size_t i = 0; i < c.start_times.size(); ++i) {
                    summary.extend(c.start_times[i], c.end_times[i]);
                    summary.device[r].add(c.end_times[i] - c.start_times[i]);
                }
                count_by_lane(c.stream_ids, rank.rank, true, summary.lane_sizes);
            });
        }
    }
    grow(table.names().size());
    return summary;
}

/// Appends the intervals of one slice to the span list of their lane (thread or stream).
template <class Id>
void group_by_lane(const std::vector<std::int64_t>& starts, const std::vector<std::int64_t>& ends,
                   const std::vector<Id>& ids, std::uint32_t region,
                   std::map<std::int64_t, std::vector<Span>>& lanes) {
    std::vector<Span>* lane = nullptr;
    std::int64_t lane_id = 0;
    for (std::size_t i = 0; i < starts.size(); ++i) {
        if (lane == nullptr || ids[i] != lane_id) {  // intervals of one lane come in runs
            lane_id = ids[i];
            lane = &lanes[lane_id];
        }
        lane->push_back({starts[i], ends[i], region});
    }
}

/// Pass 2 for one file: timeline lanes (appended to gantt.lanes) and the call tree.
CallTree lay_out_file(const ProfileFile& file, std::size_t file_index, const FileSummary& summary,
                      const RankSet& ranks, const RegionFilter& filter, const RegionTable& table,
                      double ns_per_px, GanttData& gantt) {
    NestingBuilder nesting(static_cast<std::uint32_t>(table.names().size()));
    Progress progress("laying out " + file.path(), chosen_intervals(file, ranks, filter));
    for (const RankInfo& rank : file.ranks()) {
        if (!ranks.contains(rank.rank)) continue;
        std::map<std::int64_t, std::vector<Span>> threads, streams;
        std::set<std::int64_t> gpu_streams;  // streams with an interval a GPU timed
        // The rank's lanes only: a loop over every lane of the file, per rank, was ranks x lanes.
        const LaneKey rank_first{rank.rank, false, std::numeric_limits<std::int64_t>::min()};
        for (auto it = summary.lane_sizes.lower_bound(rank_first);
             it != summary.lane_sizes.end() && std::get<0>(it->first) == rank.rank; ++it) {
            const auto& [lane_rank, device, id] = it->first;
            (device ? streams : threads)[id].reserve(it->second);
        }
        for (const RegionInfo& region : rank.regions) {
            if (!filter.matches(region.name)) continue;
            const std::uint32_t r = table.at(region.name);
            for_slices<false>(file, region, progress, [&](const HostColumns& c) {
                group_by_lane(c.start_times, c.end_times, c.thread_ids, r, threads);
            });
            for_slices<true>(file, region, progress, [&](const DeviceColumns& c) {
                group_by_lane(c.start_times, c.end_times, c.stream_ids, r, streams);
                for (std::size_t i = 0; i < c.stream_ids.size(); ++i) {
                    if (c.host_fallback[i] == 0) gpu_streams.insert(c.stream_ids[i]);
                }
            });
        }
        for (auto& [id, spans] : threads) {
            GanttLane& lane = gantt.lanes.emplace_back();
            lane.file = file_index;
            lane.rank = rank.rank;
            lane.id = id;
            lay_out_lane(spans, summary.first_start, ns_per_px, lane);
            nesting.add_thread(std::move(spans));
        }
        for (auto& [id, spans] : streams) {
            GanttLane& lane = gantt.lanes.emplace_back();
            lane.file = file_index;
            lane.rank = rank.rank;
            lane.device = true;
            lane.host_timed = !gpu_streams.contains(id);
            lane.id = id;
            lay_out_lane(spans, summary.first_start, ns_per_px, lane);
        }
    }
    return nesting.tree();
}

/// The charts' files: name in the output directory, and content.
using Outputs = std::vector<std::pair<std::string, std::string>>;

void add_chart(Outputs& outputs, const std::string& name, Chart chart, const PprocOptions& options) {
    if (options.export_data) {
        const bool json = options.export_format == "json";
        outputs.emplace_back(name + (json ? ".json" : ".csv"), json ? to_json(chart.data) : to_csv(chart.data));
    }
    outputs.emplace_back(name + ".svg", std::move(chart.svg));
}

/// Writes every output into dir: all temporary files first, then the renames.
void write_outputs(const std::string& dir, const Outputs& outputs) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error || !std::filesystem::is_directory(dir)) {
        throw InputError("cannot create the output directory " + dir + ": " +
                         (error ? error.message() : "a file of that name is in the way"));
    }
    std::vector<std::unique_ptr<OutputFile>> files;
    for (const auto& [name, content] : outputs) {
        files.push_back(std::make_unique<OutputFile>((std::filesystem::path(dir) / name).string()));
        files.back()->stream().write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    std::vector<OutputFile*> all;
    for (const auto& file : files) all.push_back(file.get());
    commit_all(all);  // all of them, or none
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        std::cout << "wrote " << files[i]->path() << " (" << (outputs[i].second.size() + 1023) / 1024 << " KiB)\n";
    }
}

}  // namespace

void run_pproc(const PprocOptions& options) {
    protect_inputs(options.files);
    if (options.export_format != "csv" && options.export_format != "json") {
        throw InputError("--export-data-format: '" + options.export_format + "' is neither csv nor json");
    }
    const SpeedupMetric metric = speedup_metric(options.speedup_metric);
    const RegionFilter filter(options.include, options.exclude);
    const RankSet ranks(options.ranks);
    std::vector<ProfileFile> files;
    for (const std::string& path : options.files) {
        files.emplace_back(path);
        require_chosen_ranks(files.back(), ranks);
    }
    const std::vector<std::string> labels = file_labels(options.files);

    RegionTable table;
    std::vector<FileSummary> summaries;
    for (const ProfileFile& file : files) {
        summaries.push_back(naming_the_file(file.path(), [&] { return summarize(file, ranks, filter, table); }));
    }
    const std::size_t region_count = table.names().size();
    for (FileSummary& s : summaries) {
        s.host.resize(region_count);
        s.device.resize(region_count);
        s.slowest_rank_ns.resize(region_count);
    }

    GanttData gantt;
    gantt.files = labels;
    for (const FileSummary& s : summaries) gantt.file_span_ns.push_back(s.span());
    const std::int64_t longest = std::max<std::int64_t>(1, *std::max_element(gantt.file_span_ns.begin(), gantt.file_span_ns.end()));
    const double ns_per_px = static_cast<double>(longest) / gantt_plot_width();
    std::vector<CallTree> trees;
    for (std::size_t f = 0; f < files.size(); ++f) {
        trees.push_back(naming_the_file(files[f].path(), [&] {
            return lay_out_file(files[f], f, summaries[f], ranks, filter, table, ns_per_px, gantt);
        }));
    }

    if (region_count == 0) {
        std::cerr << "scope-profiler: no region matches the chosen names and ranks: the charts are empty\n";
    }
    limit_lanes(gantt);
    limit_rectangles(gantt, ns_per_px);
    Outputs outputs;
    add_chart(outputs, "gantt", render_gantt(gantt, table.names()), options);
    add_chart(outputs, "flame", render_flame(labels, trees, table.names()), options);

    std::vector<DurationRow> rows;
    for (std::uint32_t r = 0; r < region_count; ++r) {
        for (const bool device : {false, true}) {
            DurationRow row{table.names()[r], device, {}};
            for (const FileSummary& s : summaries) row.per_file.push_back(device ? s.device[r] : s.host[r]);
            rows.push_back(std::move(row));
        }
    }
    for (const std::string& metric : duration_metrics()) {
        add_chart(outputs, "durations_" + metric, render_durations(metric, labels, rows), options);
    }

    std::vector<ScalingRun> runs;
    for (std::size_t f = 0; f < files.size(); ++f) {
        const FileSummary& s = summaries[f];
        ScalingRun run{labels[f], s.rank_count, s.span(), {}};
        for (std::uint32_t r = 0; r < region_count; ++r) {
            if (s.slowest_rank_ns[r] <= 0) continue;
            const double mean = stats::mean_of(s.host[r].total, s.host[r].count);
            run.regions.push_back({table.names()[r], metric == SpeedupMetric::mean ? mean : static_cast<double>(s.slowest_rank_ns[r]),
                                   s.slowest_rank_ns[r]});
        }
        runs.push_back(std::move(run));
    }
    const bool scaling = std::any_of(runs.begin(), runs.end(), [&](const ScalingRun& r) { return r.ranks != runs[0].ranks; });
    if (scaling) {
        add_chart(outputs, "speedup", render_speedup(runs, metric), options);
    } else if (files.size() > 1) {
        std::cerr << "scope-profiler: no speedup.svg: every file has " << runs[0].ranks
                  << (runs[0].ranks == 1 ? " rank" : " ranks") << " (it needs runs of different rank counts)\n";
    }
    // The inputs are closed before any output appears: libhdf5 can fail (even crash) closing a
    // damaged file, and a command that fails leaves no output.
    files.clear();
    write_outputs(options.output_dir, outputs);
}

void add_pproc_command(CLI::App& app) {
    auto options = std::make_shared<PprocOptions>();
    CLI::App* command = app.add_subcommand(
        "pproc", "Charts as SVG: gantt.svg (timeline), flame.svg, durations_<avg|min|max|total>.svg and, for "
                 "files of different rank counts, speedup.svg");
    command->add_option("files", options->files, "Profiling files (HDF5); several are compared side by side")->required();
    command->add_option("-o,--output", options->output_dir, "Directory for the charts (created when missing)")->required();
    add_selection(*command, options->include, options->exclude, options->ranks);
    command->add_option("--speedup-metric", options->speedup_metric,
                        "A region's time in speedup.svg: mean (default: its mean duration per call, as the Python "
                        "scope-profiler) or total (its largest per-rank total)")
        ->check(CLI::IsMember({"mean", "total"}));
    command->add_flag("--export-data", options->export_data, "Also write the data behind each chart next to it");
    CLI::Option* format = command->add_option("--export-data-format", options->export_format,
                                              "csv (default) or json; implies --export-data")
                              ->check(CLI::IsMember({"csv", "json"}));
    command->callback([options, format] {
        if (format->count() > 0) options->export_data = true;
        run_pproc(*options);
    });
}

}  // namespace scope_profiler::cli
