#pragma once
// Well-formed UTF-8 (RFC 3629), for the writer's names and text attributes and the command's
// text outputs (SVG, JSON). Region names are bytes: whatever a user passed, or a foreign file
// holds.

#include <cstddef>
#include <string_view>

namespace scope_profiler::format::utf8 {

/// The length of the well-formed UTF-8 sequence at text[i] (no overlong forms, no surrogates
/// U+D800..U+DFFF, nothing above U+10FFFF), or 0 when the bytes there are not one.
[[nodiscard]] std::size_t sequence_length(std::string_view text, std::size_t i) noexcept;
/// Whether the whole text is well-formed UTF-8.
[[nodiscard]] bool valid(std::string_view text) noexcept;

}  // namespace scope_profiler::format::utf8
