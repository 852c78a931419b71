#pragma once
// Text in the cells of the terminal tables that report and compare print: names made safe for a
// terminal, and fitted to a column width counted in UTF-8 code points.

#include <cstddef>
#include <string>
#include <string_view>

namespace scope_profiler::cli {

/// A name as a terminal shows it safely: control bytes as \xNN.
std::string display_name(std::string_view name);

/// Columns a UTF-8 string takes (one per code point).
std::size_t width_of(std::string_view text);

/// Exactly `width` columns (width >= 4): padded with blanks, or a longer text cut and ended
/// with "...".
std::string fit(std::string text, std::size_t width);

/// Right-aligned in `width` columns (a longer text as it is).
std::string right(const std::string& text, std::size_t width);

}  // namespace scope_profiler::cli
