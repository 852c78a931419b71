#pragma once
// The charts of `scope-profiler pproc` (docs/cli.md), drawn from data already gathered from the
// files (pproc.cpp gathers it): each returns the SVG text and the table behind it, which
// --export-data writes. Colors per region are the NVTX ones (scope_profiler::region_color).

#include <cstdint>
#include <string>
#include <vector>

#include "export_data.hpp"
#include "nesting.hpp"

namespace scope_profiler::cli {

/// A chart: the SVG document and the data it shows.
struct Chart {
    std::string svg;
    Table data;
};

/// Width in px of every chart.
inline constexpr double kChartWidth = 1200;

/// What a chart says when the chosen regions and ranks hold no interval.
inline constexpr const char* kNothingToShow = "No intervals in the chosen regions and ranks.";

/// The files a chart shows, for its title: their names while they fit, else how many.
std::string files_title(const std::vector<std::string>& files);

// ---- gantt.svg --------------------------------------------------------------------------------

/// One lane of the timeline: a thread (host intervals) or a GPU stream (device intervals) of
/// one rank of one file.
struct GanttLane {
    /// A rectangle drawn: one interval, or several neighbours narrower than a pixel merged.
    struct Item {
        std::int64_t start = 0;   ///< ns from the file's earliest start
        std::int64_t end = 0;
        std::uint32_t region = 0; ///< the region of the interval (of the longest one when merged)
        std::uint32_t count = 1;  ///< intervals in the rectangle
        std::uint32_t depth = 0;  ///< nesting depth on the lane (0: outermost)
    };
    std::size_t file = 0;
    int rank = 0;
    bool device = false;
    bool host_timed = false;      ///< a stream whose every interval was timed on the host (no GPU)
    std::int64_t id = 0;          ///< thread id or stream id
    std::uint32_t rows = 0;       ///< nesting levels drawn
    std::uint64_t intervals = 0;  ///< intervals on the lane
    std::uint64_t hidden = 0;     ///< intervals nested deeper than kGanttMaxRows, not drawn
    std::int64_t busy_ns = 0;     ///< time inside any interval of the lane (limit_lanes keeps the busiest)
    std::vector<Item> items;
};

/// Nesting levels a lane draws at most.
inline constexpr std::uint32_t kGanttMaxRows = 24;

/// The plot width of the timeline in px: ns_per_px = (longest file span) / kGanttPlotWidth.
double gantt_plot_width();

/// Lays out one lane: nesting depth per interval (a start-order stack sweep, as NestingBuilder)
/// and neighbours narrower than `ns_per_px` merged per depth, Perfetto-like, so a lane holds
/// at most a few rectangles per pixel column whatever its number of intervals. `spans` is
/// sorted in place (start ascending, end descending); times are made relative to `origin`.
void lay_out_lane(std::vector<Span>& spans, std::int64_t origin, double ns_per_px, GanttLane& lane);

struct GanttData {
    std::vector<std::string> files;          ///< names shown (one per file)
    std::vector<std::int64_t> file_span_ns;  ///< earliest start to latest end, per file
    std::vector<GanttLane> lanes;            ///< by file, rank, host before device, id
    std::vector<std::size_t> lanes_left_out; ///< per file: lanes limit_lanes dropped (empty: none)
    std::uint64_t intervals_left_out = 0;    ///< the intervals on those lanes
};

/// Lanes a timeline draws at most. The rectangle budget bounds what lanes hold, not the lanes
/// themselves: each costs a background, a label and at least one rectangle, so a file of
/// 100,000 threads of one call each made a 23 MB gantt.svg. 1,000 lanes take about 250 KB.
inline constexpr std::size_t kGanttMaxLanes = 1000;

/// Keeps at most `budget` lanes, in their order, and counts the others in lanes_left_out and
/// intervals_left_out. Each file gets an equal share (what one does not need goes to the
/// others), filled with its lanes of most busy time (ties: the earlier lane): the threads that
/// did the work stay, idle ones go first. About linear in the lanes.
void limit_lanes(GanttData& data, std::size_t budget = kGanttMaxLanes);

/// Rectangles a timeline draws at most (at most about 3 MB of SVG).
inline constexpr std::size_t kGanttMaxRectangles = 20000;

/// Keeps the timeline within `budget` rectangles: while it holds more, neighbours at the same
/// depth narrower than 2, 4, 8, ... pixels (and closer than that) merge, as lay_out_lane merges
/// those narrower than one. Many lanes of sparse short calls need it; most files never do.
void limit_rectangles(GanttData& data, double ns_per_px, std::size_t budget = kGanttMaxRectangles);

/// gantt.svg: a lane per thread and per stream, nested intervals stacked below their parent.
Chart render_gantt(const GanttData& data, const std::vector<std::string>& region_names);

// ---- flame.svg --------------------------------------------------------------------------------

/// Call-path depth a flame graph draws at most (the root, `all`, is depth 0), and regions a
/// path in flame.csv keeps. A chain of calls k deep has k paths of up to k regions: drawn or
/// written whole, that is k^2 work and output (a chain 100,000 deep ran out of memory), so
/// deeper frames are left out of the chart, which says so, and a deeper path keeps its
/// innermost regions after kFlameCutMarker.
inline constexpr std::uint32_t kFlameMaxDepth = 128;

/// The first frame of a path cut in flame.csv: `...;b;c` stands for a path deeper than
/// kFlameMaxDepth whose innermost kFlameMaxDepth regions end in b;c.
inline constexpr const char* kFlameCutMarker = "...";

/// flame.svg: one flame graph per file (the call tree merged over its ranks and threads), the
/// root at the bottom, width proportional to total time, recursion as a tower. Its table has a
/// row per call path, parents before children: file, path (folded, cut as kFlameMaxDepth
/// says), depth, region, calls, total_ns, self_ns, id (1, 2, ... in row order, per file) and
/// parent_id (0 for a call at the top), which give the exact tree however deep.
Chart render_flame(const std::vector<std::string>& files, const std::vector<CallTree>& trees,
                   const std::vector<std::string>& region_names);

// ---- durations_<metric>.svg -------------------------------------------------------------------

/// Durations of one region (host or device intervals) in one file.
struct DurationSummary {
    std::uint64_t count = 0;
    std::int64_t total = 0;
    std::int64_t min = 0;
    std::int64_t max = 0;
    void add(std::int64_t duration);  // SumOverflow (duration_sum.hpp) when the total leaves 64 bits
    void merge(const DurationSummary& other);
};

/// A bar group: one region's host (or device) durations in every file.
struct DurationRow {
    std::string region;
    bool device = false;
    std::vector<DurationSummary> per_file;  ///< one per file; count 0 where absent
};

/// The metrics with a durations chart each: "avg", "min", "max", "total".
const std::vector<std::string>& duration_metrics();
/// The metric's value of a summary, ns.
double metric_value(const DurationSummary& s, const std::string& metric);

/// durations_<metric>.svg: a horizontal bar per region and file, regions by decreasing value.
Chart render_durations(const std::string& metric, const std::vector<std::string>& files,
                       const std::vector<DurationRow>& rows);

// ---- speedup.svg ------------------------------------------------------------------------------

/// What a region's time in a run is, for its speedup (`pproc --speedup-metric`).
enum class SpeedupMetric {
    mean,   ///< the mean duration of a call over the chosen ranks: the Python library's pproc
    total,  ///< the largest per-rank total (the ranks wait for the slowest)
};

/// The metric named on the command line ("mean" or "total"); InputError for any other name.
SpeedupMetric speedup_metric(const std::string& name);

/// One region in one run of the scaling study.
struct ScalingRegion {
    std::string name;
    double time_ns = 0;          ///< its time by the metric (0: no call)
    std::int64_t total_ns = 0;   ///< its largest per-rank total: which regions take the most time
};

/// One run of the scaling study: a file and its rank count.
struct ScalingRun {
    std::string file;
    int ranks = 1;
    std::int64_t wall_ns = 0;  ///< earliest start to latest end over every rank
    std::vector<ScalingRegion> regions;
};

/// speedup.svg: speedup against the fewest ranks, for the wall time and the regions of most
/// time in the runs of the fewest ranks, with the ideal (linear) line. The runs of one rank
/// count are averaged, as the Python library's pproc does: at each rank count a series' time is
/// the mean of its times in the runs that have it. Needs runs of two distinct rank counts.
Chart render_speedup(const std::vector<ScalingRun>& runs, SpeedupMetric metric);

}  // namespace scope_profiler::cli
