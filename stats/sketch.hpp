#pragma once
// The quantile sketch of durations that have left memory.
#include <cstdint>
#include <vector>

namespace scope_profiler::stats {

/**
 * A mergeable quantile sketch for intervals that have left memory: counts in logarithmic
 * buckets (x in (g^(i-1), g^i], g = (1 + a) / (1 - a)), so any value it reports is within a
 * relative error a = 0.5 % of a value of that rank. Merging is adding counts, so it is exact.
 */
class LogHistogram {
public:
    static constexpr double kRelativeError = 0.005;

    void add(std::int64_t value);
    void merge(const LogHistogram& other);
    std::uint64_t count() const noexcept { return count_; }
    /// A value of the given 0-based rank, within kRelativeError (values <= 0 count as 0).
    double value_at_rank(std::uint64_t rank) const noexcept;

private:
    std::uint64_t count_ = 0;
    std::uint64_t nonpositive_ = 0;
    std::vector<std::uint64_t> buckets_;  // grown to the highest bucket seen
};

}  // namespace scope_profiler::stats
