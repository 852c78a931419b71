#pragma once
// The statistics of `scope-profiler compare` (docs/cli.md, "compare"): a seeded generator whose
// numbers are the same on every platform, the percentile-bootstrap interval of the ratio of a
// statistic of two samples of durations, and the Mann-Whitney U test.

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace scope_profiler::cli {

/// What `compare --metric` judges: the mean, the median or the 95th percentile of the durations
/// of one call, or the total time of a run (the durations' sum over the number of runs).
enum class Metric { mean, p50, p95, total };

/// "mean", "p50", "p95", "total".
std::string_view metric_name(Metric metric);

/// Uniform, normal, gamma and beta variates from a seed. std::mt19937_64 is specified to the bit;
/// the <random> distributions are not (libstdc++ and libc++ draw differently), so the variates
/// are drawn here, and the same seed gives the same numbers wherever the program runs.
class Random {
public:
    explicit Random(std::uint64_t seed) : engine_(seed) {}
    /// In (0, 1).
    double uniform();
    /// In [0, n), n > 0, without bias (Lemire's method).
    std::uint64_t below(std::uint64_t n);
    /// Standard normal (Marsaglia's polar method).
    double normal();
    /// Gamma of this shape (> 0) and scale 1 (Marsaglia and Tsang).
    double gamma(double shape);
    /// Beta(a, b), a and b > 0.
    double beta(double a, double b);

private:
    std::mt19937_64 engine_;
    double spare_ = 0;
    bool has_spare_ = false;
};

/// One side of a comparison: durations (ns) of one region pooled over the side's files and
/// chosen ranks, sorted ascending, and the number of runs (files) they came from.
struct Sample {
    std::vector<std::int64_t> sorted;
    double runs = 1;
    double sum = 0;       ///< of the durations
    double mean = 0;      ///< as report and the library compute it (stats::finish)
    double variance = 0;  ///< population variance (ddof = 0)
};

/// A sample of these durations (sorted here) from `runs` runs.
Sample make_sample(std::vector<std::int64_t> durations, double runs);

/// numpy.percentile(sorted, q) (linear interpolation) of a sorted, non-empty sample.
double sorted_percentile(const std::vector<std::int64_t>& sorted, double q);

/// The metric of a non-empty sample, in ns.
double metric_of(const Sample& sample, Metric metric);

/// Up to this many calls a bootstrap mean is drawn by resampling the calls; above, from its
/// normal limit N(mean, variance / n), which the resampled mean then follows to within the
/// interval's own sampling error (docs/cli.md). Percentiles are drawn exactly at every size.
inline constexpr std::size_t kResampledMeanLimit = 10'000;

/// One draw of the metric from a bootstrap resample of the sample (n calls drawn with
/// replacement). A percentile's draw is exact and O(1): the k-th smallest of n resampled calls
/// is the sample's inverse distribution function at the k-th smallest of n uniforms, which is
/// Beta(k, n + 1 - k); the (k+1)-th follows from the k-th as the least of the n - k above it.
double bootstrap_draw(const Sample& sample, Metric metric, Random& random);

/// A two-sided interval of the ratio metric(next) / metric(base).
struct RatioInterval {
    double low = 0, high = 0;
};

/// The percentile-bootstrap interval at `confidence` (0.5 to 0.9999) of the ratio of the metric
/// of `next` to that of `base` from `resamples` pairs of independent resamples. Both samples non-empty;
/// draws whose base is 0 are left out (no ratio), and NaN bounds mean no draw had one.
RatioInterval bootstrap_ratio(const Sample& base, const Sample& next, Metric metric, double confidence,
                              int resamples, Random& random);

/// The Mann-Whitney U test of two sorted samples, two-sided, by the normal approximation with
/// the correction for ties and for continuity. `next_larger` is the probability that a call of
/// `next` is longer than one of `base` (ties count half): U / (n1 n2).
struct UTest {
    double u = 0;            ///< U of `next`
    double next_larger = 0;  ///< U / (n1 n2)
    double z = 0;
    double p = 1;            ///< two-sided p-value
};
UTest mann_whitney(const std::vector<std::int64_t>& base_sorted, const std::vector<std::int64_t>& next_sorted);

/// Fewest calls on each side for the U test's normal approximation (below it the test is not run).
inline constexpr std::size_t kMinCallsForUTest = 10;

}  // namespace scope_profiler::cli
