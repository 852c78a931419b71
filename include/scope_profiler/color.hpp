#pragma once
/// @file color.hpp
/// @brief The color of a region: the same in Nsight (NVTX) and in our own plots.

#include <cstdint>
#include <string_view>

namespace scope_profiler {

/**
 * @brief The ARGB color (alpha 0xFF) of the region `name`, derived from the name alone.
 *
 * A hash of the name picks the hue; saturation and value are fixed so every color reads on
 * a white or a dark background. The same name gives the same color in every process and build.
 */
std::uint32_t region_color(std::string_view name) noexcept;

}  // namespace scope_profiler
