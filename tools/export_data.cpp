// CSV and JSON of a chart's table (export_data.hpp).

#include "export_data.hpp"

#include <nlohmann/json.hpp>

#include "svg.hpp"

namespace scope_profiler::cli {

namespace {

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string csv_cell(const Table::Cell& cell) {
    if (const auto* i = std::get_if<std::int64_t>(&cell)) return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&cell)) return svg::number(*d, 6);
    return csv_field(std::get<std::string>(cell));
}

}  // namespace

std::string to_csv(const Table& table) {
    std::string out;
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
        if (c) out += ',';
        out += csv_field(table.columns[c]);
    }
    out += '\n';
    for (const auto& row : table.rows) {
        for (std::size_t c = 0; c < row.size(); ++c) {
            if (c) out += ',';
            out += csv_cell(row[c]);
        }
        out += '\n';
    }
    return out;
}

std::string to_json(const Table& table) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& row : table.rows) {
        nlohmann::ordered_json object = nlohmann::ordered_json::object();
        for (std::size_t c = 0; c < row.size() && c < table.columns.size(); ++c) {
            std::visit([&](const auto& v) { object[table.columns[c]] = v; }, row[c]);
        }
        rows.push_back(std::move(object));
    }
    // Names are bytes; invalid UTF-8 is replaced rather than rejected.
    return rows.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace scope_profiler::cli
