#include "stats/select.hpp"

#include <algorithm>
#include <bit>
#include <vector>

namespace scope_profiler::stats {

std::array<std::int64_t, 6> select_ranks(std::span<const std::int64_t> values, std::int64_t min,
                                         std::int64_t max, const std::array<std::uint64_t, 6>& ranks) {
    std::array<std::int64_t, 6> out{};
    if (values.empty()) return out;
    const auto range = static_cast<std::uint64_t>(max) - static_cast<std::uint64_t>(min);
    const int bits = 64 - std::countl_zero(range);  // 0 for a range of 0
    if (bits == 0) {
        out.fill(min);
        return out;
    }
    constexpr int kDigit = 16;
    // Each wanted rank is narrowed to a prefix of the bits of (value - min) and the rank it has
    // among the values that share that prefix.
    std::array<std::uint64_t, 6> prefix{};
    std::array<std::uint64_t, 6> rank = ranks;
    int done_bits = 0;  // leading bits fixed so far
    std::vector<std::uint64_t> histogram;
    while (done_bits < bits) {
        const int width = std::min(kDigit, bits - done_bits);
        const int below = bits - done_bits - width;  // bits under this digit
        const std::size_t buckets = std::size_t{1} << width;
        // Distinct prefixes among the six ranks (usually 3 or fewer) each get a histogram.
        std::array<std::uint64_t, 6> distinct{};
        int n_distinct = 0;
        std::array<int, 6> slot{};
        for (int r = 0; r < 6; ++r) {
            int found = -1;
            for (int d = 0; d < n_distinct; ++d) {
                if (distinct[d] == prefix[r]) found = d;
            }
            if (found < 0) {
                distinct[n_distinct] = prefix[r];
                found = n_distinct++;
            }
            slot[r] = found;
        }
        histogram.assign(buckets * n_distinct, 0);
        const int shift = below + width;  // the fixed prefix sits above this
        if (done_bits == 0) {
            for (const std::int64_t v : values) {
                const std::uint64_t u = static_cast<std::uint64_t>(v) - static_cast<std::uint64_t>(min);
                ++histogram[u >> below];
            }
        } else if (n_distinct == 1) {
            const std::uint64_t want = distinct[0];
            const std::uint64_t mask = buckets - 1;
            for (const std::int64_t v : values) {
                const std::uint64_t u = static_cast<std::uint64_t>(v) - static_cast<std::uint64_t>(min);
                if ((u >> shift) == want) ++histogram[(u >> below) & mask];
            }
        } else {
            const std::uint64_t mask = buckets - 1;
            for (const std::int64_t v : values) {
                const std::uint64_t u = static_cast<std::uint64_t>(v) - static_cast<std::uint64_t>(min);
                const std::uint64_t top = u >> shift;
                for (int d = 0; d < n_distinct; ++d) {
                    if (top == distinct[d]) {
                        ++histogram[d * buckets + ((u >> below) & mask)];
                        break;
                    }
                }
            }
        }
        for (int r = 0; r < 6; ++r) {
            const std::uint64_t* h = histogram.data() + slot[r] * buckets;
            std::uint64_t before = 0;
            std::size_t b = 0;
            while (before + h[b] <= rank[r]) before += h[b++];
            prefix[r] = (prefix[r] << width) | b;
            rank[r] -= before;
        }
        done_bits += width;
    }
    for (int r = 0; r < 6; ++r) {
        out[r] = static_cast<std::int64_t>(static_cast<std::uint64_t>(min) + prefix[r]);
    }
    return out;
}

namespace {

std::array<std::int64_t, 6> select_ranks_by_copy(std::span<const std::int64_t> values,
                                                 const std::array<std::uint64_t, 6>& ranks) {
    std::vector<std::int64_t> copy(values.begin(), values.end());
    std::array<std::int64_t, 6> out{};
    auto first = copy.begin();
    for (int i = 0; i < 6; ++i) {  // ranks ascend: each selection narrows the next one's range
        const auto nth = copy.begin() + static_cast<std::ptrdiff_t>(ranks[i]);
        if (nth >= first) {
            std::nth_element(first, nth, copy.end());
            first = nth + 1;
        }
        out[i] = *nth;
    }
    return out;
}

}  // namespace

std::array<std::int64_t, 6> values_at_ranks(std::span<const std::int64_t> values, std::int64_t min,
                                            std::int64_t max, const std::array<std::uint64_t, 6>& ranks) {
    return values.size() < kRadixSelectFrom ? select_ranks_by_copy(values, ranks) : select_ranks(values, min, max, ranks);
}

}  // namespace scope_profiler::stats
