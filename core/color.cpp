#include "scope_profiler/color.hpp"

#include <cmath>

namespace scope_profiler {

std::uint32_t region_color(std::string_view name) noexcept {
    std::uint32_t hash = 2166136261u;  // FNV-1a: stable across platforms and library versions
    for (const char c : name) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 16777619u;
    }
    const double hue = static_cast<double>(hash % 360u);
    const double saturation = 0.55 + 0.15 * static_cast<double>((hash >> 12) % 3u);  // 0.55-0.85
    const double value = 0.80 + 0.075 * static_cast<double>((hash >> 20) % 3u);      // 0.80-0.95
    const double c = value * saturation;
    const double x = c * (1.0 - std::fabs(std::fmod(hue / 60.0, 2.0) - 1.0));
    const double m = value - c;
    double r = 0, g = 0, b = 0;
    switch (static_cast<int>(hue / 60.0)) {
        case 0: r = c; g = x; break;
        case 1: r = x; g = c; break;
        case 2: g = c; b = x; break;
        case 3: g = x; b = c; break;
        case 4: r = x; b = c; break;
        default: r = c; b = x; break;
    }
    auto byte = [m](double v) { return static_cast<std::uint32_t>(std::lround((v + m) * 255.0)); };
    return 0xFF000000u | (byte(r) << 16) | (byte(g) << 8) | byte(b);
}

}  // namespace scope_profiler
