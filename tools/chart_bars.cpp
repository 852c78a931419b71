// durations_<metric>.svg and speedup.svg (charts.hpp).

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <scope_profiler/color.hpp>

#include "charts.hpp"
#include "stats/moments.hpp"
#include "svg.hpp"
#include "duration_sum.hpp"

namespace scope_profiler::cli {

namespace {

constexpr double kMaxBarRows = 60;  // region groups drawn; the exported data has all

/// `argb` mixed with white: alpha 1 keeps the color, 0 gives white.
std::string faded(std::uint32_t argb, double alpha) {
    const auto mix = [alpha](std::uint32_t channel) {
        return static_cast<std::uint32_t>(std::lround(channel * alpha + 255.0 * (1 - alpha)));
    };
    return svg::css_color((mix((argb >> 16) & 0xFF) << 16) | (mix((argb >> 8) & 0xFF) << 8) | mix(argb & 0xFF));
}

/// How strongly file k of n is drawn: the first file in full color, later ones paler.
double file_alpha(std::size_t k, std::size_t n) {
    return n <= 1 ? 1.0 : 1.0 - 0.65 * static_cast<double>(k) / static_cast<double>(n - 1);
}

std::string metric_title(const std::string& metric) {
    if (metric == "avg") return "Average duration per call";
    if (metric == "min") return "Shortest call";
    if (metric == "max") return "Longest call";
    return "Total time";
}

std::string row_label(const DurationRow& row) { return row.region + (row.device ? " [GPU]" : ""); }

}  // namespace

std::string files_title(const std::vector<std::string>& files) {
    std::string joined;
    for (const std::string& f : files) joined += (joined.empty() ? "" : ", ") + f;
    if (files.size() <= 1 || joined.size() <= 80) return joined;
    return std::to_string(files.size()) + " files: " + svg::fit_text(joined, 600, 16);
}

void DurationSummary::add(std::int64_t duration) {
    min = count == 0 ? duration : std::min(min, duration);
    max = count == 0 ? duration : std::max(max, duration);
    total = add_ns(total, duration);
    ++count;
}

void DurationSummary::merge(const DurationSummary& other) {
    if (other.count == 0) return;
    min = count == 0 ? other.min : std::min(min, other.min);
    max = count == 0 ? other.max : std::max(max, other.max);
    total = add_ns(total, other.total);
    count += other.count;
}

const std::vector<std::string>& duration_metrics() {
    static const std::vector<std::string> metrics{"avg", "min", "max", "total"};
    return metrics;
}

double metric_value(const DurationSummary& s, const std::string& metric) {
    if (s.count == 0) return 0;
    if (metric == "avg") return stats::mean_of(s.total, s.count);
    if (metric == "min") return static_cast<double>(s.min);
    if (metric == "max") return static_cast<double>(s.max);
    return static_cast<double>(s.total);
}

Chart render_durations(const std::string& metric, const std::vector<std::string>& files,
                       const std::vector<DurationRow>& rows) {
    const auto best = [&](const DurationRow& row) {
        double v = 0;
        for (const auto& s : row.per_file) v = std::max(v, metric_value(s, metric));
        return v;
    };
    std::vector<const DurationRow*> order;
    for (const DurationRow& row : rows) {
        if (std::any_of(row.per_file.begin(), row.per_file.end(), [](const auto& s) { return s.count > 0; })) {
            order.push_back(&row);
        }
    }
    std::stable_sort(order.begin(), order.end(), [&](const DurationRow* a, const DurationRow* b) { return best(*a) > best(*b); });
    const std::size_t shown = std::min<std::size_t>(order.size(), kMaxBarRows);
    double max_value = 1;
    for (const DurationRow* row : order) max_value = std::max(max_value, best(*row));

    const std::size_t n = files.size();
    const double bar_h = n == 1 ? 16 : std::max(6.0, 14.0 - static_cast<double>(n));
    const double group_h = static_cast<double>(n) * bar_h + 8;
    constexpr double label_w = 270, value_w = 96, top = 84;
    const double plot_left = label_w + (n > 1 ? 14 : 0);
    const double plot_w = kChartWidth - plot_left - value_w;
    svg::Legend legend;
    if (n > 1) {
        for (std::size_t k = 0; k < n; ++k) {
            legend.emplace_back(faded(0xFF404040u, file_alpha(k, n)), std::to_string(k + 1) + ": " + files[k]);
        }
    }
    const double plot_bottom = top + static_cast<double>(std::max<std::size_t>(shown, 1)) * group_h;
    const double height = plot_bottom + 30 + svg::legend_height(kChartWidth - 24, legend) + 16;

    const std::string title = metric_title(metric) + " per region \u2014 " + files_title(files);
    svg::Writer w(kChartWidth, height, title);
    w.text(12, 24, title, "start", "title");
    std::string subtitle = "Host intervals; [GPU] marks the device intervals of a region.";
    if (n > 1) subtitle += " One bar per file, top to bottom in the order of the legend.";
    if (order.size() > shown) subtitle += " The " + std::to_string(shown) + " largest of " + std::to_string(order.size()) + " shown.";
    w.text(12, 44, subtitle, "start", "small");

    const svg::TimeUnit unit = svg::unit_for(max_value);
    const auto x_of = [&](double ns) { return plot_left + ns / max_value * plot_w; };
    w.begin_group("axis");
    for (const double t : svg::nice_ticks(0, max_value / unit.ns, 8)) {
        const double x = x_of(t * unit.ns);
        w.line(x, top - 6, x, plot_bottom, "#e4e4e4");
        w.text(x, top - 12, svg::number(t, 3) + " " + std::string(unit.name), "middle", "small");
    }
    w.line(plot_left, top - 6, plot_left, plot_bottom, "#444");
    w.end_group();

    if (order.empty()) w.text(plot_left + 8, top + 16, kNothingToShow, "start", "label", "#777");
    w.begin_group("bars");
    for (std::size_t r = 0; r < shown; ++r) {
        const DurationRow& row = *order[r];
        const double gy = top + static_cast<double>(r) * group_h;
        const std::uint32_t color = region_color(row.region);
        w.text(label_w - 8, gy + (group_h - 8) / 2 + 4, svg::fit_text(row_label(row), label_w - 20, 12), "end");
        for (std::size_t k = 0; k < n; ++k) {
            const DurationSummary& s = row.per_file[k];
            const double y = gy + static_cast<double>(k) * bar_h;
            if (n > 1) w.text(plot_left - 4, y + bar_h - 3, std::to_string(k + 1), "end", "small", "#777");
            if (s.count == 0) {
                w.text(plot_left + 4, y + bar_h - 3, "\u2014 (not in this file)", "start", "small", "#777");
                continue;
            }
            const double v = metric_value(s, metric);
            const double bw = std::max(x_of(v) - plot_left, 1.0);
            w.rect(plot_left, y, bw, bar_h - 1, faded(color, file_alpha(k, n)),
                   row_label(row) + ": " + svg::format_duration(v) + " (" + std::to_string(s.count) +
                       (s.count == 1 ? " call" : " calls") + (n > 1 ? ", " + files[k] : "") + ")",
                   "bar");
            w.text(plot_left + bw + 4, y + bar_h - 3, svg::format_duration(v), "start", "small");
        }
    }
    w.end_group();
    if (!legend.empty()) w.legend(12, plot_bottom + 20, kChartWidth - 24, legend);

    Chart chart;
    chart.svg = w.finish();
    chart.data.columns = {"file", "region", "kind", "count", metric + "_ns"};
    for (const DurationRow* row : order) {
        for (std::size_t k = 0; k < n; ++k) {
            const DurationSummary& s = row->per_file[k];
            if (s.count == 0) continue;
            chart.data.rows.push_back({files[k], row->region, std::string(row->device ? "device" : "host"),
                                       static_cast<std::int64_t>(s.count), metric_value(s, metric)});
        }
    }
    return chart;
}

SpeedupMetric speedup_metric(const std::string& name) {
    if (name == "mean") return SpeedupMetric::mean;
    if (name == "total") return SpeedupMetric::total;
    throw InputError("--speedup-metric: '" + name + "' is neither mean nor total");
}

Chart render_speedup(const std::vector<ScalingRun>& all_runs, SpeedupMetric metric) {
    // The rank counts in increasing order, each with its runs in the order given.
    struct Step {
        int ranks = 1;
        std::vector<const ScalingRun*> runs;
        std::string files;  // their names, joined with " + "
    };
    std::map<int, std::vector<const ScalingRun*>> by_ranks;
    for (const ScalingRun& run : all_runs) by_ranks[run.ranks].push_back(&run);
    std::vector<Step> steps;
    for (auto& [ranks, runs] : by_ranks) {
        Step& step = steps.emplace_back(Step{ranks, std::move(runs), {}});
        for (const ScalingRun* run : step.runs) step.files += (step.files.empty() ? "" : " + ") + run->file;
    }
    const Step& base = steps.front();
    // A series' time at a step: the mean over the step's runs that have it (> 0), else 0.
    const auto mean_over = [](const Step& step, auto&& time_of) {
        double sum = 0;
        int n = 0;
        for (const ScalingRun* run : step.runs) {
            const double t = time_of(*run);
            if (t > 0) sum += t, ++n;
        }
        return n > 0 ? sum / n : 0.0;
    };

    // The series: the wall time, then the regions of most time at the fewest ranks.
    struct Series {
        std::string name;
        std::string color;
        std::vector<double> time;  // ns, per step
    };
    std::vector<Series> series;
    Series& wall = series.emplace_back(Series{"wall time (whole run)", "#000000", {}});
    for (const Step& step : steps) {
        wall.time.push_back(mean_over(step, [](const ScalingRun& run) { return static_cast<double>(run.wall_ns); }));
    }
    std::map<std::string, std::int64_t> base_total;  // by name: ties go to the first name
    for (const ScalingRun* run : base.runs) {
        for (const ScalingRegion& region : run->regions) {
            if (region.time_ns > 0) base_total[region.name] = std::max(base_total[region.name], region.total_ns);
        }
    }
    std::vector<std::pair<std::string, std::int64_t>> regions(base_total.begin(), base_total.end());
    std::stable_sort(regions.begin(), regions.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (regions.size() > 8) regions.resize(8);
    for (const auto& region_total : regions) {
        // A named reference, not a structured binding: Clang 14 cannot capture those.
        const std::string& name = region_total.first;
        Series& s = series.emplace_back(Series{name, svg::css_color(region_color(name)), {}});
        for (const Step& step : steps) {
            s.time.push_back(mean_over(step, [&name](const ScalingRun& run) {
                for (const ScalingRegion& region : run.regions) {
                    if (region.name == name) return region.time_ns;
                }
                return 0.0;
            }));
        }
    }
    const auto speedup_of = [](const Series& s, std::size_t step) {
        return s.time[0] > 0 && s.time[step] > 0 ? s.time[0] / s.time[step] : 0.0;
    };

    const Step& last = steps.back();
    const double lo = std::log2(static_cast<double>(base.ranks));
    const double hi = std::log2(static_cast<double>(last.ranks));
    double max_speedup = static_cast<double>(last.ranks) / base.ranks;
    for (const Series& s : series) {
        for (std::size_t i = 0; i < steps.size(); ++i) max_speedup = std::max(max_speedup, speedup_of(s, i));
    }
    max_speedup *= 1.08;
    constexpr double left = 80, right = 40, top = 70, plot_h = 440;
    const double plot_w = kChartWidth - left - right;
    const double bottom = top + plot_h;
    const auto x_of = [&](int ranks) { return left + (std::log2(static_cast<double>(ranks)) - lo) / std::max(hi - lo, 1e-9) * plot_w; };
    const auto y_of = [&](double speedup) { return bottom - speedup / max_speedup * plot_h; };

    svg::Legend legend{{"#888888", "ideal (linear in ranks)"}};
    for (const Series& s : series) legend.emplace_back(s.color, s.name);
    const double height = bottom + 56 + svg::legend_height(kChartWidth - 24, legend) + 12;
    std::vector<std::string> files;
    for (const Step& step : steps) {
        for (const ScalingRun* run : step.runs) files.push_back(run->file);
    }
    const std::string title = "Speedup against " + std::to_string(base.ranks) +
                              (base.ranks == 1 ? " rank" : " ranks") + " \u2014 " + files_title(files);
    svg::Writer w(kChartWidth, height, title);
    w.text(12, 24, title, "start", "title");
    w.text(12, 44,
           std::string("Time at the fewest ranks divided by time at N ranks (runs of one rank count averaged). ") +
               (metric == SpeedupMetric::mean ? "A region's time is its mean duration per call."
                                              : "A region's time is its largest per-rank total."),
           "start", "small");

    w.begin_group("axis");
    for (const double t : svg::nice_ticks(0, max_speedup, 8)) {
        w.line(left, y_of(t), left + plot_w, y_of(t), "#e4e4e4");
        w.text(left - 8, y_of(t) + 4, svg::number(t, 2), "end", "small");
    }
    for (const Step& step : steps) {
        w.line(x_of(step.ranks), top, x_of(step.ranks), bottom, "#e4e4e4");
        w.text(x_of(step.ranks), bottom + 16, std::to_string(step.ranks), "middle", "small");
    }
    w.line(left, bottom, left + plot_w, bottom, "#444");
    w.line(left, top, left, bottom, "#444");
    w.text(left + plot_w / 2, bottom + 36, "ranks (log scale)", "middle");
    w.vertical_text(28, top + plot_h / 2, "speedup");
    w.end_group();

    w.line(x_of(base.ranks), y_of(1), x_of(last.ranks), y_of(static_cast<double>(last.ranks) / base.ranks), "#888888",
           true);
    Chart chart;
    chart.data.columns = {"series", "ranks", "file", "time_ns", "speedup", "ideal"};
    w.begin_group("series");
    for (const Series& s : series) {
        std::vector<double> xy;
        std::vector<std::string> tips;
        for (std::size_t i = 0; i < steps.size(); ++i) {
            const double speedup = speedup_of(s, i);
            if (speedup <= 0) continue;
            const Step& step = steps[i];
            xy.push_back(x_of(step.ranks));
            xy.push_back(y_of(speedup));
            tips.push_back(s.name + " at " + std::to_string(step.ranks) + " ranks: speedup " +
                           svg::number(speedup, 2) + " (" + svg::format_duration(s.time[i]) + ")");
            chart.data.rows.push_back({s.name, std::int64_t{step.ranks}, step.files, s.time[i], speedup,
                                       static_cast<double>(step.ranks) / base.ranks});
        }
        w.polyline(xy, s.color, &s == &series.front() ? 2.5 : 1.8);
        for (std::size_t i = 0; i < tips.size(); ++i) w.circle(xy[2 * i], xy[2 * i + 1], 3.5, s.color, tips[i]);
    }
    w.end_group();
    w.legend(12, bottom + 50, kChartWidth - 24, legend);
    chart.svg = w.finish();
    return chart;
}

}  // namespace scope_profiler::cli
