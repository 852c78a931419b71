#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace scope_profiler::cli {

namespace {
// A step shorter than this shows nothing: no flicker for small files.
constexpr auto kQuiet = std::chrono::milliseconds(300);
constexpr auto kRedraw = std::chrono::milliseconds(100);
}  // namespace

bool Progress::enabled() {
    static const bool terminal = ::isatty(STDERR_FILENO) == 1;
    return terminal;
}

Progress::Progress(std::string label, std::uint64_t total)
    : label_(std::move(label)), total_(total), active_(enabled()) {
    if (active_) started_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
}

void Progress::set_label(std::string label) {
    label_ = std::move(label);
    if (shown_) {
        last_draw_ = {};
        advance(0);
    }
}

void Progress::advance(std::uint64_t units) {
    done_ += units;
    if (!active_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - started_ < kQuiet || now - last_draw_ < kRedraw) return;
    last_draw_ = now;
    shown_ = true;
    const double percent = total_ == 0 ? 100.0 : 100.0 * static_cast<double>(done_) / static_cast<double>(total_);
    std::fprintf(stderr, "\r\033[K%s: %3.0f%%", label_.c_str(), percent > 100.0 ? 100.0 : percent);
    std::fflush(stderr);
}

}  // namespace scope_profiler::cli
