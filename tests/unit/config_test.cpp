#include <cstdlib>
#include <stdexcept>

#include "test_support.hpp"

namespace {

// Sets an environment variable for the life of the object.
class EnvVar {
public:
    EnvVar(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
    ~EnvVar() { ::unsetenv(name_); }

private:
    const char* name_;
};

TEST(Config, DefaultsAreThePythonLibrarys) {
    const sp::Config config;
    EXPECT_TRUE(config.profiling_activated);
    EXPECT_TRUE(config.time_trace);
    EXPECT_TRUE(config.flush_to_disk);
    EXPECT_EQ(config.buffer_limit, 100000u);
    EXPECT_EQ(config.file_path, "profiling_data.h5");
    EXPECT_TRUE(config.use_nvtx);
    EXPECT_EQ(config.flush_interval_ms, 1000u);
    EXPECT_TRUE(config.finalize_on_signal);
    EXPECT_EQ(config.on_backpressure, sp::Backpressure::wait);
}

TEST(Config, FromEnvReadsEveryVariable) {
    EnvVar a("SCOPE_PROFILER_PROFILING_ACTIVATED", "0");
    EnvVar b("SCOPE_PROFILER_TIME_TRACE", "off");
    EnvVar c("SCOPE_PROFILER_FLUSH_TO_DISK", "No");
    EnvVar d("SCOPE_PROFILER_USE_NVTX", "FALSE");
    EnvVar e("SCOPE_PROFILER_BUFFER_LIMIT", "4096");
    EnvVar f("SCOPE_PROFILER_FILE_PATH", "/tmp/run 1/out.h5");
    EnvVar g("SCOPE_PROFILER_FLUSH_INTERVAL_MS", "0");
    EnvVar h("SCOPE_PROFILER_FINALIZE_ON_SIGNAL", "off");
    EnvVar i("SCOPE_PROFILER_ON_BACKPRESSURE", "Drop");
    EnvVar j("SCOPE_PROFILER_CLOCK", "TSC");
    const sp::Config config = sp::Config::from_env();
    EXPECT_FALSE(config.profiling_activated);
    EXPECT_FALSE(config.time_trace);
    EXPECT_FALSE(config.flush_to_disk);
    EXPECT_FALSE(config.use_nvtx);
    EXPECT_EQ(config.buffer_limit, 4096u);
    EXPECT_EQ(config.file_path, "/tmp/run 1/out.h5");
    EXPECT_EQ(config.flush_interval_ms, 0u);
    EXPECT_FALSE(config.finalize_on_signal);
    EXPECT_EQ(config.on_backpressure, sp::Backpressure::drop);
    EXPECT_EQ(config.clock, sp::Clock::tsc);
}

TEST(Config, FromEnvRejectsAClockItDoesNotKnow) {
    EnvVar v("SCOPE_PROFILER_CLOCK", "rdtsc");
    try {
        (void)sp::Config::from_env();
        ADD_FAILURE() << "accepted rdtsc";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()), "SCOPE_PROFILER_CLOCK='rdtsc' is neither steady nor tsc");
    }
    EXPECT_THROW((sp::Config{.clock = static_cast<sp::Clock>(7)}.validate()), std::invalid_argument);
}

TEST(Config, FromEnvRejectsABackpressurePolicyItDoesNotKnow) {
    EnvVar v("SCOPE_PROFILER_ON_BACKPRESSURE", "block");
    try {
        (void)sp::Config::from_env();
        ADD_FAILURE() << "accepted block";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()), "SCOPE_PROFILER_ON_BACKPRESSURE='block' is neither wait nor drop");
    }
    EXPECT_THROW((sp::Config{.on_backpressure = static_cast<sp::Backpressure>(7)}.validate()),
                 std::invalid_argument);
}

TEST(Config, FromEnvRejectsAFlushIntervalThatIsNotAnInteger) {
    for (const char* bad : {"-1", "1e3", " 5", "0x10", "1s"}) {
        EnvVar v("SCOPE_PROFILER_FLUSH_INTERVAL_MS", bad);
        try {
            (void)sp::Config::from_env();
            ADD_FAILURE() << "accepted " << bad;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("SCOPE_PROFILER_FLUSH_INTERVAL_MS"),
                      std::string::npos)
                << e.what();
        }
    }
}

TEST(Config, FromEnvOverridesTheProgramsChoiceOnlyWhereSet) {
    EnvVar a("SCOPE_PROFILER_TIME_TRACE", "yes");
    const sp::Config config =
        sp::Config::from_env({.time_trace = false, .buffer_limit = 7, .file_path = "mine.h5"});
    EXPECT_TRUE(config.time_trace);
    EXPECT_EQ(config.buffer_limit, 7u);
    EXPECT_EQ(config.file_path, "mine.h5");
}

TEST(Config, FromEnvTreatsAnEmptyVariableAsUnset) {
    EnvVar a("SCOPE_PROFILER_FILE_PATH", "");
    EXPECT_EQ(sp::Config::from_env({.file_path = "kept.h5"}).file_path, "kept.h5");
}

TEST(Config, FromEnvRejectsABadBooleanNamingTheVariable) {
    EnvVar a("SCOPE_PROFILER_TIME_TRACE", "maybe");
    try {
        (void)sp::Config::from_env();
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("SCOPE_PROFILER_TIME_TRACE='maybe'"), std::string::npos)
            << e.what();
    }
}

TEST(Config, FromEnvRejectsABufferLimitThatIsNotAPositiveInteger) {
    for (const char* bad : {"0", "12x", "-5", "1e5", " 10"}) {
        EnvVar a("SCOPE_PROFILER_BUFFER_LIMIT", bad);
        EXPECT_THROW((void)sp::Config::from_env(), std::invalid_argument) << bad;
    }
}

TEST(Config, SetupRejectsUnusableValuesWithTheReason) {
    EXPECT_THROW(sp::ProfileManager::setup({.buffer_limit = 0}), std::invalid_argument);
    EXPECT_THROW(sp::ProfileManager::setup({.flush_interval_ms = 86'400'001}),
                 std::invalid_argument);
    try {
        sp::ProfileManager::setup({.file_path = ""});
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("file_path"), std::string::npos) << e.what();
    }
}

TEST(Config, GetConfigReturnsWhatSetupReceived) {
    sp::ProfileManager::setup({.time_trace = false, .flush_to_disk = false, .buffer_limit = 12,
                               .file_path = "x.h5", .use_nvtx = false});
    const sp::Config config = sp::ProfileManager::get_config();
    EXPECT_FALSE(config.time_trace);
    EXPECT_FALSE(config.flush_to_disk);
    EXPECT_EQ(config.buffer_limit, 12u);
    EXPECT_EQ(config.file_path, "x.h5");
    EXPECT_FALSE(config.use_nvtx);
}

}  // namespace
