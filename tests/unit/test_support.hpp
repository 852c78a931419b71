#pragma once
// Shared by the unit tests: a fresh in-memory session per test, and stderr capture.
#include <gtest/gtest.h>

#include <scope_profiler/scope_profiler.hpp>

#include <string>

namespace sp = scope_profiler;

/// Every test starts a new session in memory: setup() clears what earlier tests recorded.
class Session : public ::testing::Test {
protected:
    void SetUp() override { sp::ProfileManager::setup({.flush_to_disk = false}); }
};

/// The number of the region's calls, or 0 when the region is not listed in this session.
inline std::uint64_t calls_of(std::string_view name) {
    const sp::Region* region = sp::ProfileManager::get_region(name);
    return region != nullptr ? region->num_calls() : 0;
}
