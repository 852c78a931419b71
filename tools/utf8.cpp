#include "utf8.hpp"

namespace scope_profiler::cli::utf8 {

bool allowed_in_xml(std::string_view text, std::size_t i, std::size_t length) noexcept {
    const auto c = static_cast<unsigned char>(text[i]);
    if (length == 1) return c >= 0x20 ? c != 0x7F : (c == '\t' || c == '\n' || c == '\r');
    // U+FFFE and U+FFFF: EF BF BE, EF BF BF.
    return !(length == 3 && c == 0xEF && static_cast<unsigned char>(text[i + 1]) == 0xBF &&
             static_cast<unsigned char>(text[i + 2]) >= 0xBE);
}

}  // namespace scope_profiler::cli::utf8
