// `compare`'s table (stdout) and JSON (--json).
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "compare.hpp"
#include "report.hpp"
#include "text_cells.hpp"

namespace scope_profiler::cli {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::array<Metric, 4> kMetrics = {Metric::mean, Metric::p50, Metric::p95, Metric::total};

/// "+10.2%", "-0.4%", "-" for NaN.
std::string percent(double change) {
    if (std::isnan(change)) return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%+.1f%%", change * 100);
    return text;
}

/// The interval of the ratio as changes: "[+9.5%, +10.7%]".
std::string interval_text(const RatioInterval& interval) {
    if (std::isnan(interval.low)) return "-";
    return "[" + percent(interval.low - 1) + ", " + percent(interval.high - 1) + "]";
}

std::string p_text(const std::optional<UTest>& test) {
    if (!test) return "-";
    char text[32];
    if (test->p < 1e-16)
        std::snprintf(text, sizeof text, "<1e-16");
    else
        std::snprintf(text, sizeof text, "%.2g", test->p);
    return text;
}

std::string side_files(const std::vector<std::string>& files) {
    if (files.size() == 1) return files.front();
    std::string text = std::to_string(files.size()) + " runs (";
    for (std::size_t i = 0; i < files.size(); ++i) text += (i > 0 ? ", " : "") + files[i];
    return text + ")";
}

std::string metric_description(Metric metric) {
    switch (metric) {
        case Metric::mean: return "mean (of one call)";
        case Metric::p50: return "p50 (median of one call)";
        case Metric::p95: return "p95 (of one call)";
        case Metric::total: return "total (per run)";
    }
    return "";
}

void print_kind(std::ostream& out, const Comparison& c, bool device) {
    std::vector<const RegionComparison*> rows;
    for (const auto& r : c.regions) {
        if (r.device == device) rows.push_back(&r);
    }
    if (rows.empty()) return;
    constexpr std::size_t kMaxName = 40, kCell = 10;
    std::size_t name_width = std::string("region").size();
    for (const auto* r : rows) name_width = std::max(name_width, width_of(display_name(r->name)));
    name_width = std::min(name_width, kMaxName);
    const std::string metric(metric_name(c.options.metric));
    const int confidence = static_cast<int>(std::lround(c.options.confidence * 100));
    out << (device ? "device intervals (GPU time)\n" : "host intervals\n");
    out << fit("region", name_width) << right("calls", 19) << right("mean", kCell) << right("p50", kCell)
        << right("p95", kCell) << right("total", kCell) << right(metric + " base", 12) << right(metric + " new", 12)
        << "  " << fit(std::to_string(confidence) + "% interval", 18) << right("U test p", 9) << "  verdict\n";
    for (const auto* r : rows) {
        const std::string calls = (r->base ? std::to_string(r->base->calls) : "-") + " -> " +
                                  (r->next ? std::to_string(r->next->calls) : "-");
        out << fit(display_name(r->name), name_width) << right(calls, 19);
        for (const Metric m : kMetrics) out << right(percent(r->change[static_cast<std::size_t>(m)]), kCell);
        const auto chosen = static_cast<std::size_t>(c.options.metric);
        out << right(r->base ? format_duration(r->base->value[chosen]) : "-", 12)
            << right(r->next ? format_duration(r->next->value[chosen]) : "-", 12) << "  "
            << fit(interval_text(r->interval), 18) << right(p_text(r->u_test), 9) << "  " << verdict_name(r->verdict)
            << '\n';
    }
    out << '\n';
}

Json number_or_null(double value) { return std::isnan(value) ? Json(nullptr) : Json(value); }

Json side_json(const std::optional<SideNumbers>& side) {
    if (!side) return nullptr;
    Json j;
    j["calls"] = side->calls;
    j["runs"] = side->runs;
    for (const Metric m : kMetrics)
        j[std::string(metric_name(m)) + "_ns"] = side->value[static_cast<std::size_t>(m)];
    return j;
}

}  // namespace

void print_comparison(std::ostream& out, const Comparison& c) {
    const CompareOptions& o = c.options;
    out << "base: " << side_files(o.base) << "\nnew:  " << side_files(o.next) << '\n';
    out << "judged on the " << metric_description(o.metric) << ": a regression is significantly slower by more than "
        << o.threshold_percent << "%\n";
    out << std::lround(o.confidence * 100) << "% intervals of new/base from " << o.resamples
        << " bootstrap resamples per region, seed " << o.seed << "; Mann-Whitney U test, two-sided\n\n";
    print_kind(out, c, false);
    print_kind(out, c, true);
    const std::size_t judged = c.regions.size() - c.count(Verdict::only_base) - c.count(Verdict::only_new);
    out << c.count(Verdict::regression) << " regression" << (c.count(Verdict::regression) == 1 ? "" : "s") << ", "
        << c.count(Verdict::improvement) << " improvement" << (c.count(Verdict::improvement) == 1 ? "" : "s")
        << ", " << c.count(Verdict::slower) << " slower and " << c.count(Verdict::faster)
        << " faster within the threshold, " << c.count(Verdict::unchanged) << " unchanged, "
        << c.count(Verdict::too_few_calls) << " with too few calls (of " << judged << " in both); "
        << c.count(Verdict::only_base) << " only in base, " << c.count(Verdict::only_new) << " only in new\n";
}

void write_comparison_json(std::ostream& out, const Comparison& c) {
    const CompareOptions& o = c.options;
    Json j;
    j["units"] = "ns; changes and intervals as fractions (0.1 = 10% slower)";
    j["base"] = o.base;
    j["new"] = o.next;
    j["metric"] = metric_name(o.metric);
    j["threshold_percent"] = o.threshold_percent;
    j["confidence"] = o.confidence;
    j["resamples"] = o.resamples;
    j["seed"] = o.seed;
    j["filters"] = {{"include", o.include}, {"exclude", o.exclude}, {"ranks", o.ranks.empty() ? Json(nullptr) : Json(o.ranks)}};
    Json regions = Json::array();
    for (const auto& r : c.regions) {
        Json region;
        region["name"] = r.name;
        region["kind"] = r.device ? "device" : "host";
        region["verdict"] = verdict_name(r.verdict);
        region["base"] = side_json(r.base);
        region["new"] = side_json(r.next);
        Json change;
        for (const Metric m : kMetrics) change[metric_name(m)] = number_or_null(r.change[static_cast<std::size_t>(m)]);
        region["change"] = change;
        region["ratio"] = number_or_null(r.ratio);
        region["interval"] = std::isnan(r.interval.low)
                                 ? Json(nullptr)
                                 : Json{{"low", r.interval.low}, {"high", r.interval.high}};
        region["u_test"] = r.u_test ? Json{{"u", r.u_test->u},
                                           {"probability_new_longer", r.u_test->next_larger},
                                           {"z", r.u_test->z},
                                           {"p", r.u_test->p}}
                                    : Json(nullptr);
        regions.push_back(std::move(region));
    }
    j["regions"] = std::move(regions);
    Json counts;
    for (const Verdict v : {Verdict::regression, Verdict::improvement, Verdict::slower, Verdict::faster,
                            Verdict::unchanged, Verdict::too_few_calls, Verdict::only_base, Verdict::only_new})
        counts[verdict_name(v)] = c.count(v);
    j["verdicts"] = std::move(counts);
    out << j.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace scope_profiler::cli
