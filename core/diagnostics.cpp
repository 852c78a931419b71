#include "diagnostics.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace scope_profiler::detail {

namespace {

constexpr int kUnread = -1;
std::atomic<int> g_level{kUnread};

constexpr std::size_t kLine = 4096;

/// Writes "scope_profiler: [level: ]text\n" with one write(2); newlines in text become blanks.
void emit(LogLevel level, const char* text, std::size_t length) noexcept {
    char line[kLine + 64];
    const char* word = level == LogLevel::error ? "error: " : level == LogLevel::warning ? "warning: " : "";
    std::size_t n = static_cast<std::size_t>(std::snprintf(line, sizeof line, "scope_profiler: %s", word));
    length = std::min(length, kLine);
    for (std::size_t i = 0; i < length; ++i) line[n++] = text[i] == '\n' || text[i] == '\r' ? ' ' : text[i];
    while (n > 0 && line[n - 1] == ' ') --n;
    line[n++] = '\n';
    for (std::size_t done = 0; done < n;) {
        const ssize_t wrote = ::write(STDERR_FILENO, line + done, n - done);
        if (wrote <= 0) return;  // nowhere to say it
        done += static_cast<std::size_t>(wrote);
    }
}

/// The level SCOPE_PROFILER_LOG_LEVEL names; `bad` where it names none (info is used then).
int read_level(bool& bad) noexcept {
    bad = false;
    const char* value = std::getenv("SCOPE_PROFILER_LOG_LEVEL");
    if (value == nullptr || *value == '\0') return static_cast<int>(LogLevel::info);
    char lower[16] = {};
    for (std::size_t i = 0; i + 1 < sizeof lower && value[i] != '\0'; ++i)
        lower[i] = static_cast<char>(value[i] >= 'A' && value[i] <= 'Z' ? value[i] - 'A' + 'a' : value[i]);
    if (std::strlen(value) < sizeof lower) {
        if (std::strcmp(lower, "error") == 0) return static_cast<int>(LogLevel::error);
        if (std::strcmp(lower, "warning") == 0) return static_cast<int>(LogLevel::warning);
        if (std::strcmp(lower, "info") == 0) return static_cast<int>(LogLevel::info);
    }
    bad = true;
    return static_cast<int>(LogLevel::info);
}

void say_bad_level() noexcept {
    const char* value = std::getenv("SCOPE_PROFILER_LOG_LEVEL");
    char message[256];
    const int n = std::snprintf(message, sizeof message,
                                "SCOPE_PROFILER_LOG_LEVEL='%.64s' is none of error, warning, info; every message is printed",
                                value == nullptr ? "" : value);
    emit(LogLevel::error, message, static_cast<std::size_t>(std::max(n, 0)));
}

}  // namespace

bool log_enabled(LogLevel level) noexcept {
    int current = g_level.load(std::memory_order_acquire);
    if (current == kUnread) {
        // Two threads may both read it the first time; they find the same value, and only the
        // one that stores it says a bad one is bad.
        int expected = kUnread;
        bool bad = false;
        const int read = read_level(bad);
        if (g_level.compare_exchange_strong(expected, read, std::memory_order_acq_rel)) {
            current = read;
            if (bad) say_bad_level();
        } else {
            current = expected;
        }
    }
    return static_cast<int>(level) <= current;
}

void log(LogLevel level, std::string_view message) noexcept {
    if (log_enabled(level)) emit(level, message.data(), message.size());
}

void logf(LogLevel level, const char* format, ...) noexcept {
    if (!log_enabled(level)) return;
    char text[kLine];
    std::va_list args;
    va_start(args, format);
    const int n = std::vsnprintf(text, sizeof text, format, args);
    va_end(args);
    if (n < 0) return;
    emit(level, text, std::min(static_cast<std::size_t>(n), sizeof text - 1));
}

void reread_log_level_for_tests() noexcept { g_level.store(kUnread, std::memory_order_release); }

}  // namespace scope_profiler::detail
