#pragma once
// Region names in the file: a region's group is linked under its escaped name, and its "name"
// attribute holds the original bytes (docs/file_format.md, "Names"). The writer escapes; the
// reader takes the attribute, so it never has to un-escape.

#include <string>
#include <string_view>

namespace scope_profiler::format {

/// A region name as an HDF5 link name, reversibly: '%' -> %25, '/' -> %2F, the name "." ->
/// %2E, ASCII control bytes (0x00-0x1F, 0x7F) and bytes that are not part of valid UTF-8 ->
/// %XX (uppercase hex). Everything else, valid UTF-8 and spaces included, stays as it is. The
/// result is valid UTF-8, holds no '/', and is never ".".
std::string escape_name(std::string_view name);
/// The inverse of escape_name. A '%' not followed by two hex digits is kept as it is.
std::string unescape_name(std::string_view escaped);
/// A region name for a diagnostic: as it is, or for a long one its first 60 bytes or so and its
/// length ("aaaa... (1048580 bytes)").
std::string name_for_message(std::string_view name);
/// name_for_message, escaped and in single quotes: control bytes never reach a terminal.
std::string quoted_name(std::string_view name);

}  // namespace scope_profiler::format
