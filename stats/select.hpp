#pragma once
// Exact values at given ranks of unsorted data, without sorting it.
#include <array>
#include <cstdint>
#include <span>

namespace scope_profiler::stats {

/// Exact values at the given ranks, with min and max known: a radix select that histograms
/// 16 bits of (value - min) per pass and keeps only the buckets holding a wanted rank.
/// O(n) per pass, at most four passes, no copy of the data.
std::array<std::int64_t, 6> select_ranks(std::span<const std::int64_t> values, std::int64_t min,
                                         std::int64_t max, const std::array<std::uint64_t, 6>& ranks);

/// The values at `ranks` (ascending): select_ranks, or below kRadixSelectFrom values a copy and
/// std::nth_element, which is faster there. Never copies more than kRadixSelectFrom values.
std::array<std::int64_t, 6> values_at_ranks(std::span<const std::int64_t> values, std::int64_t min,
                                            std::int64_t max, const std::array<std::uint64_t, 6>& ranks);

/// Below this many values, clearing the radix select's 2^16-bucket histograms costs more than
/// copying the data and selecting with std::nth_element (measured: 24 us against 2 us at 1000
/// values; the radix select wins from about 20,000 up).
inline constexpr std::size_t kRadixSelectFrom = 16384;

}  // namespace scope_profiler::stats
