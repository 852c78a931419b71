// Nesting reconstructed from intervals (tools/nesting.hpp): exact call trees, inclusive and
// self times on small hand-made threads.

#include "nesting.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace scope_profiler::cli {
namespace {

/// The node reached from the root by the region path, or kNoRegion.
std::uint32_t find_path(const CallTree& tree, const std::vector<std::uint32_t>& path) {
    std::uint32_t node = 0;
    for (const std::uint32_t region : path) {
        std::uint32_t next = kNoRegion;
        for (const std::uint32_t child : tree.nodes[node].children) {
            if (tree.nodes[child].region == region) next = child;
        }
        if (next == kNoRegion) return kNoRegion;
        node = next;
    }
    return node;
}

const CallTree::Node& node_at(const CallTree& tree, const std::vector<std::uint32_t>& path) {
    const std::uint32_t node = find_path(tree, path);
    EXPECT_NE(node, kNoRegion);
    return tree.nodes.at(node == kNoRegion ? 0 : node);
}

TEST(Nesting, ContainedIntervalIsAChild) {
    NestingBuilder b(2);
    b.add_thread({{0, 100, 0}, {10, 40, 1}, {50, 70, 1}});
    const CallTree& t = b.tree();
    ASSERT_EQ(t.nodes.size(), 3u);  // root, 0, 0->1
    EXPECT_EQ(node_at(t, {0}).total_ns, 100);
    EXPECT_EQ(node_at(t, {0}).self_ns, 50);
    EXPECT_EQ(node_at(t, {0}).calls, 1u);
    EXPECT_EQ(node_at(t, {0, 1}).total_ns, 50);
    EXPECT_EQ(node_at(t, {0, 1}).self_ns, 50);
    EXPECT_EQ(node_at(t, {0, 1}).calls, 2u);
    EXPECT_EQ(t.nodes[0].total_ns, 100);
    EXPECT_EQ(b.times().inclusive_ns, (std::vector<std::int64_t>{100, 50}));
    EXPECT_EQ(b.times().self_ns, (std::vector<std::int64_t>{50, 50}));
}

TEST(Nesting, InputOrderDoesNotMatter) {
    NestingBuilder a(3), b(3);
    a.add_thread({{0, 100, 0}, {10, 40, 1}, {20, 30, 2}, {60, 90, 2}});
    b.add_thread({{20, 30, 2}, {60, 90, 2}, {10, 40, 1}, {0, 100, 0}});  // completion order
    EXPECT_EQ(a.times().self_ns, b.times().self_ns);
    EXPECT_EQ(a.times().inclusive_ns, b.times().inclusive_ns);
    EXPECT_EQ(node_at(b.tree(), {0, 1, 2}).total_ns, 10);
    EXPECT_EQ(node_at(b.tree(), {0, 2}).total_ns, 30);
    EXPECT_EQ(b.times().self_ns, (std::vector<std::int64_t>{40, 20, 40}));
}

TEST(Nesting, RecursionIsATowerCountedOnceInclusive) {
    NestingBuilder b(2);
    // f(0..100) -> f(10..90) -> f(20..80) -> g(30..40)
    b.add_thread({{0, 100, 0}, {10, 90, 0}, {20, 80, 0}, {30, 40, 1}});
    const CallTree& t = b.tree();
    EXPECT_EQ(node_at(t, {0}).total_ns, 100);
    EXPECT_EQ(node_at(t, {0, 0}).total_ns, 80);
    EXPECT_EQ(node_at(t, {0, 0, 0}).total_ns, 60);
    EXPECT_EQ(node_at(t, {0, 0, 0, 1}).total_ns, 10);
    EXPECT_EQ(node_at(t, {0}).self_ns, 20);
    EXPECT_EQ(node_at(t, {0, 0}).self_ns, 20);
    EXPECT_EQ(node_at(t, {0, 0, 0}).self_ns, 50);
    EXPECT_EQ(b.times().inclusive_ns, (std::vector<std::int64_t>{100, 10}));
    EXPECT_EQ(b.times().self_ns, (std::vector<std::int64_t>{90, 10}));
}

TEST(Nesting, SiblingsAtTheTopAreRoots) {
    NestingBuilder b(2);
    b.add_thread({{0, 10, 0}, {10, 30, 1}, {30, 35, 0}});
    const CallTree& t = b.tree();
    EXPECT_EQ(t.nodes[0].children.size(), 2u);
    EXPECT_EQ(node_at(t, {0}).total_ns, 15);
    EXPECT_EQ(node_at(t, {0}).calls, 2u);
    EXPECT_EQ(node_at(t, {1}).total_ns, 20);
    EXPECT_EQ(t.nodes[0].total_ns, 35);
    EXPECT_EQ(b.times().self_ns, (std::vector<std::int64_t>{15, 20}));
}

TEST(Nesting, CrossingIntervalsAreSiblingsClippedForSelfTime) {
    NestingBuilder b(3);
    // P(0..100) holds A(10..50) and B(30..120): B crosses A and P's end.
    b.add_thread({{0, 100, 0}, {10, 50, 1}, {30, 120, 2}});
    const CallTree& t = b.tree();
    EXPECT_NE(find_path(t, {0, 1}), kNoRegion);
    EXPECT_NE(find_path(t, {0, 2}), kNoRegion);  // a sibling of A, not its child
    EXPECT_EQ(find_path(t, {0, 1, 2}), kNoRegion);
    EXPECT_EQ(node_at(t, {0, 2}).total_ns, 90);  // the call's own duration
    // Self times: B counts [50, 100), A [10, 50), P the rest of [0, 100).
    EXPECT_EQ(b.times().self_ns, (std::vector<std::int64_t>{10, 40, 50}));
    EXPECT_EQ(b.times().inclusive_ns, (std::vector<std::int64_t>{100, 40, 90}));
    for (const auto& node : t.nodes) EXPECT_GE(node.self_ns, 0);
}

TEST(Nesting, ThreadsMergeByCallPath) {
    NestingBuilder b(2);
    b.add_thread({{0, 100, 0}, {10, 20, 1}});
    b.add_thread({{5, 55, 0}, {10, 40, 1}});  // overlaps thread 1 in time: no matter
    const CallTree& t = b.tree();
    ASSERT_EQ(t.nodes.size(), 3u);
    EXPECT_EQ(node_at(t, {0}).total_ns, 150);
    EXPECT_EQ(node_at(t, {0}).calls, 2u);
    EXPECT_EQ(node_at(t, {0, 1}).total_ns, 40);
    EXPECT_EQ(b.times().self_ns, (std::vector<std::int64_t>{110, 40}));
    EXPECT_EQ(b.times().inclusive_ns, (std::vector<std::int64_t>{150, 40}));
}

TEST(Nesting, TimesOnlyGivesTheSameTimesAndNoTree) {
    // The report's builders keep the times only, one builder for many threads.
    NestingBuilder full(3), times_only(3, false);
    for (NestingBuilder* b : {&full, &times_only}) {
        b->add_thread({{0, 100, 0}, {10, 40, 1}, {20, 30, 2}, {50, 70, 1}});
        b->add_thread({{5, 55, 1}, {10, 20, 1}, {60, 90, 0}});
    }
    EXPECT_EQ(times_only.times().self_ns, full.times().self_ns);
    EXPECT_EQ(times_only.times().inclusive_ns, full.times().inclusive_ns);
    EXPECT_EQ(times_only.tree().nodes.size(), 1u);  // the root alone
    EXPECT_GT(full.tree().nodes.size(), 1u);
}

TEST(Nesting, IdenticalIntervalsNestAndZeroLengthCalls) {
    NestingBuilder b(2);
    b.add_thread({{0, 10, 0}, {0, 10, 1}, {10, 10, 1}});
    const CallTree& t = b.tree();
    EXPECT_EQ(node_at(t, {0, 1}).total_ns, 10);
    EXPECT_EQ(node_at(t, {1}).calls, 1u);  // the empty call at 10 is after the parent ended
    EXPECT_EQ(b.times().self_ns, (std::vector<std::int64_t>{0, 10}));
}

TEST(Nesting, SelfTimesSumToTheTimeCoveredOnRandomProperNesting) {
    // Properly nested random intervals (generated as a recursive split): the self times sum to
    // the covered time, and every node's self time is its total minus its children's totals.
    std::mt19937_64 rng(7);
    std::vector<Span> spans;
    std::int64_t covered = 0;
    const auto split = [&](auto&& self, std::int64_t lo, std::int64_t hi, int depth) -> void {
        std::int64_t t = lo;
        while (t < hi) {
            const std::int64_t len = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi - t));
            const std::int64_t gap = static_cast<std::int64_t>(rng() % 3);
            if (t + gap + len > hi) break;
            spans.push_back({t + gap, t + gap + len, static_cast<std::uint32_t>(rng() % 5)});
            if (depth == 0) covered += len;
            if (depth < 6 && len > 2) self(self, t + gap, t + gap + len, depth + 1);
            t += gap + len;
        }
    };
    split(split, 0, 100000, 0);
    NestingBuilder b(5);
    b.add_thread(spans);
    std::int64_t self_sum = 0;
    for (const std::int64_t s : b.times().self_ns) self_sum += s;
    EXPECT_EQ(self_sum, covered);
    const CallTree& t = b.tree();
    EXPECT_EQ(t.nodes[0].total_ns, covered);
    for (std::size_t i = 1; i < t.nodes.size(); ++i) {
        std::int64_t children = 0;
        for (const std::uint32_t c : t.nodes[i].children) children += t.nodes[c].total_ns;
        EXPECT_EQ(t.nodes[i].self_ns, t.nodes[i].total_ns - children);
    }
}

}  // namespace
}  // namespace scope_profiler::cli
