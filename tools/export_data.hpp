#pragma once
// The data behind a chart, as `pproc --export-data` writes it next to the SVG: CSV (RFC 4180,
// a header line) or JSON (an array of objects, one per row, keyed by column).

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace scope_profiler::cli {

/// Named columns and rows of cells (integers, numbers or text).
struct Table {
    using Cell = std::variant<std::int64_t, double, std::string>;
    std::vector<std::string> columns;
    std::vector<std::vector<Cell>> rows;
};

/// The table as CSV: the header, then a line per row; text quoted where it holds , " or a newline.
std::string to_csv(const Table& table);
/// The table as JSON: [{"column": value, ...}, ...].
std::string to_json(const Table& table);

}  // namespace scope_profiler::cli
