#pragma once
// Every message the library prints goes through here: one line on stderr, "scope_profiler: "
// first, then "error: " or "warning: " for those levels (information has no word), written with
// one write(2) so that lines from several threads or ranks do not interleave. Which levels are
// printed: SCOPE_PROFILER_LOG_LEVEL = error, warning or info (the default: everything, as
// before the variable existed), read at the first message. Internal to the library (core/ and
// cuda/).

#include <string_view>

namespace scope_profiler::detail {

enum class LogLevel { error = 0, warning = 1, info = 2 };

/// Whether a message of this level is printed (SCOPE_PROFILER_LOG_LEVEL).
[[nodiscard]] bool log_enabled(LogLevel level) noexcept;

/// Prints the message as one line (a newline inside it becomes a blank) when its level is
/// enabled. Allocates nothing: usable in a fork() child. A message longer than 4 KiB is cut.
void log(LogLevel level, std::string_view message) noexcept;

/// printf-style, as log().
void logf(LogLevel level, const char* format, ...) noexcept __attribute__((format(printf, 2, 3)));

/// Tests: read SCOPE_PROFILER_LOG_LEVEL again at the next message.
void reread_log_level_for_tests() noexcept;

}  // namespace scope_profiler::detail
