#include "stats/moments.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace scope_profiler::stats {

Moments plain_moments(std::span<const std::int64_t> values) noexcept {
    Moments m;
    for (const std::int64_t x : values) {
        ++m.count;
        m.sum += x;
        m.min = std::min(m.min, x);
        m.max = std::max(m.max, x);
        const UInt128 s = square(x);
        m.squares.low += s;
        m.squares.high += m.squares.low < s ? 1 : 0;
    }
    return m;
}

namespace {

using U256 = std::array<std::uint64_t, 4>;  // little-endian limbs

/// a * b (a and b of na and nb limbs; na + nb <= 4).
U256 multiply(const std::uint64_t* a, int na, const std::uint64_t* b, int nb) {
    U256 r{};
    for (int i = 0; i < na; ++i) {
        std::uint64_t carry = 0;
        for (int j = 0; j < nb; ++j) {
            const UInt128 p = static_cast<UInt128>(a[i]) * b[j] + r[i + j] + carry;
            r[i + j] = static_cast<std::uint64_t>(p);
            carry = static_cast<std::uint64_t>(p >> 64);
        }
        if (i + nb < 4) r[i + nb] = carry;
    }
    return r;
}

/// a - b, for a >= b.
U256 subtract(const U256& a, const U256& b) {
    U256 r{};
    std::uint64_t borrow = 0;
    for (int i = 0; i < 4; ++i) {
        const std::uint64_t d = a[i] - b[i];
        const std::uint64_t out = d - borrow;
        borrow = (a[i] < b[i] || d < borrow) ? 1 : 0;
        r[i] = out;
    }
    return r;
}

}  // namespace

Stats finish(const Moments& m) noexcept {
    Stats s;
    s.count = m.count;
    if (m.count == 0) return s;
    s.total = static_cast<std::int64_t>(std::clamp<Int128>(m.sum, INT64_MIN, INT64_MAX));
    s.mean = mean_of(m.sum, m.count);
    s.min = m.min;
    s.max = m.max;
    // n sum x^2 - (sum x)^2 = sum over pairs of (x_i - x_j)^2 >= 0: exact in 256 bits.
    const std::uint64_t squares[3] = {static_cast<std::uint64_t>(m.squares.low),
                                      static_cast<std::uint64_t>(m.squares.low >> 64), m.squares.high};
    const std::uint64_t n[1] = {m.count};
    const UInt128 magnitude =
        m.sum < 0 ? 0 - static_cast<UInt128>(m.sum) : static_cast<UInt128>(m.sum);
    const std::uint64_t sum[2] = {static_cast<std::uint64_t>(magnitude), static_cast<std::uint64_t>(magnitude >> 64)};
    const U256 scaled = subtract(multiply(squares, 3, n, 1), multiply(sum, 2, sum, 2));
    long double value = 0;
    for (int i = 3; i >= 0; --i) value = value * 18446744073709551616.0L + static_cast<long double>(scaled[i]);
    // std = sqrt(n sum x^2 - (sum x)^2) / n
    s.stddev = static_cast<double>(std::sqrt(value) / static_cast<long double>(m.count));
    return s;
}

}  // namespace scope_profiler::stats
