#include "format/names.hpp"

#include "format/utf8.hpp"

namespace scope_profiler::format {
namespace {

void append_percent(std::string& out, unsigned char c) {
    constexpr const char* kHex = "0123456789ABCDEF";
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 0x0F];
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

}  // namespace

std::string escape_name(std::string_view name) {
    if (name == ".") return "%2E";
    std::string out;
    out.reserve(name.size());
    for (std::size_t i = 0; i < name.size();) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F || c == '%' || c == '/')
                append_percent(out, c);
            else
                out += static_cast<char>(c);
            ++i;
            continue;
        }
        const std::size_t length = utf8::sequence_length(name, i);
        if (length == 0) {
            append_percent(out, c);
            ++i;
        } else {
            out.append(name.substr(i, length));
            i += length;
        }
    }
    return out;
}

std::string unescape_name(std::string_view escaped) {
    std::string out;
    out.reserve(escaped.size());
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '%' && i + 2 < escaped.size()) {
            const int high = hex_value(escaped[i + 1]);
            const int low = hex_value(escaped[i + 2]);
            if (high >= 0 && low >= 0) {
                out += static_cast<char>(high * 16 + low);
                i += 2;
                continue;
            }
        }
        out += escaped[i];
    }
    return out;
}

std::string name_for_message(std::string_view name) {
    constexpr std::size_t kShown = 60;
    if (name.size() <= kShown + 20) return std::string(name);
    std::size_t cut = kShown;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    return std::string(name.substr(0, cut)) + "... (" + std::to_string(name.size()) + " bytes)";
}

std::string quoted_name(std::string_view name) {
    return "'" + escape_name(name_for_message(name)) + "'";
}

}  // namespace scope_profiler::format
