#pragma once
// Nesting reconstructed from intervals, per thread (docs/cli.md, "report": the library records no
// parent/child relation; the tools derive it). On one thread, an interval that lies within
// another is its child; the innermost enclosing interval is the parent. Used for the report's
// inclusive and exclusive (self) times and for the flame graph.

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace scope_profiler::cli {

/// One host interval of one thread: [start, end) in ns, of region `region` (an index the caller
/// chooses, < the builder's region count).
struct Span {
    std::int64_t start = 0;
    std::int64_t end = 0;
    std::uint32_t region = 0;
};

inline constexpr std::uint32_t kNoRegion = 0xFFFFFFFFu;

/// The call tree: one node per distinct call path (root -> ... -> region), merged over every
/// thread added. nodes[0] is the root (region kNoRegion, parent kNoRegion); recursion appears
/// as a path that repeats a region (a tower in the flame graph).
struct CallTree {
    struct Node {
        std::uint32_t region = kNoRegion;
        std::uint32_t parent = kNoRegion;
        std::int64_t total_ns = 0;  ///< summed durations of the calls on this path
        std::int64_t self_ns = 0;   ///< total_ns minus the time in its children
        std::uint64_t calls = 0;
        std::vector<std::uint32_t> children;  ///< node indices
    };
    std::vector<Node> nodes;
};

/// Per-region times derived from nesting, summed over the threads added.
struct NestedTimes {
    /// Time inside the region, counting a recursive re-entry once (the outermost call only).
    std::vector<std::int64_t> inclusive_ns;
    /// Time inside the region and in none of its children (of any region).
    std::vector<std::int64_t> self_ns;
};

class NestingBuilder {
public:
    /// Without `call_tree`, only times() is kept (what the report needs): tree() stays the root
    /// alone, and a builder fed many threads holds no merged tree of all of them.
    explicit NestingBuilder(std::uint32_t region_count, bool call_tree = true);
    /// Adds one thread's intervals, in any order. Intervals that cross without one containing
    /// the other (not produced by scopes, but possible in foreign files) are treated as siblings:
    /// the later one is clipped to its parent's end for the self-time arithmetic.
    void add_thread(std::vector<Span> spans);
    [[nodiscard]] const NestedTimes& times() const noexcept;
    [[nodiscard]] const CallTree& tree() const noexcept;

private:
    /// The child of node `parent` for region `region`, created on first use.
    std::uint32_t child_node(std::uint32_t parent, std::uint32_t region);

    NestedTimes times_;
    CallTree tree_;
    std::unordered_map<std::uint64_t, std::uint32_t> child_index_;  ///< (parent << 32 | region) -> node
    std::vector<std::uint32_t> open_calls_;  ///< per region: calls of it open on the current stack
    bool call_tree_ = true;
};

}  // namespace scope_profiler::cli
