#pragma once
// Sums of nanoseconds that say so when they leave 64 bits. Every time the reader returns lies in
// [0, 2^62] (kLatestNs, profile_file.hpp), so one duration always fits; a sum of many does not
// have to: only a damaged or crafted file holds durations that add up to 292 years, and its
// totals must not come out wrapped around. The subcommands add the file's name to the message.

#include <cstdint>
#include <string>

#include "profile_file.hpp"

namespace scope_profiler::cli {

class SumOverflow : public InputError {
public:
    SumOverflow() : InputError("its durations add up to more than 2^63 ns (292 years): the file is damaged") {}
};

/// a + b, or SumOverflow.
inline std::int64_t add_ns(std::int64_t a, std::int64_t b) {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) throw SumOverflow();
    return sum;
}

/// fn(), with the file's name put before a SumOverflow's message.
template <typename Fn>
auto naming_the_file(const std::string& path, Fn&& fn) {
    try {
        return fn();
    } catch (const SumOverflow& e) {
        throw InputError(path + ": " + e.what());
    }
}

}  // namespace scope_profiler::cli
