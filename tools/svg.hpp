#pragma once
// A small SVG writer for the charts of `scope-profiler pproc`: escaped text, rectangles, lines,
// groups, and the pieces every chart shares (time units, nice axis ticks, text that fits).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace scope_profiler::cli::svg {

/// Text escaped for XML character data and attribute values (& < > " '); what XML 1.0 cannot
/// hold (control characters, U+FFFE, U+FFFF, bytes that are not UTF-8, encoded surrogates)
/// becomes U+FFFD.
std::string escape(std::string_view text);

/// "#rrggbb" of an ARGB color (the alpha is dropped).
std::string css_color(std::uint32_t argb);

/// A number with at most `decimals` decimals and no trailing zeros ("12.5", "3", "-0.25").
std::string number(double value, int decimals = 2);

/// A unit of time for an axis or a label: its name and how many ns it holds.
struct TimeUnit {
    std::string_view name;  ///< "ns", "µs", "ms", "s"
    double ns = 1;
};
/// The largest unit in which `ns` is at least 1 (ns for values below 1 µs).
TimeUnit unit_for(double ns);
/// A duration in the unit that suits it, 3 significant digits: "1.23 ms", "850 ns", "12.4 s".
std::string format_duration(double ns);

/// About `target` round tick values (1, 2 or 5 times a power of ten) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 8);

/// Approximate width in px of text in the sans-serif font at `font_size` (per UTF-8 code point).
double text_width(std::string_view text, double font_size);
/// `text` shortened to fit `width` px at `font_size`, ending in an ellipsis when cut; empty
/// when not even one character and the ellipsis fit.
std::string fit_text(std::string_view text, double width, double font_size);

/// Legend entries: (CSS color, label).
using Legend = std::vector<std::pair<std::string, std::string>>;
/// The height in px Writer::legend takes for these entries within `width` px.
double legend_height(double width, const Legend& entries);

/// Builds a document as text. Coordinates are px; numbers are written with two decimals at most.
class Writer {
public:
    /// Starts the document: the svg element of the given size, a white background and the
    /// shared style (font, text sizes).
    Writer(double width, double height, std::string_view title);

    /// <rect>; `fill` is a CSS color; `tooltip`, when not empty, becomes a <title> child;
    /// `css_class`, when not empty, its class attribute.
    void rect(double x, double y, double w, double h, std::string_view fill,
              std::string_view tooltip = {}, std::string_view css_class = {});
    /// <line> of width 1 in `stroke`, dashed when `dashed`.
    void line(double x1, double y1, double x2, double y2, std::string_view stroke = "#888",
              bool dashed = false);
    /// <polyline> through the points (x0, y0, x1, y1, ...).
    void polyline(const std::vector<double>& xy, std::string_view stroke, double stroke_width = 2);
    /// <circle> of radius r.
    void circle(double x, double y, double r, std::string_view fill,
                std::string_view tooltip = {});
    /// <text>; anchor is "start", "middle" or "end"; css_class picks a size from the style
    /// ("title", "label", "small", "tiny").
    void text(double x, double y, std::string_view content, std::string_view anchor = "start",
              std::string_view css_class = "label", std::string_view fill = {});
    /// Text rotated by -90 degrees about (x, y) (a vertical axis title).
    void vertical_text(double x, double y, std::string_view content);
    /// <g> with optional id and class; close with end_group().
    void begin_group(std::string_view id = {}, std::string_view css_class = {});
    void end_group();

    /// A legend: a color swatch and a label per entry, laid out in rows from (x, y) within
    /// `width` px; returns the height used (as legend_height).
    double legend(double x, double y, double width, const Legend& color_and_label);

    /// Closes the document and returns it.
    [[nodiscard]] std::string finish();

private:
    std::string out_;
    int open_groups_ = 0;
};

}  // namespace scope_profiler::cli::svg
