#pragma once
// A fresh directory per test, removed afterwards. Named by the test suite and test alone (no
// process id), so that a death test's child, which runs SetUp() again, finds the same one.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

class ScratchDir : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = std::filesystem::temp_directory_path() /
               (std::string("scope_profiler_") + info->test_suite_name() + "_" + info->name());
        std::filesystem::remove_all(dir_);  // nothing from an earlier run passes for this one's
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    /// A path in the directory.
    [[nodiscard]] std::string file(const std::string& name) const { return (dir_ / name).string(); }
    /// The names of the directory's entries, sorted.
    [[nodiscard]] std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& entry : std::filesystem::directory_iterator(dir_))
            names.push_back(entry.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

    std::filesystem::path dir_;
};
