#pragma once
// Progress of a long step on stderr ("reading run.h5: 42%"), only when stderr is a terminal, so
// logs and pipes stay clean. Redrawn at most ten times a second; the line is cleared at the end.

#include <chrono>
#include <cstdint>
#include <string>

namespace scope_profiler::cli {

class Progress {
public:
    /// A step called `label` of `total` units (intervals, bytes: whatever advance() counts).
    Progress(std::string label, std::uint64_t total);
    ~Progress();  // clears the line
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    /// Counts `units` more done.
    void advance(std::uint64_t units);
    /// Names what is being done now ("nesting ..."), shown at once where progress is shown.
    void set_label(std::string label);

    /// Whether progress is shown at all (stderr is a terminal); for tests.
    [[nodiscard]] static bool enabled();

private:
    std::string label_;
    std::uint64_t total_ = 0, done_ = 0;
    bool shown_ = false, active_ = false;
    std::chrono::steady_clock::time_point started_, last_draw_;
};

}  // namespace scope_profiler::cli
