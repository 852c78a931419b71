#include "stats/sketch.hpp"

#include <cmath>

namespace scope_profiler::stats {

namespace {
constexpr double kGamma = (1.0 + LogHistogram::kRelativeError) / (1.0 - LogHistogram::kRelativeError);
const double kInvLogGamma = 1.0 / std::log(kGamma);
}  // namespace

void LogHistogram::add(std::int64_t value) {
    ++count_;
    if (value <= 0) {
        ++nonpositive_;
        return;
    }
    const auto bucket = static_cast<std::size_t>(std::ceil(std::log(static_cast<double>(value)) * kInvLogGamma));
    if (bucket >= buckets_.size()) buckets_.resize(bucket + 1, 0);
    ++buckets_[bucket];
}

void LogHistogram::merge(const LogHistogram& other) {
    count_ += other.count_;
    nonpositive_ += other.nonpositive_;
    if (other.buckets_.size() > buckets_.size()) buckets_.resize(other.buckets_.size(), 0);
    for (std::size_t i = 0; i < other.buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
}

double LogHistogram::value_at_rank(std::uint64_t rank) const noexcept {
    if (rank < nonpositive_) return 0.0;
    std::uint64_t seen = nonpositive_;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (rank < seen) return 2.0 * std::pow(kGamma, static_cast<double>(i)) / (kGamma + 1.0);
    }
    return 0.0;  // rank >= count: not asked by this library
}

}  // namespace scope_profiler::stats
