// The SVG writer (svg.hpp).

#include "svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "utf8.hpp"

namespace scope_profiler::cli::svg {

namespace {

/// The code points of `text` as byte ranges (an invalid byte is a range of its own).
std::vector<std::string_view> code_points(std::string_view text) {
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = std::max<std::size_t>(utf8::sequence_length(text, i), 1);
        out.push_back(text.substr(i, n));
        i += n;
    }
    return out;
}

constexpr std::string_view kEllipsis = "\u2026";

}  // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::size_t n = utf8::sequence_length(text, i);
        if (n == 0 || !utf8::allowed_in_xml(text, i, n)) {
            out += "\uFFFD";
            i += std::max<std::size_t>(n, 1);
            continue;
        }
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out.append(text.substr(i, n));
        }
        i += n;
    }
    return out;
}

std::string css_color(std::uint32_t argb) {
    std::array<char, 8> buf{};
    std::snprintf(buf.data(), buf.size(), "#%06x", static_cast<unsigned>(argb & 0xFFFFFFu));
    return buf.data();
}

std::string number(double value, int decimals) {
    if (!std::isfinite(value)) return "0";
    std::array<char, 48> buf{};
    std::snprintf(buf.data(), buf.size(), "%.*f", decimals, value);
    std::string s = buf.data();
    if (s.find('.') != std::string::npos) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    if (s == "-0") s = "0";
    return s;
}

TimeUnit unit_for(double ns) {
    const double a = std::fabs(ns);
    if (a >= 1e9) return {"s", 1e9};
    if (a >= 1e6) return {"ms", 1e6};
    if (a >= 1e3) return {"\u00b5s", 1e3};
    return {"ns", 1};
}

std::string format_duration(double ns) {
    const TimeUnit unit = unit_for(ns);
    const double v = ns / unit.ns;
    const int decimals = std::fabs(v) >= 100 ? 0 : std::fabs(v) >= 10 ? 1 : 2;
    return number(v, unit.ns == 1 ? 0 : decimals) + " " + std::string(unit.name);
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
    if (!(hi > lo)) return {lo};
    const double raw = (hi - lo) / std::max(target, 1);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (const double m : {1.0, 2.0, 5.0, 10.0}) {
        step = m * magnitude;
        if (step >= raw) break;
    }
    std::vector<double> ticks;
    for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
        ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    }
    return ticks;
}

double text_width(std::string_view text, double font_size) {
    // Average advance of a sans-serif font: about 0.58 em per character.
    return static_cast<double>(code_points(text).size()) * font_size * 0.58;
}

std::string fit_text(std::string_view text, double width, double font_size) {
    if (text_width(text, font_size) <= width) return std::string(text);
    const auto points = code_points(text);
    const double per_char = font_size * 0.58;
    const auto fit = static_cast<long>(std::floor(width / per_char)) - 1;  // room for the ellipsis
    if (fit < 1) return {};
    std::string out;
    for (long i = 0; i < fit && i < static_cast<long>(points.size()); ++i) out.append(points[i]);
    return out + std::string(kEllipsis);
}

Writer::Writer(double width, double height, std::string_view title) {
    out_ += R"(<?xml version="1.0" encoding="UTF-8"?>)" "\n";
    out_ += R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" + number(width) + R"(" height=")" +
            number(height) + R"(" viewBox="0 0 )" + number(width) + " " + number(height) + "\">\n";
    out_ += "<title>" + escape(title) + "</title>\n";
    out_ +=
        "<style>text{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;fill:#222}"
        ".title{font-size:16px;font-weight:bold}.label{font-size:12px}.small{font-size:10px}.tiny{font-size:9px;pointer-events:none}"
        "rect.iv:hover,rect.fr:hover{stroke:#000;stroke-width:1}</style>\n";
    out_ += R"(<rect x="0" y="0" width="100%" height="100%" fill="#fff"/>)" "\n";
}

void Writer::rect(double x, double y, double w, double h, std::string_view fill,
                  std::string_view tooltip, std::string_view css_class) {
    out_ += "<rect";
    if (!css_class.empty()) out_ += " class=\"" + std::string(css_class) + "\"";
    out_ += " x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" + number(w) +
            "\" height=\"" + number(h) + "\" fill=\"" + std::string(fill) + "\"";
    if (tooltip.empty()) {
        out_ += "/>\n";
    } else {
        out_ += "><title>" + escape(tooltip) + "</title></rect>\n";
    }
}

void Writer::line(double x1, double y1, double x2, double y2, std::string_view stroke, bool dashed) {
    out_ += "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) +
            "\" y2=\"" + number(y2) + "\" stroke=\"" + std::string(stroke) + "\"";
    if (dashed) out_ += " stroke-dasharray=\"5,4\"";
    out_ += "/>\n";
}

void Writer::polyline(const std::vector<double>& xy, std::string_view stroke, double stroke_width) {
    out_ += "<polyline fill=\"none\" stroke=\"" + std::string(stroke) + "\" stroke-width=\"" +
            number(stroke_width) + "\" points=\"";
    for (std::size_t i = 0; i + 1 < xy.size(); i += 2) {
        if (i > 0) out_ += ' ';
        out_ += number(xy[i]) + "," + number(xy[i + 1]);
    }
    out_ += "\"/>\n";
}

void Writer::circle(double x, double y, double r, std::string_view fill, std::string_view tooltip) {
    out_ += "<circle cx=\"" + number(x) + "\" cy=\"" + number(y) + "\" r=\"" + number(r) +
            "\" fill=\"" + std::string(fill) + "\"";
    out_ += tooltip.empty() ? "/>\n" : "><title>" + escape(tooltip) + "</title></circle>\n";
}

void Writer::text(double x, double y, std::string_view content, std::string_view anchor,
                  std::string_view css_class, std::string_view fill) {
    out_ += "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\" class=\"" +
            std::string(css_class) + "\"";
    if (anchor != "start") out_ += " text-anchor=\"" + std::string(anchor) + "\"";
    if (!fill.empty()) out_ += " style=\"fill:" + std::string(fill) + "\"";
    out_ += '>';
    out_ += escape(content);
    out_ += "</text>\n";
}

void Writer::vertical_text(double x, double y, std::string_view content) {
    out_ += "<text x=\"" + number(x) + "\" y=\"" + number(y) +
            "\" class=\"label\" text-anchor=\"middle\" transform=\"rotate(-90 " + number(x) + " " +
            number(y) + ")\">" + escape(content) + "</text>\n";
}

void Writer::begin_group(std::string_view id, std::string_view css_class) {
    out_ += "<g";
    if (!id.empty()) out_ += " id=\"" + escape(id) + "\"";
    if (!css_class.empty()) out_ += " class=\"" + escape(css_class) + "\"";
    out_ += ">\n";
    ++open_groups_;
}

void Writer::end_group() {
    if (open_groups_ == 0) return;
    out_ += "</g>\n";
    --open_groups_;
}

namespace {

constexpr double kSwatch = 11, kLegendRow = 17, kLegendFont = 12, kLegendGap = 18;

/// Where each legend entry goes: (x, y) offsets from the legend's corner, and the label shown.
struct LegendSlot {
    double x, y;
    std::string label;
};

std::vector<LegendSlot> lay_out_legend(double width, const Legend& entries) {
    std::vector<LegendSlot> slots;
    double cx = 0, cy = 0;
    for (const auto& entry : entries) {
        std::string shown = fit_text(entry.second, std::max(width - kSwatch - 6, 40.0), kLegendFont);
        const double w = kSwatch + 5 + text_width(shown, kLegendFont) + kLegendGap;
        if (cx > 0 && cx + w > width) {
            cx = 0;
            cy += kLegendRow;
        }
        slots.push_back({cx, cy, std::move(shown)});
        cx += w;
    }
    return slots;
}

}  // namespace

double legend_height(double width, const Legend& entries) {
    const auto slots = lay_out_legend(width, entries);
    return slots.empty() ? 0 : slots.back().y + kLegendRow;
}

double Writer::legend(double x, double y, double width, const Legend& entries) {
    const auto slots = lay_out_legend(width, entries);
    begin_group("legend");
    for (std::size_t i = 0; i < slots.size(); ++i) {
        rect(x + slots[i].x, y + slots[i].y, kSwatch, kSwatch, entries[i].first);
        text(x + slots[i].x + kSwatch + 5, y + slots[i].y + kSwatch - 1, slots[i].label);
    }
    end_group();
    return slots.empty() ? 0 : slots.back().y + kLegendRow;
}

std::string Writer::finish() {
    while (open_groups_ > 0) end_group();
    out_ += "</svg>\n";
    return std::move(out_);
}

}  // namespace scope_profiler::cli::svg
