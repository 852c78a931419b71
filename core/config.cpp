// Config: environment overrides and validation.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "scope_profiler/config.hpp"

namespace scope_profiler {
namespace {

constexpr std::size_t kMaxFlushIntervalMs = 86'400'000;  // a day

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

const char* env_value(const char* variable) {
    const char* value = std::getenv(variable);
    return (value != nullptr && *value != '\0') ? value : nullptr;
}

/// An enumeration from its two names (any case): `first` or `second`.
template <class Enum>
void apply_choice(const char* variable, Enum& field, std::pair<const char*, Enum> first,
                  std::pair<const char*, Enum> second) {
    const char* value = env_value(variable);
    if (value == nullptr) return;
    const std::string v = lower(value);
    if (v == first.first) {
        field = first.second;
    } else if (v == second.first) {
        field = second.second;
    } else {
        throw std::invalid_argument(std::string(variable) + "='" + value + "' is neither " + first.first +
                                    " nor " + second.first);
    }
}

void apply_bool(const char* variable, bool& field) {
    const char* value = env_value(variable);
    if (value == nullptr) return;
    const std::string v = lower(value);
    if (v == "1" || v == "true" || v == "on" || v == "yes") {
        field = true;
    } else if (v == "0" || v == "false" || v == "off" || v == "no") {
        field = false;
    } else {
        throw std::invalid_argument(std::string(variable) + "='" + value +
                                    "' is not a boolean: use 1/0, true/false, on/off or yes/no");
    }
}

// Digits only (no sign, space or exponent), at least `least`.
void apply_size(const char* variable, std::size_t& field, std::size_t least = 1) {
    const char* value = env_value(variable);
    if (value == nullptr) return;
    const std::string_view v(value);
    std::size_t parsed = 0;
    const auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), parsed);
    if (error != std::errc() || end != v.data() + v.size() || parsed < least) {
        throw std::invalid_argument(std::string(variable) + "='" + value + "' is not a " +
                                    (least == 0 ? "non-negative" : "positive") + " integer");
    }
    field = parsed;
}

}  // namespace

Config Config::from_env(Config base) {
    apply_bool("SCOPE_PROFILER_PROFILING_ACTIVATED", base.profiling_activated);
    apply_bool("SCOPE_PROFILER_TIME_TRACE", base.time_trace);
    apply_bool("SCOPE_PROFILER_FLUSH_TO_DISK", base.flush_to_disk);
    apply_bool("SCOPE_PROFILER_USE_NVTX", base.use_nvtx);
    apply_bool("SCOPE_PROFILER_FINALIZE_ON_SIGNAL", base.finalize_on_signal);
    apply_size("SCOPE_PROFILER_BUFFER_LIMIT", base.buffer_limit);
    apply_size("SCOPE_PROFILER_FLUSH_INTERVAL_MS", base.flush_interval_ms, 0);
    apply_choice("SCOPE_PROFILER_ON_BACKPRESSURE", base.on_backpressure, {"wait", Backpressure::wait},
                 {"drop", Backpressure::drop});
    apply_choice("SCOPE_PROFILER_CLOCK", base.clock, {"steady", Clock::steady}, {"tsc", Clock::tsc});
    if (const char* path = env_value("SCOPE_PROFILER_FILE_PATH")) base.file_path = path;
    return base;
}

Config Config::from_env() { return from_env(Config{}); }

void Config::validate() const {
    if (buffer_limit == 0) {
        throw std::invalid_argument("Config::buffer_limit must be at least 1 (calls per region)");
    }
    if (flush_interval_ms > kMaxFlushIntervalMs) {
        throw std::invalid_argument("Config::flush_interval_ms is " +
                                    std::to_string(flush_interval_ms) +
                                    ": at most 86400000 (a day); 0 turns the timed flush off");
    }
    if (on_backpressure != Backpressure::wait && on_backpressure != Backpressure::drop) {
        throw std::invalid_argument("Config::on_backpressure is neither Backpressure::wait nor "
                                    "Backpressure::drop");
    }
    if (clock != Clock::steady && clock != Clock::tsc) {
        throw std::invalid_argument("Config::clock is neither Clock::steady nor Clock::tsc");
    }
    if (file_path.empty()) {
        throw std::invalid_argument("Config::file_path is empty: name the HDF5 file to write");
    }
}

}  // namespace scope_profiler
