#include "utf8.hpp"

namespace scope_profiler::cli::utf8 {

std::size_t sequence_length(std::string_view text, std::size_t i) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    const std::size_t length = lead < 0x80          ? 1
                               : (lead >> 5) == 0x6 ? 2
                               : (lead >> 4) == 0xE ? 3
                               : (lead >> 3) == 0x1E ? 4
                                                    : 0;
    if (length == 0 || i + length > text.size() || (length == 2 && lead < 0xC2)) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
    }
    const unsigned next = length > 1 ? byte(i + 1) : 0;
    if (length == 3 && ((lead == 0xE0 && next < 0xA0) || (lead == 0xED && next >= 0xA0))) return 0;  // overlong, surrogate
    if (length == 4 && ((lead == 0xF0 && next < 0x90) || (lead == 0xF4 && next >= 0x90) || lead > 0xF4)) return 0;
    return length;
}

bool allowed_in_xml(std::string_view text, std::size_t i, std::size_t length) noexcept {
    const auto c = static_cast<unsigned char>(text[i]);
    if (length == 1) return c >= 0x20 ? c != 0x7F : (c == '\t' || c == '\n' || c == '\r');
    // U+FFFE and U+FFFF: EF BF BE, EF BF BF.
    return !(length == 3 && c == 0xEF && static_cast<unsigned char>(text[i + 1]) == 0xBF &&
             static_cast<unsigned char>(text[i + 2]) >= 0xBE);
}

}  // namespace scope_profiler::cli::utf8
