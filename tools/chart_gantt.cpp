// gantt.svg (charts.hpp): lanes of nested intervals on one time axis.

#include <algorithm>
#include <set>

#include <scope_profiler/color.hpp>

#include "charts.hpp"
#include "svg.hpp"

namespace scope_profiler::cli {

namespace {

constexpr double kLabelWidth = 250;   // lane labels, left of the plot
constexpr double kRightMargin = 24;
constexpr double kRowHeight = 12;     // one nesting level
constexpr double kLanePadding = 3;    // above and below the rows of a lane
constexpr double kTop = 84;           // first lane
constexpr std::size_t kMaxLegend = 40;
constexpr double kMinLabelWidth = 40;  // narrower intervals carry no name

std::string lane_label(const GanttLane& lane) {
    return "rank " + std::to_string(lane.rank) +
           (lane.device ? " \u00b7 stream " : " \u00b7 thread ") + std::to_string(lane.id) +
           (lane.device ? (lane.host_timed ? " (host timed)" : " (GPU)") : "");
}

std::string item_tooltip(const GanttLane::Item& item, const std::vector<std::string>& names) {
    std::string when = "+";
    when += svg::format_duration(static_cast<double>(item.start));
    if (item.count == 1) {
        return names[item.region] + ": " +
               svg::format_duration(static_cast<double>(item.end - item.start)) + " at " + when;
    }
    return std::to_string(item.count) + " short intervals merged (the longest: " +
           names[item.region] + ") from " + when + " to +" +
           svg::format_duration(static_cast<double>(item.end));
}

}  // namespace

double gantt_plot_width() { return kChartWidth - kLabelWidth - kRightMargin; }

void lay_out_lane(std::vector<Span>& spans, std::int64_t origin, double ns_per_px, GanttLane& lane) {
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
        if (a.start != b.start) return a.start < b.start;
        if (a.end != b.end) return a.end > b.end;
        return a.region < b.region;
    });
    // Per depth, the rectangle being built: neighbours narrower than a pixel join it while the
    // gap to it is below a pixel too. `longest` picks the region whose color it takes.
    struct Pending {
        GanttLane::Item item;
        std::int64_t longest = -1;
        bool narrow = false;
        bool active = false;
    };
    std::vector<Pending> pending(kGanttMaxRows);
    const auto flush = [&lane](Pending& p) {
        if (p.active) lane.items.push_back(p.item);
        p.active = false;
    };
    std::vector<std::int64_t> open_ends;  // the ends of the enclosing intervals
    bool covered = false;                 // busy time: the union of the intervals, in start order
    std::int64_t reach = 0;               // the latest end so far
    for (const Span& s : spans) {
        const std::int64_t end = std::max(s.end, s.start);
        if (!covered || end > reach) {
            lane.busy_ns += end - (covered ? std::max(s.start, reach) : s.start);
            reach = end;
            covered = true;
        }
        while (!open_ends.empty() && open_ends.back() <= s.start) open_ends.pop_back();
        if (!open_ends.empty() && end > open_ends.back()) open_ends.pop_back();  // crossing: a sibling
        const auto depth = static_cast<std::uint32_t>(open_ends.size());
        open_ends.push_back(open_ends.empty() ? end : std::min(end, open_ends.back()));
        ++lane.intervals;
        if (depth >= kGanttMaxRows) {
            ++lane.hidden;
            continue;
        }
        lane.rows = std::max(lane.rows, depth + 1);
        const std::int64_t start = s.start - origin;
        const std::int64_t stop = end - origin;
        const bool narrow = static_cast<double>(stop - start) < ns_per_px;
        Pending& p = pending[depth];
        if (p.active && p.narrow && narrow && static_cast<double>(start - p.item.end) < ns_per_px) {
            p.item.end = std::max(p.item.end, stop);
            ++p.item.count;
            if (stop - start > p.longest) {
                p.longest = stop - start;
                p.item.region = s.region;
            }
            continue;
        }
        flush(p);
        p.item = {start, stop, s.region, 1, depth};
        p.longest = stop - start;
        p.narrow = narrow;
        p.active = true;
    }
    for (Pending& p : pending) flush(p);
}

void limit_lanes(GanttData& data, std::size_t budget) {
    if (data.lanes.size() <= budget) return;
    // Each file gets an equal share of the budget, and what a file leaves unused goes to the
    // others: the largest share s with sum(min(lanes, s)) <= budget, then one more lane each
    // for the first files that have more, while the budget lasts.
    std::vector<std::size_t> count(data.files.size(), 0);
    for (const GanttLane& lane : data.lanes) ++count[lane.file];
    const auto used = [&count](std::size_t share) {
        std::size_t n = 0;
        for (const std::size_t c : count) n += std::min(c, share);
        return n;
    };
    std::size_t low = 0, high = budget;  // used(low) <= budget < used(high + 1)
    while (low < high) {
        const std::size_t mid = low + (high - low + 1) / 2;
        if (used(mid) <= budget) low = mid;
        else high = mid - 1;
    }
    std::vector<std::size_t> quota(count.size());
    std::size_t spare = budget - used(low);
    for (std::size_t f = 0; f < count.size(); ++f) {
        quota[f] = std::min(count[f], low);
        if (count[f] > low && spare > 0) ++quota[f], --spare;
    }

    // In each file (its lanes are consecutive), the busiest quota lanes; ties to the earlier.
    std::vector<bool> keep(data.lanes.size(), false);
    std::vector<std::size_t> order;
    for (std::size_t begin = 0; begin < data.lanes.size();) {
        const std::size_t file = data.lanes[begin].file;
        std::size_t end = begin;
        while (end < data.lanes.size() && data.lanes[end].file == file) ++end;
        order.resize(end - begin);
        for (std::size_t i = begin; i < end; ++i) order[i - begin] = i;
        const auto busier = [&data](std::size_t a, std::size_t b) {
            if (data.lanes[a].busy_ns != data.lanes[b].busy_ns) return data.lanes[a].busy_ns > data.lanes[b].busy_ns;
            return a < b;
        };
        const std::size_t n = std::min(quota[file], order.size());
        std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(), busier);
        for (std::size_t k = 0; k < n; ++k) keep[order[k]] = true;
        quota[file] -= n;
        begin = end;
    }

    data.lanes_left_out.assign(data.files.size(), 0);
    std::vector<GanttLane> kept;
    kept.reserve(budget);
    for (std::size_t i = 0; i < data.lanes.size(); ++i) {
        if (keep[i]) {
            kept.push_back(std::move(data.lanes[i]));
        } else {
            ++data.lanes_left_out[data.lanes[i].file];
            data.intervals_left_out += data.lanes[i].intervals;
        }
    }
    data.lanes = std::move(kept);
}

void limit_rectangles(GanttData& data, double ns_per_px, std::size_t budget) {
    const auto count = [&data] {
        std::size_t n = 0;
        for (const GanttLane& lane : data.lanes) n += lane.items.size();
        return n;
    };
    for (double px = 2; count() > budget && px <= 4096; px *= 2) {
        const double threshold = px * ns_per_px;
        const auto narrow = [threshold](const GanttLane::Item& i) { return static_cast<double>(i.end - i.start) < threshold; };
        for (GanttLane& lane : data.lanes) {
            std::stable_sort(lane.items.begin(), lane.items.end(), [](const auto& a, const auto& b) {
                return a.depth != b.depth ? a.depth < b.depth : a.start < b.start;
            });
            std::vector<GanttLane::Item> merged;
            bool absorbing = false;  // merged.back() began narrow: it takes narrow neighbours in
            for (const GanttLane::Item& item : lane.items) {
                if (!merged.empty()) {
                    GanttLane::Item& last = merged.back();
                    if (absorbing && last.depth == item.depth && narrow(item) &&
                        static_cast<double>(item.start - last.end) < threshold) {
                        if (item.end - item.start > last.end - last.start) last.region = item.region;
                        last.end = std::max(last.end, item.end);
                        last.count += item.count;
                        continue;
                    }
                }
                merged.push_back(item);
                absorbing = narrow(item);
            }
            lane.items = std::move(merged);
        }
    }
}

Chart render_gantt(const GanttData& data, const std::vector<std::string>& region_names) {
    const double plot_width = gantt_plot_width();
    const std::int64_t span = std::max<std::int64_t>(
        1, data.file_span_ns.empty() ? 1 : *std::max_element(data.file_span_ns.begin(), data.file_span_ns.end()));
    const auto x_of = [&](double ns) { return kLabelWidth + ns / static_cast<double>(span) * plot_width; };
    const bool several_files = data.files.size() > 1;

    // Vertical layout first: the height depends on the lanes.
    std::vector<double> lane_y(data.lanes.size());
    std::vector<std::pair<double, std::size_t>> file_headers;  // y, file
    double y = kTop;
    for (std::size_t i = 0; i < data.lanes.size(); ++i) {
        const GanttLane& lane = data.lanes[i];
        if (several_files && (i == 0 || data.lanes[i - 1].file != lane.file)) {
            file_headers.emplace_back(y, lane.file);
            y += 20;
        }
        lane_y[i] = y;
        y += std::max<std::uint32_t>(lane.rows, 1) * kRowHeight + 2 * kLanePadding + 2;
    }
    if (data.lanes.empty()) y += 30;  // room for the note that there is nothing to draw
    const double plot_bottom = y;

    std::set<std::uint32_t> used;
    std::uint64_t intervals = 0, rects = 0, hidden = 0;
    for (const GanttLane& lane : data.lanes) {
        for (const auto& item : lane.items) used.insert(item.region);
        intervals += lane.intervals;
        rects += lane.items.size();
        hidden += lane.hidden;
    }
    std::vector<std::string> used_names;
    for (const std::uint32_t r : used) used_names.push_back(region_names[r]);
    std::sort(used_names.begin(), used_names.end());
    svg::Legend legend;
    for (const std::string& name : used_names) {
        if (legend.size() == kMaxLegend) {
            legend.emplace_back("#ffffff", "+" + std::to_string(used_names.size() - kMaxLegend) + " more");
            break;
        }
        legend.emplace_back(svg::css_color(region_color(name)), name);
    }
    std::size_t lanes_left_out = 0;
    for (const std::size_t n : data.lanes_left_out) lanes_left_out += n;
    const double lanes_note = lanes_left_out > 0 ? 14 : 0;  // a line of its own under the first note
    const double height = plot_bottom + 34 + lanes_note + svg::legend_height(kChartWidth - 24, legend) + 12;

    const std::string title = "Timeline \u2014 " + files_title(data.files);
    svg::Writer w(kChartWidth, height, title);
    w.text(12, 24, title, "start", "title");
    w.text(12, 44,
           "Host intervals per thread, device intervals per GPU stream; nested calls stacked below "
           "their caller. Time from the " +
               std::string(several_files ? "earliest start of each file." : "earliest start."),
           "start", "small");

    // Time axis along the top, grid lines through the lanes.
    const svg::TimeUnit unit = svg::unit_for(static_cast<double>(span));
    w.begin_group("axis");
    w.line(kLabelWidth, kTop - 6, kLabelWidth + plot_width, kTop - 6, "#444");
    const auto ticks = data.lanes.empty() ? std::vector<double>{} : svg::nice_ticks(0, static_cast<double>(span) / unit.ns, 10);
    for (const double t : ticks) {
        const double x = x_of(t * unit.ns);
        w.line(x, kTop - 6, x, plot_bottom, "#e4e4e4");
        w.line(x, kTop - 10, x, kTop - 6, "#444");
        w.text(x, kTop - 14, svg::number(t, 3) + " " + std::string(unit.name), "middle", "small");
    }
    w.end_group();

    for (const auto& [hy, file] : file_headers) {
        const std::size_t left_out = data.lanes_left_out.empty() ? 0 : data.lanes_left_out[file];
        std::string header = data.files[file];
        if (left_out > 0) header += " (" + std::to_string(left_out) + " of its lanes not drawn)";
        w.text(12, hy + 14, svg::fit_text(header, kChartWidth - 24, 12), "start", "label");
        w.line(12, hy + 18, kChartWidth - kRightMargin, hy + 18, "#999");
    }
    if (data.lanes.empty()) w.text(kLabelWidth, kTop + 20, kNothingToShow, "start", "label", "#777");
    w.begin_group("lanes");
    for (std::size_t i = 0; i < data.lanes.size(); ++i) {
        const GanttLane& lane = data.lanes[i];
        const double lane_h = std::max<std::uint32_t>(lane.rows, 1) * kRowHeight + 2 * kLanePadding;
        w.rect(kLabelWidth, lane_y[i], plot_width, lane_h, i % 2 ? "#f7f7f7" : "#efeff3");
        std::string label = lane_label(lane);
        if (lane.hidden) label += " (deeper calls hidden)";
        w.text(kLabelWidth - 8, lane_y[i] + std::min(lane_h, 2 * kRowHeight) / 2 + 4,
               svg::fit_text(label, kLabelWidth - 16, 12), "end", "label");
    }
    w.end_group();

    w.begin_group("intervals");
    for (std::size_t i = 0; i < data.lanes.size(); ++i) {
        const GanttLane& lane = data.lanes[i];
        for (const auto& item : lane.items) {
            const double x0 = x_of(static_cast<double>(item.start));
            double width = std::max(x_of(static_cast<double>(item.end)) - x0, 1.0);
            if (item.count == 1 && width >= 3) width -= 0.5;  // a hairline between neighbours
            const double ry = lane_y[i] + kLanePadding + item.depth * kRowHeight;
            // Tooltips only where a pointer can find them: keeps large charts small.
            w.rect(x0, ry, width, kRowHeight - 1, svg::css_color(region_color(region_names[item.region])),
                   width >= 2 ? item_tooltip(item, region_names) : std::string{}, "iv");
        }
    }
    w.end_group();
    // Names inside the intervals wide enough to hold a few characters.
    w.begin_group("names");
    for (std::size_t i = 0; i < data.lanes.size(); ++i) {
        for (const auto& item : data.lanes[i].items) {
            const double x0 = x_of(static_cast<double>(item.start));
            const double width = x_of(static_cast<double>(item.end)) - x0;
            if (item.count != 1 || width < kMinLabelWidth) continue;
            const std::string label = svg::fit_text(region_names[item.region], width - 4, 9);
            if (label.empty()) continue;
            w.text(x0 + 2, lane_y[i] + kLanePadding + item.depth * kRowHeight + kRowHeight - 3, label,
                   "start", "tiny");
        }
    }
    w.end_group();

    double ly = plot_bottom + 16;
    std::string note = std::to_string(intervals) + " intervals";
    if (rects < intervals - hidden) {
        note += "; neighbours narrower than a pixel merged into " + std::to_string(rects) + " rectangles";
    }
    if (hidden) note += "; " + std::to_string(hidden) + " nested deeper than " + std::to_string(kGanttMaxRows) + " levels not drawn";
    w.text(12, ly, note, "start", "small");
    if (lanes_left_out > 0) {
        ly += lanes_note;
        w.text(12, ly,
               std::to_string(lanes_left_out) + " more lanes (" + std::to_string(data.intervals_left_out) +
                   " intervals) not drawn: the timeline draws " + std::to_string(data.lanes.size()) +
                   " lanes, an equal share per file, those with the most time in calls. --ranks or --include choose others.",
               "start", "small");
    }
    w.legend(12, ly + 12, kChartWidth - 24, legend);

    Chart chart;
    chart.svg = w.finish();
    chart.data.columns = {"file", "rank", "lane", "lane_id", "depth", "region", "start_ns", "end_ns", "intervals"};
    for (const GanttLane& lane : data.lanes) {
        for (const auto& item : lane.items) {
            chart.data.rows.push_back({data.files[lane.file], std::int64_t{lane.rank},
                                       std::string(lane.device ? "stream" : "thread"), lane.id,
                                       std::int64_t{item.depth}, region_names[item.region], item.start,
                                       item.end, static_cast<std::int64_t>(item.count)});
        }
    }
    return chart;
}

}  // namespace scope_profiler::cli
