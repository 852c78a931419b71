// The statistics engine against a straightforward reference: long double two-pass moments and
// percentiles from a sorted copy with numpy's linear interpolation.
#include <algorithm>
#include <climits>
#include <cmath>
#include <random>
#include <vector>

#include "fake_device_backend.hpp"
#include "stats.hpp"
#include "test_support.hpp"

namespace {

namespace d = sp::detail;

struct Reference {
    std::uint64_t count = 0;
    long double mean = 0, stddev = 0;
    std::int64_t min = 0, max = 0;
    __int128 sum = 0;
    double p50 = 0, p95 = 0, p99 = 0;
};

double numpy_percentile(const std::vector<std::int64_t>& sorted, double q) {
    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(position));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    const double a = static_cast<double>(sorted[lo]), b = static_cast<double>(sorted[hi]);
    const double gamma = position - std::floor(position);  // numpy's _lerp, from the nearer end
    return gamma >= 0.5 ? b - (b - a) * (1.0 - gamma) : a + (b - a) * gamma;
}

Reference reference(std::vector<std::int64_t> v) {
    Reference r;
    r.count = v.size();
    if (v.empty()) return r;
    for (const auto x : v) r.sum += x;
    r.mean = static_cast<long double>(r.sum) / v.size();
    long double m2 = 0;
    for (const auto x : v) m2 += (x - r.mean) * (x - r.mean);
    r.stddev = std::sqrt(m2 / v.size());
    std::sort(v.begin(), v.end());
    r.min = v.front();
    r.max = v.back();
    r.p50 = numpy_percentile(v, 0.50);
    r.p95 = numpy_percentile(v, 0.95);
    r.p99 = numpy_percentile(v, 0.99);
    return r;
}

void expect_matches(const sp::Stats& s, const Reference& r, const char* what) {
    SCOPED_TRACE(what);
    ASSERT_EQ(s.count, r.count);
    if (r.count == 0) return;
    EXPECT_EQ(s.min, r.min);
    EXPECT_EQ(s.max, r.max);
    if (r.sum <= INT64_MAX && r.sum >= INT64_MIN) EXPECT_EQ(s.total, static_cast<std::int64_t>(r.sum));
    EXPECT_NEAR(s.mean, static_cast<double>(r.mean), 1e-12 * std::fabs(static_cast<double>(r.mean)) + 1e-9);
    EXPECT_NEAR(s.stddev, static_cast<double>(r.stddev), 1e-7 * static_cast<double>(r.stddev) + 1e-6);
    EXPECT_DOUBLE_EQ(s.p50, r.p50);  // exact order statistics, same interpolation
    EXPECT_DOUBLE_EQ(s.p95, r.p95);
    EXPECT_DOUBLE_EQ(s.p99, r.p99);
}

std::vector<std::int64_t> sample(const std::string& kind, std::size_t n, std::mt19937_64& rng) {
    std::vector<std::int64_t> v(n);
    if (kind == "lognormal") {
        std::lognormal_distribution<double> dist(9.0, 1.5);  // ~8 us, heavy tail
        for (auto& x : v) x = static_cast<std::int64_t>(dist(rng));
    } else if (kind == "uniform_small") {
        std::uniform_int_distribution<std::int64_t> dist(0, 9);  // many ties
        for (auto& x : v) x = dist(rng);
    } else if (kind == "constant") {
        std::fill(v.begin(), v.end(), 123456789);
    } else if (kind == "near_int64_max") {
        std::uniform_int_distribution<std::int64_t> dist(INT64_MAX - (std::int64_t{1} << 40), INT64_MAX);
        for (auto& x : v) x = dist(rng);
    } else if (kind == "full_range") {
        std::uniform_int_distribution<std::int64_t> dist(INT64_MIN, INT64_MAX);
        for (auto& x : v) x = dist(rng);
    } else if (kind == "bimodal") {
        std::normal_distribution<double> fast(1e3, 10), slow(1e9, 1e6);
        for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::int64_t>(i % 7 ? fast(rng) : slow(rng));
    }
    return v;
}

TEST(Stats, RandomDataMatchesTheReference) {
    std::mt19937_64 rng(20261125);
    for (const char* kind : {"lognormal", "uniform_small", "constant", "near_int64_max", "full_range", "bimodal"}) {
        for (const std::size_t n : {1u, 2u, 3u, 4u, 7u, 100u, 1000u, 65537u, 300000u}) {
            const auto v = sample(kind, n, rng);
            const Reference r = reference(v);
            const std::string what = std::string(kind) + " n=" + std::to_string(n);
            expect_matches(d::compute_stats(v, d::StatsBackend::host), r, what.c_str());
            expect_matches(d::compute_stats(v), r, (what + " automatic").c_str());
        }
    }
}

TEST(Stats, NoCallsGivesZeros) {
    const sp::Stats s = d::compute_stats({});
    EXPECT_EQ(s.count, 0u);
    EXPECT_EQ(s.total, 0);
    EXPECT_EQ(s.min, 0);
    EXPECT_EQ(s.p99, 0.0);
}

TEST(Stats, OneCallIsItsOwnEverything) {
    const std::vector<std::int64_t> one = {42};
    const sp::Stats s = d::compute_stats(one);
    EXPECT_EQ(s.total, 42);
    EXPECT_EQ(s.mean, 42.0);
    EXPECT_EQ(s.stddev, 0.0);
    EXPECT_EQ(s.p50, 42.0);
    EXPECT_EQ(s.p99, 42.0);
}

TEST(Stats, IdenticalValuesHaveExactlyZeroSpread) {
    const std::vector<std::int64_t> same(100000, INT64_MAX - 5);
    const sp::Stats s = d::compute_stats(same);
    EXPECT_EQ(s.stddev, 0.0);
    EXPECT_EQ(s.min, INT64_MAX - 5);
    EXPECT_EQ(s.p95, static_cast<double>(INT64_MAX - 5));
    EXPECT_EQ(s.total, INT64_MAX);  // the total saturates instead of wrapping
}

TEST(Stats, AHundredMillionIntervalsDoNotOverflow) {
    // 1 s and 1 s +- 1 ns alternating: a total of 1e17 ns, a spread of exactly 1 ns
    constexpr std::size_t kN = 100'000'000;
    std::vector<std::int64_t> v(kN);
    for (std::size_t i = 0; i < kN; ++i) v[i] = 1'000'000'000 + (i % 2 ? 1 : -1);
    const sp::Stats s = d::compute_stats(v);
    EXPECT_EQ(s.count, kN);
    EXPECT_EQ(s.total, 100'000'000'000'000'000);
    EXPECT_DOUBLE_EQ(s.mean, 1e9);
    EXPECT_DOUBLE_EQ(s.stddev, 1.0);
    EXPECT_EQ(s.p50, 1e9);  // halfway between the two middle values, 1e9 - 1 and 1e9 + 1
    EXPECT_EQ(s.p99, 1e9 + 1);
}

TEST(Stats, MomentsOfBlocksMergeIntoTheMomentsOfTheWhole) {
    std::mt19937_64 rng(7);
    const auto v = sample("bimodal", 100000, rng);
    d::Moments merged;
    for (std::size_t first = 0; first < v.size(); first += 7919) {
        const std::size_t last = std::min(v.size(), first + 7919);
        merged = d::merge(merged, d::host_moments(std::span(v).subspan(first, last - first)));
    }
    const sp::Stats from_blocks = d::finish(merged);
    const sp::Stats whole = d::finish(d::host_moments(v));
    EXPECT_EQ(from_blocks.count, whole.count);
    EXPECT_EQ(from_blocks.total, whole.total);
    EXPECT_EQ(from_blocks.min, whole.min);
    EXPECT_EQ(from_blocks.max, whole.max);
    // Exact sums: the blocks give the whole's moments, so its mean and std to the bit.
    EXPECT_TRUE(merged.sum == d::host_moments(v).sum);
    EXPECT_TRUE(merged.squares.low == d::host_moments(v).squares.low);
    EXPECT_EQ(merged.squares.high, d::host_moments(v).squares.high);
    EXPECT_EQ(from_blocks.mean, whole.mean);
    EXPECT_EQ(from_blocks.stddev, whole.stddev);
    EXPECT_NEAR(from_blocks.stddev, static_cast<double>(reference(v).stddev), 1e-9 * whole.stddev);
}

TEST(Stats, SelectRanksFindsExactOrderStatistics) {
    std::mt19937_64 rng(3);
    for (const char* kind : {"lognormal", "uniform_small", "full_range", "bimodal"}) {
        auto v = sample(kind, 50001, rng);
        const auto lo = *std::min_element(v.begin(), v.end());
        const auto hi = *std::max_element(v.begin(), v.end());
        const std::array<std::uint64_t, 6> ranks = {0, 1, 25000, 47500, 49999, 50000};
        const auto got = d::select_ranks(v, lo, hi, ranks);
        std::sort(v.begin(), v.end());
        for (int i = 0; i < 6; ++i) EXPECT_EQ(got[i], v[ranks[i]]) << kind << " rank " << ranks[i];
    }
}

TEST(Stats, RegionStatsCoverHostAndDeviceIntervalsSeparately) {
    sp::ProfileManager::setup({.flush_to_disk = false});
    fake::Installed gpu;
    sp::Region& region = sp::ProfileManager::region("both");
    for (int i = 0; i < 5; ++i) sp::RegionScope s(region);
    for (int i = 0; i < 4; ++i) sp::DeviceScope s(region, fake::stream(1));
    for (std::uint64_t t = 1; t <= 4; ++t) gpu.backend->complete(t, 1000 * t, 1000 * t + 100 * t);
    const sp::Stats host = region.host_stats();
    const sp::Stats device = region.device_stats();
    EXPECT_EQ(host.count, 9u);  // host scopes and the CPU side of device scopes
    EXPECT_EQ(device.count, 4u);
    EXPECT_EQ(device.total, 100 + 200 + 300 + 400);
    EXPECT_DOUBLE_EQ(device.p50, 250.0);
    EXPECT_DOUBLE_EQ(device.p95, 385.0);
    EXPECT_DOUBLE_EQ(device.stddev, std::sqrt(12500.0));
}

}  // namespace

namespace {

// Intervals handed off to disk leave memory; statistics must still cover them. (The flusher
// arrives with the HDF5 file; here the hand-off is simulated through its entry point.)
TEST(Stats, FlushedIntervalsStayCoveredMomentsExactPercentilesWithinHalfAPercent) {
    sp::ProfileManager::setup({.flush_to_disk = false});
    std::mt19937_64 rng(11);
    const auto flushed = sample("lognormal", 200000, rng);
    sp::Region& region = sp::ProfileManager::region("flushed");
    d::absorb_flushed(region, std::span(flushed).first(150000), false);  // two hand-offs
    d::absorb_flushed(region, std::span(flushed).subspan(150000), false);
    for (int i = 0; i < 1000; ++i) sp::RegionScope s(region);          // still in memory

    std::vector<std::int64_t> all = flushed;
    const auto in_memory = region.get_durations();
    all.insert(all.end(), in_memory.begin(), in_memory.end());
    const Reference r = reference(all);
    const sp::Stats s = region.host_stats();
    EXPECT_FALSE(s.percentiles_exact);
    EXPECT_EQ(s.count, r.count);
    EXPECT_EQ(s.total, static_cast<std::int64_t>(r.sum));
    EXPECT_EQ(s.min, r.min);
    EXPECT_EQ(s.max, r.max);
    EXPECT_NEAR(s.stddev, static_cast<double>(r.stddev), 1e-9 * static_cast<double>(r.stddev));
    for (const auto& [got, want] : {std::pair{s.p50, r.p50}, {s.p95, r.p95}, {s.p99, r.p99}}) {
        EXPECT_NEAR(got, want, 0.005 * want + 1.0);
    }
    // A new session forgets them.
    sp::ProfileManager::setup({.flush_to_disk = false});
    EXPECT_EQ(region.host_stats().count, 0u);
    EXPECT_TRUE(region.host_stats().percentiles_exact);
}

TEST(LogHistogram, EveryRankIsWithinTheRelativeErrorAndMergingIsExact) {
    std::mt19937_64 rng(5);
    auto v = sample("lognormal", 20000, rng);
    v.push_back(0);
    d::LogHistogram a, b, whole;
    for (std::size_t i = 0; i < v.size(); ++i) {
        (i % 3 ? a : b).add(v[i]);
        whole.add(v[i]);
    }
    a.merge(b);
    std::sort(v.begin(), v.end());
    ASSERT_EQ(a.count(), v.size());
    for (std::uint64_t rank = 0; rank < v.size(); rank += 97) {
        EXPECT_EQ(a.value_at_rank(rank), whole.value_at_rank(rank));
        EXPECT_NEAR(a.value_at_rank(rank), static_cast<double>(v[rank]),
                    d::LogHistogram::kRelativeError * static_cast<double>(v[rank]) + 1e-9)
            << "rank " << rank;
    }
}

}  // namespace

namespace {

// A long first call (a warm-up) must not cost the standard deviation its digits (the squares are
// exact integers: nothing cancels).
TEST(Stats, AWarmUpOutlierFirstDoesNotCancelTheSpread) {
    constexpr std::size_t kN = 10'000'000;
    std::vector<std::int64_t> v(kN);
    v[0] = 1'000'000;  // 1 ms
    for (std::size_t i = 1; i < kN; ++i) v[i] = 1000 + static_cast<std::int64_t>(i % 10);
    const Reference r = reference(v);
    const sp::Stats s = d::compute_stats(v, d::StatsBackend::host);
    EXPECT_NEAR(s.stddev, static_cast<double>(r.stddev), 1e-9 * static_cast<double>(r.stddev));
    EXPECT_NEAR(s.mean, static_cast<double>(r.mean), 1e-12 * static_cast<double>(r.mean));
}

}  // namespace
