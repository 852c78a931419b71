#include "compare_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "stats/moments.hpp"
#include "stats/percentiles.hpp"

namespace scope_profiler::cli {

using stats::percentile_between;
using stats::percentile_position;
using stats::PercentilePosition;

std::string_view metric_name(Metric metric) {
    switch (metric) {
        case Metric::mean: return "mean";
        case Metric::p50: return "p50";
        case Metric::p95: return "p95";
        case Metric::total: return "total";
    }
    return "?";
}

double Random::uniform() {
    // The top 53 bits, shifted off zero: (k + 0.5) / 2^53 for k in [0, 2^53).
    return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1p-53;
}

std::uint64_t Random::below(std::uint64_t n) {
    using Wide = stats::UInt128;
    Wide product = static_cast<Wide>(engine_()) * n;
    auto low = static_cast<std::uint64_t>(product);
    if (low < n) {
        const std::uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            product = static_cast<Wide>(engine_()) * n;
            low = static_cast<std::uint64_t>(product);
        }
    }
    return static_cast<std::uint64_t>(product >> 64);
}

double Random::normal() {
    if (has_spare_) {
        has_spare_ = false;
        return spare_;
    }
    double u = 0, v = 0, s = 0;
    do {
        u = 2 * uniform() - 1;
        v = 2 * uniform() - 1;
        s = u * u + v * v;
    } while (s >= 1 || s == 0);
    const double factor = std::sqrt(-2 * std::log(s) / s);
    spare_ = v * factor;
    has_spare_ = true;
    return u * factor;
}

double Random::gamma(double shape) {
    if (shape < 1) {
        // Gamma(a) = Gamma(a + 1) U^(1/a).
        return gamma(shape + 1) * std::pow(uniform(), 1 / shape);
    }
    const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
    for (;;) {
        double x = 0, v = 0;
        do {
            x = normal();
            v = 1 + c * x;
        } while (v <= 0);
        v = v * v * v;
        const double u = uniform();
        if (u < 1 - 0.0331 * x * x * x * x) return d * v;
        if (std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
    }
}

double Random::beta(double a, double b) {
    const double x = gamma(a);
    return x / (x + gamma(b));
}

double sorted_percentile(const std::vector<std::int64_t>& sorted, double q) {
    const PercentilePosition at = percentile_position(sorted.size(), q);
    const auto below = std::min<std::size_t>(at.below, sorted.size() - 1);
    const auto above = std::min(below + 1, sorted.size() - 1);
    return percentile_between(sorted[below], sorted[above], at.gamma);
}

namespace {

double percentile_of(Metric metric) { return metric == Metric::p95 ? 95.0 : 50.0; }

/// The value at fraction u (0..1) of the sample's inverse distribution function: the
/// ceil(u n)-th smallest call.
std::int64_t inverse_cdf(const std::vector<std::int64_t>& sorted, double u) {
    const double n = static_cast<double>(sorted.size());
    const auto k = static_cast<std::size_t>(std::ceil(u * n));
    return sorted[std::clamp<std::size_t>(k, 1, sorted.size()) - 1];
}

/// A bootstrap draw of numpy's percentile q of n resampled calls: order statistics k and k + 1
/// (1-based) of the resample, interpolated as sorted_percentile does.
double percentile_draw(const std::vector<std::int64_t>& sorted, double q, Random& random) {
    const std::size_t n = sorted.size();
    if (n == 1) return static_cast<double>(sorted[0]);
    const PercentilePosition at = percentile_position(n, q);  // at.below: 0-based order statistic
    const double k = static_cast<double>(at.below + 1);
    const double u_k = random.beta(k, static_cast<double>(n) + 1 - k);
    const std::int64_t lo = inverse_cdf(sorted, u_k);
    if (at.gamma == 0 || at.below + 1 >= n) return static_cast<double>(lo);
    // The least of the n - k uniforms above u_k: u_k + (1 - u_k) (1 - V^(1 / (n - k))).
    const double rest = static_cast<double>(n) - k;
    const double u_next = u_k + (1 - u_k) * -std::expm1(std::log(random.uniform()) / rest);
    return percentile_between(lo, inverse_cdf(sorted, u_next), at.gamma);
}

double mean_draw(const Sample& sample, Random& random) {
    const std::vector<std::int64_t>& calls = sample.sorted;
    const std::size_t n = calls.size();
    if (n <= kResampledMeanLimit) {
        long double sum = 0;
        for (std::size_t i = 0; i < n; ++i) sum += static_cast<long double>(calls[random.below(n)]);
        return static_cast<double>(sum / static_cast<long double>(n));
    }
    // The normal limit of the resampled mean: the sample's mean, its population variance / n.
    return sample.mean + std::sqrt(sample.variance / static_cast<double>(n)) * random.normal();
}

}  // namespace

Sample make_sample(std::vector<std::int64_t> durations, double runs) {
    Sample sample;
    std::sort(durations.begin(), durations.end());
    sample.sorted = std::move(durations);
    sample.runs = runs;
    if (sample.sorted.empty()) return sample;
    // The library's and report's moments (exact sums): the same mean to the bit.
    const stats::Moments moments = stats::plain_moments(sample.sorted);
    const Stats s = stats::finish(moments);
    sample.sum = static_cast<double>(moments.sum);
    sample.mean = s.mean;
    sample.variance = s.stddev * s.stddev;
    return sample;
}

double metric_of(const Sample& sample, Metric metric) {
    switch (metric) {
        case Metric::mean: return sample.mean;
        case Metric::total: return sample.sum / sample.runs;
        case Metric::p50:
        case Metric::p95: return sorted_percentile(sample.sorted, percentile_of(metric));
    }
    return std::numeric_limits<double>::quiet_NaN();
}

double bootstrap_draw(const Sample& sample, Metric metric, Random& random) {
    switch (metric) {
        case Metric::mean: return mean_draw(sample, random);
        // A run's total with its calls resampled: the resampled mean times the calls per run.
        case Metric::total:
            return mean_draw(sample, random) * static_cast<double>(sample.sorted.size()) / sample.runs;
        case Metric::p50:
        case Metric::p95: return percentile_draw(sample.sorted, percentile_of(metric), random);
    }
    return std::numeric_limits<double>::quiet_NaN();
}

RatioInterval bootstrap_ratio(const Sample& base, const Sample& next, Metric metric, double confidence,
                              int resamples, Random& random) {
    std::vector<double> ratios;
    ratios.reserve(static_cast<std::size_t>(std::max(resamples, 0)));
    for (int i = 0; i < resamples; ++i) {
        const double b = bootstrap_draw(base, metric, random);
        const double n = bootstrap_draw(next, metric, random);
        if (b > 0) ratios.push_back(n / b);
    }
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    if (ratios.empty()) return {kNaN, kNaN};
    std::sort(ratios.begin(), ratios.end());
    const double tail = (1 - confidence) / 2;
    auto at = [&](double fraction) {
        // numpy's percentile ("linear") of the draws, as for the durations.
        const PercentilePosition p = percentile_position(ratios.size(), fraction * 100);
        const std::size_t below = std::min<std::size_t>(p.below, ratios.size() - 1);
        const std::size_t above = std::min(below + 1, ratios.size() - 1);
        return percentile_between(ratios[below], ratios[above], p.gamma);
    };
    return {at(tail), at(1 - tail)};
}

UTest mann_whitney(const std::vector<std::int64_t>& base_sorted, const std::vector<std::int64_t>& next_sorted) {
    // Ranks of the pooled calls by one merge of the two sorted samples; a run of equal values
    // shares the mean of its ranks.
    const double n1 = static_cast<double>(base_sorted.size()), n2 = static_cast<double>(next_sorted.size());
    std::size_t i = 0, j = 0;
    double rank = 0;       // ranks given so far
    double next_ranks = 0; // sum of the ranks of `next`'s calls
    double ties = 0;       // sum of t^3 - t over the runs of equal values
    while (i < base_sorted.size() || j < next_sorted.size()) {
        const std::int64_t value = j == next_sorted.size() || (i < base_sorted.size() && base_sorted[i] < next_sorted[j])
                                       ? base_sorted[i]
                                       : next_sorted[j];
        double in_base = 0, in_next = 0;
        while (i < base_sorted.size() && base_sorted[i] == value) ++i, ++in_base;
        while (j < next_sorted.size() && next_sorted[j] == value) ++j, ++in_next;
        const double t = in_base + in_next;
        next_ranks += in_next * (rank + (t + 1) / 2);
        rank += t;
        ties += t * t * t - t;
    }
    UTest test;
    test.u = next_ranks - n2 * (n2 + 1) / 2;
    test.next_larger = n1 * n2 > 0 ? test.u / (n1 * n2) : 0.5;
    const double total = n1 + n2;
    const double variance = n1 * n2 / 12 * ((total + 1) - (total > 1 ? ties / (total * (total - 1)) : 0));
    if (!(variance > 0)) return test;  // every call of the same length: no evidence of a change
    const double shift = test.u - n1 * n2 / 2;
    const double corrected = std::max(std::abs(shift) - 0.5, 0.0);
    test.z = std::copysign(corrected / std::sqrt(variance), shift);
    test.p = std::erfc(std::abs(test.z) / std::sqrt(2.0));
    return test;
}

}  // namespace scope_profiler::cli
