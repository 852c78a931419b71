#include "text_cells.hpp"

#include <algorithm>
#include <cstdio>

namespace scope_profiler::cli {

std::string display_name(std::string_view name) {
    std::string text;
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7F) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
            text += escaped;
        } else {
            text += c;
        }
    }
    return text;
}

std::size_t width_of(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::string fit(std::string text, std::size_t width) {
    if (width_of(text) <= width) return text + std::string(width - width_of(text), ' ');
    std::size_t columns = 0, i = 0;
    for (; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && ++columns > width - 3) break;
    }
    text.resize(i);
    return text + "..." + std::string(width - width_of(text) - 3, ' ');
}

std::string right(const std::string& text, std::size_t width) {
    return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

}  // namespace scope_profiler::cli
