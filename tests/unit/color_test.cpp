#include <algorithm>
#include <set>
#include <string>

#include "test_support.hpp"

namespace {

TEST(RegionColor, DependsOnTheNameAlone) {
    EXPECT_EQ(sp::region_color("solver"), sp::region_color(std::string("sol") + "ver"));
    // Golden value: colors must not change between versions, or plots and Nsight would disagree
    // with files recorded earlier.
    EXPECT_EQ(sp::region_color("solver"), 0xFFF2E149u) << std::hex << sp::region_color("solver");
}

TEST(RegionColor, IsOpaqueReadableAndSpreadOut) {
    std::set<std::uint32_t> colors;
    for (int i = 0; i < 200; ++i) {
        const std::uint32_t c = sp::region_color("region_" + std::to_string(i));
        EXPECT_EQ(c >> 24, 0xFFu);
        const std::uint32_t r = (c >> 16) & 0xFF, g = (c >> 8) & 0xFF, b = c & 0xFF;
        const std::uint32_t hi = std::max({r, g, b}), lo = std::min({r, g, b});
        EXPECT_GE(hi, 200u);          // value >= 0.8: never muddy
        EXPECT_GE(hi - lo, 100u);     // saturation >= 0.55: never grey
        colors.insert(c);
    }
    EXPECT_GE(colors.size(), 190u);  // nearly every name its own color
}

}  // namespace
