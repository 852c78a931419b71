#pragma once
// `scope-profiler report`: per-region statistics of host and device intervals, per file, per rank
// and over the chosen ranks, with inclusive and self times from nesting; printed as a table and
// written as JSON (the Python scope-profiler's region_statistics.json, extended) and CSV.

#include <cstdint>
#include <iosfwd>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "filters.hpp"
#include "profile_file.hpp"

namespace scope_profiler::cli {

/// The options of `report`, as the command line gives them.
struct ReportOptions {
    std::vector<std::string> files;
    std::vector<std::string> include, exclude;
    std::string ranks;          ///< "0-3,5"; empty: every rank
    std::string sort = "total"; ///< a column of the table (sort_columns())
    bool per_rank = false;      ///< also print one table per rank
    std::string json_path, csv_path;
};

/// Statistics of one set of durations, in ns. With count == 0 every other field is meaningless.
/// The fields of scope_profiler::Stats under the Python library's names, and first/last.
struct DurationStats {
    std::uint64_t count = 0;
    std::int64_t total = 0, min = 0, max = 0;
    double mean = 0, std = 0;  ///< std: population (numpy's default, ddof = 0)
    double p50 = 0, p95 = 0, p99 = 0;  ///< numpy's default percentile (linear interpolation)
    std::int64_t first = 0, last = 0;  ///< durations of the earliest-starting and latest-ending call
};

/// Everything but first/last of `durations`, computed as the library computes its statistics
/// (stats::stats_of over stats::plain_moments: the same numbers to the bit as finalize()'s
/// summary and Region::host_stats() for the same durations). The durations are not copied nor
/// reordered. SumOverflow when the total leaves 64 bits.
DurationStats duration_stats(std::span<const std::int64_t> durations);

/// One region's numbers in one scope (a rank, or the chosen ranks together).
struct RegionReport {
    std::string name;
    DurationStats host, device;
    std::uint64_t device_host_fallback = 0;  ///< device intervals timed on the host (no GPU)
    std::int64_t inclusive_ns = 0;  ///< time inside the region, recursion counted once
    std::int64_t self_ns = 0;       ///< time inside the region and in none of its children
};

struct RankReport {
    int rank = 0;
    std::vector<RegionReport> regions;
};

struct FileReport {
    std::string path, label;
    int num_ranks = 0;  ///< rank groups in the file
    std::vector<MetadataField> metadata;
    std::vector<RegionReport> regions;  ///< over the chosen ranks
    std::vector<RankReport> ranks;      ///< the chosen ranks present in the file
};

/// Reads the file in slices and computes every number. Regions the filter drops are read for
/// the nesting (a shown region's self time excludes time in a hidden child) but not reported.
/// Throws InputError when none of the chosen ranks is in the file.
FileReport build_report(const ProfileFile& file, const RegionFilter& regions, const RankSet& ranks);

/// The columns `--sort` takes.
const std::vector<std::string>& sort_columns();
/// Sorts regions by a column: numbers descending, name ascending; ties by name. An unknown
/// column throws InputError.
void sort_regions(std::vector<RegionReport>& regions, const std::string& column);

/// A duration for people: 4 significant digits in ns, us, ms or s ("12.34 ms"); "-" for NaN.
std::string format_duration(double ns);

void print_table(std::ostream& out, const std::vector<FileReport>& files, bool per_rank);
/// region_statistics.json of the Python scope-profiler, extended. Its layout: "units",
/// "filters" {include, exclude, ranks}, "common_regions", and "files": [{label, file_path,
/// num_ranks, total_time_seconds, region_statistics: {name: {...stats, "per_rank": {"0":
/// {...stats}}}}, metadata}]; total_time_seconds and metadata (numbers as JSON numbers) are
/// ours. Stats use the Python keys, in seconds: count, average_duration_seconds, min_, max_,
/// std_, total_duration_seconds; ours beside them: first_, last_, p50_, p95_,
/// p99_duration_seconds, every *_duration_seconds again exactly in ns as *_duration_ns,
/// inclusive_seconds/_ns, self_seconds/_ns, and the same set for device intervals prefixed
/// device_ (device_count, device_average_duration_seconds, ...) plus
/// device_host_fallback_count. Statistics of no calls are null, as in Python.
void write_json(std::ostream& out, const std::vector<FileReport>& files, const ReportOptions& options);
/// One row per file, rank (or "all") and region and kind (host, device); durations in ns.
void write_csv(std::ostream& out, const std::vector<FileReport>& files);

/// The whole command: builds the reports, prints the table, writes --json and --csv.
void run_report(const ReportOptions& options);

}  // namespace scope_profiler::cli
