#pragma once
// The base of the cudasim backend tests: the simulator reset around each test, and in-memory
// sessions whose file goes to a temporary path, finalized (summary swallowed) and removed at the
// end, so no test leaves a file behind or a session open for the next.
#include <gtest/gtest.h>

#include <scope_profiler/cuda_sim.hpp>
#include <scope_profiler/scope_profiler.hpp>

#include <filesystem>
#include <string>

#include <unistd.h>

#include "device_backend.hpp"

/// A path in the temporary directory, unique to this process and `name`.
inline std::string sim_temp_file(const std::string& name) {
    return (std::filesystem::temp_directory_path() /
            ("scope_profiler_cudasim_" + std::to_string(::getpid()) + "_" + name + ".h5"))
        .string();
}

class SimSessionTest : public ::testing::Test {
protected:
    void SetUp() override { scope_profiler::cuda_sim::reset(); }
    void TearDown() override {
        if (scope_profiler::ProfileManager::is_active()) {
            testing::internal::CaptureStdout();  // the summary
            scope_profiler::ProfileManager::finalize();
            (void)testing::internal::GetCapturedStdout();
        }
        std::filesystem::remove(session_file_);
        scope_profiler::cuda_sim::reset();
        scope_profiler::detail::set_device_backend(nullptr);
    }
    /// A new in-memory session writing to session_file_.
    void start_session() {
        scope_profiler::Config config;
        config.flush_to_disk = false;
        config.file_path = session_file_;
        scope_profiler::ProfileManager::setup(config);
    }
    const std::string session_file_ = sim_temp_file("session");
};
