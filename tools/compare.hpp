#pragma once
// `scope-profiler compare BASE NEW` (docs/cli.md, "compare"): did a change make a region slower?
// Per region present on both sides (host and device intervals apart): calls, mean, p50, p95 and
// total per run on each side and the relative change of each; for the chosen metric, a bootstrap
// interval of the ratio NEW / BASE and a Mann-Whitney U test; a verdict against a threshold that
// a CI job can gate on (--fail-on-regression: exit 1). Several files per side are pooled.
//
// Computation here; the table and the JSON in compare_output.cpp; the chart in chart_compare.cpp.

#include <CLI/CLI.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compare_stats.hpp"

namespace scope_profiler::cli {

/// The options of `compare`, as the command line gives them.
struct CompareOptions {
    std::vector<std::string> base, next;  ///< the files of each side (runs pooled)
    std::vector<std::string> include, exclude;
    std::string ranks;  ///< "0-3,5"; empty: every rank
    Metric metric = Metric::p50;
    double threshold_percent = 5;  ///< a significant change larger than this is a regression
    double confidence = 0.95;
    int resamples = 2000;
    std::uint64_t seed = 1;
    bool fail_on_regression = false;
    std::string json_path, chart_path;
};

/// What compare says of one region.
enum class Verdict {
    regression,   ///< significantly slower, by more than the threshold
    improvement,  ///< significantly faster, by more than the threshold
    slower,       ///< significantly slower, within the threshold
    faster,       ///< significantly faster, within the threshold
    unchanged,    ///< no significant change
    too_few_calls,  ///< fewer than kMinCallsPerSide on a side: nothing is judged
    only_base,    ///< no call on the new side
    only_new,     ///< no call on the base side
};
/// "regression", "improvement", "slower", "faster", "unchanged", "too few calls", "only in base",
/// "only in new".
std::string_view verdict_name(Verdict verdict);

/// Fewest calls on each side for a verdict on the change.
inline constexpr std::size_t kMinCallsPerSide = 5;

/// One side's numbers of one region (ns).
struct SideNumbers {
    std::uint64_t calls = 0;
    double runs = 1;  ///< files on this side
    /// Indexed by Metric: mean, p50, p95 of one call; total per run (sum / runs).
    std::array<double, 4> value{};
};

struct RegionComparison {
    std::string name;
    bool device = false;  ///< device intervals (else host)
    std::optional<SideNumbers> base, next;
    /// next / base - 1 of each metric (indexed by Metric); NaN where a side is missing or its
    /// base value is 0.
    std::array<double, 4> change{};
    /// The chosen metric's ratio next / base, its bootstrap interval (NaN when not computed).
    double ratio = 0;
    RatioInterval interval;
    std::optional<UTest> u_test;  ///< when both sides have kMinCallsForUTest calls
    Verdict verdict = Verdict::unchanged;
};

struct Comparison {
    CompareOptions options;
    std::vector<RegionComparison> regions;  ///< host regions by name, then device regions by name
    [[nodiscard]] std::size_t count(Verdict verdict) const;
};

/// Reads every file and compares; bad input throws InputError (the file named).
Comparison compare(const CompareOptions& options);

/// The seed of one region's draws: the run's seed mixed with its name and kind, so a region's
/// interval does not depend on which other regions were compared.
std::uint64_t region_seed(std::uint64_t seed, const std::string& name, bool device);

// compare_output.cpp
void print_comparison(std::ostream& out, const Comparison& comparison);
void write_comparison_json(std::ostream& out, const Comparison& comparison);
// chart_compare.cpp: the changes of the chosen metric with their intervals, one row per region.
std::string comparison_chart(const Comparison& comparison);

/// The whole command; returns the exit code (1 when --fail-on-regression and a region regressed).
int run_compare(const CompareOptions& options);

/// Registers the `compare` subcommand; its exit code goes to `exit_code`.
void add_compare_command(CLI::App& app, int& exit_code);

}  // namespace scope_profiler::cli
