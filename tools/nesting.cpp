// Nesting reconstructed from one thread's intervals by a sweep over them in start order
// (nesting.hpp). Intervals are sorted by (start ascending, end descending), so an enclosing
// interval comes before everything it encloses; a stack holds the open calls. O(n log n) time,
// memory for the spans plus the stack and the call tree.

#include "nesting.hpp"
#include "duration_sum.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace scope_profiler::cli {

namespace {

/// A call open on the stack. [start, end) is the interval used for the self-time arithmetic:
/// the call's own, clipped into its parent where it crosses a sibling or its parent's end.
struct Frame {
    std::uint32_t node = 0;
    std::uint32_t region = kNoRegion;
    std::int64_t start = 0;
    std::int64_t end = 0;
    std::int64_t children_ns = 0;      ///< clipped time of the children, disjoint by construction
    std::int64_t last_child_end = 0;   ///< children start no earlier (keeps them disjoint)
};

}  // namespace

NestingBuilder::NestingBuilder(std::uint32_t region_count, bool call_tree) : call_tree_(call_tree) {
    if (region_count == kNoRegion) {
        throw std::invalid_argument("NestingBuilder: too many regions");
    }
    times_.inclusive_ns.assign(region_count, 0);
    times_.self_ns.assign(region_count, 0);
    open_calls_.assign(region_count, 0);
    tree_.nodes.emplace_back();  // the root
}

std::uint32_t NestingBuilder::child_node(std::uint32_t parent, std::uint32_t region) {
    const std::uint64_t key = (std::uint64_t{parent} << 32) | region;
    const auto [it, inserted] =
        child_index_.try_emplace(key, static_cast<std::uint32_t>(tree_.nodes.size()));
    if (inserted) {
        CallTree::Node node;
        node.region = region;
        node.parent = parent;
        tree_.nodes.push_back(std::move(node));
        tree_.nodes[parent].children.push_back(it->second);
    }
    return it->second;
}

void NestingBuilder::add_thread(std::vector<Span> spans) {
    const auto region_count = static_cast<std::uint32_t>(open_calls_.size());
    for (const Span& s : spans) {
        if (s.region >= region_count) {
            throw std::invalid_argument("NestingBuilder: region index " + std::to_string(s.region) +
                                        " is not below the region count " +
                                        std::to_string(region_count));
        }
    }
    const auto order = [](const Span& a, const Span& b) {
        if (a.start != b.start) return a.start < b.start;
        if (a.end != b.end) return a.end > b.end;
        return a.region < b.region;
    };
    // The timeline lays out the same spans first and sorts them the same way.
    if (!std::is_sorted(spans.begin(), spans.end(), order)) std::sort(spans.begin(), spans.end(), order);

    std::vector<Frame> stack;
    // The root frame never closes: it spans everything.
    stack.push_back({0, kNoRegion, INT64_MIN, INT64_MAX, 0, INT64_MIN});

    const auto close_top = [&] {
        const Frame f = stack.back();
        stack.pop_back();
        const std::int64_t clipped = f.end - f.start;
        const std::int64_t self = clipped - f.children_ns;
        if (call_tree_) tree_.nodes[f.node].self_ns = add_ns(tree_.nodes[f.node].self_ns, self);
        times_.self_ns[f.region] = add_ns(times_.self_ns[f.region], self);
        --open_calls_[f.region];
        Frame& parent = stack.back();
        parent.children_ns = add_ns(parent.children_ns, clipped);
        parent.last_child_end = f.end;
    };

    for (const Span& s : spans) {
        const std::int64_t end = std::max(s.end, s.start);  // a reversed interval counts as empty
        while (stack.size() > 1 && stack.back().end <= s.start) close_top();
        // Crossing the innermost open call: a sibling of it, not a child.
        if (stack.size() > 1 && end > stack.back().end) close_top();

        Frame& parent = stack.back();
        Frame f;
        f.region = s.region;
        f.node = call_tree_ ? child_node(parent.node, s.region) : 0;
        f.start = std::max({s.start, parent.start, parent.last_child_end});
        f.end = std::max(f.start, std::min(end, parent.end));
        f.last_child_end = f.start;

        const std::int64_t duration = end - s.start;
        if (call_tree_) {
            CallTree::Node& node = tree_.nodes[f.node];
            node.total_ns = add_ns(node.total_ns, duration);
            ++node.calls;
        }
        if (open_calls_[s.region]++ == 0) times_.inclusive_ns[s.region] = add_ns(times_.inclusive_ns[s.region], duration);
        stack.push_back(f);
    }
    while (stack.size() > 1) close_top();
    // The root's total: the time of the calls at the top of every thread.
    CallTree::Node& root = tree_.nodes[0];
    root.total_ns = 0;
    for (const std::uint32_t child : root.children) root.total_ns = add_ns(root.total_ns, tree_.nodes[child].total_ns);
}

const NestedTimes& NestingBuilder::times() const noexcept { return times_; }

const CallTree& NestingBuilder::tree() const noexcept { return tree_; }

}  // namespace scope_profiler::cli
