// flame.svg (charts.hpp): the call tree reconstructed from the intervals, root at the bottom.

#include <algorithm>

#include <scope_profiler/color.hpp>

#include "charts.hpp"
#include "svg.hpp"

namespace scope_profiler::cli {

namespace {

constexpr double kMargin = 12;
constexpr double kFrameHeight = 17;
constexpr double kFrameFont = 11;
constexpr double kMinFrameWidth = 0.3;   // narrower frames (and what they hold) are not drawn

struct Frame {
    std::uint32_t node;
    std::uint32_t depth;  // 0: the root
    double x, width;
};

/// The frames drawn for one tree, parents before children.
std::vector<Frame> lay_out(const CallTree& tree, const std::vector<std::string>& names, double width) {
    std::vector<Frame> frames;
    if (tree.nodes.empty()) return frames;
    const double total = static_cast<double>(std::max<std::int64_t>(tree.nodes[0].total_ns, 1));
    std::vector<Frame> todo{{0, 0, kMargin, width}};
    while (!todo.empty()) {
        const Frame f = todo.back();
        todo.pop_back();
        frames.push_back(f);
        if (f.depth >= kFlameMaxDepth) continue;  // deeper frames are not drawn (charts.hpp)
        std::vector<std::uint32_t> children = tree.nodes[f.node].children;
        std::sort(children.begin(), children.end(), [&](std::uint32_t a, std::uint32_t b) {
            if (tree.nodes[a].total_ns != tree.nodes[b].total_ns) return tree.nodes[a].total_ns > tree.nodes[b].total_ns;
            return names[tree.nodes[a].region] < names[tree.nodes[b].region];
        });
        double x = f.x;
        const double right = f.x + f.width;
        for (const std::uint32_t c : children) {
            // Crossing intervals can make children outgrow their parent: clip at its edge.
            const double w = std::min(static_cast<double>(tree.nodes[c].total_ns) / total * width, right - x);
            if (w < kMinFrameWidth) continue;
            todo.push_back({c, f.depth + 1, x, w});
            x += w;
        }
    }
    return frames;
}

/// Appends a row per call path of `tree` to `table` (charts.hpp, render_flame), parents before
/// children, and returns the depth of the deepest path. One walk holds the path from the root
/// to the current node, so a row costs its cut path (kFlameMaxDepth regions at most), not its
/// depth: a chain k deep is k rows, not k^2 / 2 regions of text.
std::uint32_t add_rows(Table& table, const std::string& file, const CallTree& tree,
                       const std::vector<std::string>& names) {
    if (tree.nodes.empty()) return 0;
    struct Visit {
        std::uint32_t node;
        std::uint32_t depth;
        std::int64_t parent_id;  // the parent's row id, 0 at the top
    };
    std::vector<Visit> todo;
    for (auto it = tree.nodes[0].children.rbegin(); it != tree.nodes[0].children.rend(); ++it) todo.push_back({*it, 1, 0});
    std::vector<std::uint32_t> path;  // regions from the root's child down to the node visited
    std::uint32_t deepest = 0;
    std::int64_t id = 0;
    while (!todo.empty()) {
        const Visit v = todo.back();
        todo.pop_back();
        const CallTree::Node& node = tree.nodes[v.node];
        path.resize(v.depth - 1);
        path.push_back(node.region);
        deepest = std::max(deepest, v.depth);
        ++id;
        std::string folded;
        std::size_t first = 0;
        if (path.size() > kFlameMaxDepth) {
            first = path.size() - kFlameMaxDepth;
            folded = kFlameCutMarker;
        }
        for (std::size_t i = first; i < path.size(); ++i) {
            if (i > 0) folded += ';';  // after the marker too
            folded += names[path[i]];
        }
        table.rows.push_back({file, std::move(folded), std::int64_t{v.depth}, names[node.region],
                              static_cast<std::int64_t>(node.calls), node.total_ns, node.self_ns, id, v.parent_id});
        for (auto it = node.children.rbegin(); it != node.children.rend(); ++it) todo.push_back({*it, v.depth + 1, id});
    }
    return deepest;
}

}  // namespace

Chart render_flame(const std::vector<std::string>& files, const std::vector<CallTree>& trees,
                   const std::vector<std::string>& region_names) {
    Chart chart;
    chart.data.columns = {"file", "path", "depth", "region", "calls", "total_ns", "self_ns", "id", "parent_id"};
    std::vector<std::uint32_t> deepest;  // per tree
    for (std::size_t s = 0; s < trees.size(); ++s) deepest.push_back(add_rows(chart.data, files[s], trees[s], region_names));

    const double width = kChartWidth - 2 * kMargin;
    std::vector<std::vector<Frame>> sections;
    double height = 58;
    for (const CallTree& tree : trees) {
        sections.push_back(lay_out(tree, region_names, width));
        std::uint32_t depth = 0;
        for (const Frame& f : sections.back()) depth = std::max(depth, f.depth);
        height += 26 + (depth + 1) * kFrameHeight + 14;
    }
    const std::string title = "Flame graph \u2014 " + files_title(files);
    svg::Writer w(kChartWidth, height, title);
    w.text(kMargin, 24, title, "start", "title");
    w.text(kMargin, 44,
           "Call paths reconstructed per thread from how intervals nest, merged over threads and "
           "ranks; width is total time, callers below their callees.",
           "start", "small");

    double top = 58;
    w.begin_group("frames");
    for (std::size_t s = 0; s < trees.size(); ++s) {
        const CallTree& tree = trees[s];
        std::uint32_t depth = 0;
        for (const Frame& f : sections[s]) depth = std::max(depth, f.depth);
        const bool cut = deepest[s] > kFlameMaxDepth;
        w.text(kMargin, top + 16, svg::fit_text(files[s], cut ? width / 2 : width, 12), "start", "label");
        if (cut) {
            w.text(kMargin + width, top + 16,
                   "Calls nest " + std::to_string(deepest[s]) + " deep: the " + std::to_string(kFlameMaxDepth) +
                       " levels nearest the root are drawn; flame.csv lists every path.",
                   "end", "small");
        }
        const double base = top + 26 + depth * kFrameHeight;  // the root's row
        const double total = static_cast<double>(std::max<std::int64_t>(tree.nodes[0].total_ns, 1));
        for (const Frame& f : sections[s]) {
            const CallTree::Node& node = tree.nodes[f.node];
            const bool root = f.node == 0;
            const std::string name = root ? "all" : region_names[node.region];
            const double y = base - f.depth * kFrameHeight;
            std::string tooltip = name + ": total " + svg::format_duration(static_cast<double>(node.total_ns)) +
                                  " (" + svg::number(100.0 * static_cast<double>(node.total_ns) / total, 1) + "%)";
            if (!root) {
                tooltip += ", self " + svg::format_duration(static_cast<double>(node.self_ns)) + ", " +
                           std::to_string(node.calls) + (node.calls == 1 ? " call" : " calls");
            }
            w.rect(f.x, y, std::max(f.width - 0.5, 0.3), kFrameHeight - 1,
                   root ? "#c8c8c8" : svg::css_color(region_color(name)), tooltip, "fr");
            const std::string label = svg::fit_text(
                root ? "all: " + svg::format_duration(static_cast<double>(node.total_ns)) : name,
                f.width - 6, kFrameFont);
            if (!label.empty()) w.text(f.x + 3, y + kFrameHeight - 5, label, "start", "small");
        }
        if (tree.nodes[0].children.empty()) {
            w.text(kMargin + 90, base + kFrameHeight - 5, kNothingToShow, "start", "label", "#555");
        }
        top = base + kFrameHeight + 14;
    }
    w.end_group();

    chart.svg = w.finish();
    return chart;
}

}  // namespace scope_profiler::cli
