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
constexpr std::uint32_t kMaxDepth = 128;  // deeper frames are not drawn

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
        if (f.depth + 1 >= kMaxDepth) continue;
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

/// The call path of a node, regions joined by ';' (the folded-stack format of flame graph tools).
std::string path_of(const CallTree& tree, std::uint32_t node, const std::vector<std::string>& names) {
    std::vector<std::uint32_t> regions;
    for (; node != 0 && node != kNoRegion; node = tree.nodes[node].parent) regions.push_back(tree.nodes[node].region);
    std::string path;
    for (auto it = regions.rbegin(); it != regions.rend(); ++it) path += (path.empty() ? "" : ";") + names[*it];
    return path;
}

}  // namespace

Chart render_flame(const std::vector<std::string>& files, const std::vector<CallTree>& trees,
                   const std::vector<std::string>& region_names) {
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
        w.text(kMargin, top + 16, svg::fit_text(files[s], width, 12), "start", "label");
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

    Chart chart;
    chart.svg = w.finish();
    chart.data.columns = {"file", "path", "depth", "region", "calls", "total_ns", "self_ns"};
    for (std::size_t s = 0; s < trees.size(); ++s) {
        const CallTree& tree = trees[s];
        std::vector<std::pair<std::uint32_t, std::int64_t>> todo{{0, 0}};  // node, depth
        while (!todo.empty()) {
            const auto [n, depth] = todo.back();
            todo.pop_back();
            for (auto it = tree.nodes[n].children.rbegin(); it != tree.nodes[n].children.rend(); ++it) {
                todo.emplace_back(*it, depth + 1);
            }
            if (n == 0) continue;
            const CallTree::Node& node = tree.nodes[n];
            chart.data.rows.push_back({files[s], path_of(tree, n, region_names), depth,
                                       region_names[node.region], static_cast<std::int64_t>(node.calls),
                                       node.total_ns, node.self_ns});
        }
    }
    return chart;
}

}  // namespace scope_profiler::cli
