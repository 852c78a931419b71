// compare --chart: the change of the chosen metric per region with its bootstrap interval (a
// forest plot), the threshold dashed on both sides of zero, colored by verdict.

#include <algorithm>
#include <cmath>

#include "charts.hpp"
#include "compare.hpp"
#include "svg.hpp"

namespace scope_profiler::cli {

namespace {

constexpr std::size_t kMaxRows = 200;  // regions drawn, the largest changes first; the JSON has all
constexpr double kRowHeight = 22, kLabelWidth = 320, kTop = 78, kBottom = 64, kRight = 40;

const char* verdict_color(Verdict verdict) {
    switch (verdict) {
        case Verdict::regression: return "#d62728";
        case Verdict::improvement: return "#2ca02c";
        case Verdict::slower: return "#ff9896";
        case Verdict::faster: return "#98df8a";
        default: return "#7f7f7f";
    }
}

}  // namespace

std::string comparison_chart(const Comparison& c) {
    std::vector<const RegionComparison*> rows;
    for (const auto& r : c.regions) {
        if (!std::isnan(r.ratio) && r.base && r.next) rows.push_back(&r);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) { return a->ratio > b->ratio; });
    const std::size_t hidden = rows.size() > kMaxRows ? rows.size() - kMaxRows : 0;
    rows.resize(std::min(rows.size(), kMaxRows));

    // The axis in percent: every change and interval drawn, and the threshold, with a margin.
    const double threshold = c.options.threshold_percent;
    double lo = -threshold, hi = threshold;
    for (const auto* r : rows) {
        for (const double v : {r->ratio, r->interval.low, r->interval.high}) {
            if (std::isnan(v)) continue;
            lo = std::min(lo, (v - 1) * 100);
            hi = std::max(hi, (v - 1) * 100);
        }
    }
    lo = std::max(lo, -100.0);
    const double pad = std::max((hi - lo) * 0.05, 0.5);
    lo -= pad;
    hi += pad;
    const std::vector<double> ticks = svg::nice_ticks(lo, hi);
    lo = std::min(lo, ticks.front());
    hi = std::max(hi, ticks.back());

    const svg::Legend legend = {{verdict_color(Verdict::regression), "regression"},
                                {verdict_color(Verdict::slower), "slower, within the threshold"},
                                {verdict_color(Verdict::unchanged), "no significant change / too few calls"},
                                {verdict_color(Verdict::faster), "faster, within the threshold"},
                                {verdict_color(Verdict::improvement), "improvement"}};
    const double plot_left = kLabelWidth, plot_right = kChartWidth - kRight;
    const double legend_h = svg::legend_height(kChartWidth - 40, legend);
    const double plot_h = std::max<double>(1, static_cast<double>(rows.size())) * kRowHeight;
    const double height = kTop + plot_h + kBottom + legend_h + (hidden > 0 ? 20 : 0);
    const std::string metric(metric_name(c.options.metric));
    svg::Writer w(kChartWidth, height, "Change of " + metric + ", new vs base");
    w.text(20, 30, "Change of " + metric + " (new vs base) with " +
                       std::to_string(std::lround(c.options.confidence * 100)) + "% bootstrap intervals",
           "start", "title");
    w.text(20, 52, svg::fit_text("base: " + files_title(c.options.base) + "   new: " + files_title(c.options.next),
                                 kChartWidth - 40, 12),
           "start", "small");

    auto x_of = [&](double percent) { return plot_left + (percent - lo) / (hi - lo) * (plot_right - plot_left); };
    const double bottom = kTop + plot_h;
    for (const double t : ticks) {
        w.line(x_of(t), kTop, x_of(t), bottom, "#e0e0e0");
        w.text(x_of(t), bottom + 16, svg::number(t, 1) + "%", "middle", "small");
    }
    w.line(x_of(0), kTop - 4, x_of(0), bottom, "#333");
    if (threshold > 0) {
        w.line(x_of(threshold), kTop - 4, x_of(threshold), bottom, "#d62728", true);
        w.line(x_of(-threshold), kTop - 4, x_of(-threshold), bottom, "#2ca02c", true);
    }
    w.text((plot_left + plot_right) / 2, bottom + 36, "change of " + metric + " (%): right is slower", "middle", "label");
    if (rows.empty()) w.text(plot_left, kTop + 16, "No region was called on both sides.", "start", "label");

    for (std::size_t i = 0; i < rows.size(); ++i) {
        const RegionComparison& r = *rows[i];
        const double y = kTop + (static_cast<double>(i) + 0.5) * kRowHeight;
        const std::string label = r.name + (r.device ? " [GPU]" : "");
        w.text(plot_left - 10, y + 4, svg::fit_text(label, kLabelWidth - 30, 12), "end", "small");
        const char* color = verdict_color(r.verdict);
        const std::string tooltip = label + ": " + svg::number((r.ratio - 1) * 100, 2) + "% (" +
                                    std::string(verdict_name(r.verdict)) + ")" +
                                    (std::isnan(r.interval.low)
                                         ? std::string()
                                         : ", interval " + svg::number((r.interval.low - 1) * 100, 2) + "% to " +
                                               svg::number((r.interval.high - 1) * 100, 2) + "%");
        if (!std::isnan(r.interval.low)) {
            const double x1 = x_of(std::max((r.interval.low - 1) * 100, lo));
            const double x2 = x_of(std::min((r.interval.high - 1) * 100, hi));
            w.rect(x1, y - 1.5, std::max(x2 - x1, 1.0), 3, color, tooltip);
        }
        w.circle(x_of(std::clamp((r.ratio - 1) * 100, lo, hi)), y, 5, color, tooltip);
    }
    double y = bottom + 50;
    if (hidden > 0) {
        w.text(20, y + 4, std::to_string(hidden) + " more regions with smaller changes are not drawn (the JSON has them)",
               "start", "small");
        y += 20;
    }
    w.legend(20, y, kChartWidth - 40, legend);
    return w.finish();
}

}  // namespace scope_profiler::cli
