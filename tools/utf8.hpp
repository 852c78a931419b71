#pragma once
// UTF-8 as the writers of text formats need it (svg.cpp, chrome_trace.cpp). Region names are
// bytes: the library writes whatever a user passed, and a foreign file may hold anything.
// Writers keep every valid character and replace the rest with U+FFFD, so that the SVG is
// well-formed XML and the JSON valid UTF-8 whatever the names.

#include <cstddef>
#include <string_view>

#include "format/utf8.hpp"

namespace scope_profiler::cli::utf8 {

/// The length of the well-formed UTF-8 sequence at text[i], or 0 when the bytes there are not
/// one (the file format's definition, format/utf8.hpp).
using format::utf8::sequence_length;

/// Whether the character at text[i], of `length` bytes (from sequence_length), may appear in
/// XML 1.0: not U+FFFE or U+FFFF, no control character but tab, line feed and carriage return.
[[nodiscard]] bool allowed_in_xml(std::string_view text, std::size_t i, std::size_t length) noexcept;

}  // namespace scope_profiler::cli::utf8
