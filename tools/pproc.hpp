#pragma once
// `scope-profiler pproc FILE.h5... -o DIR` (docs/cli.md): the charts of one or more profiling
// files, as SVG: gantt.svg, flame.svg, durations_<metric>.svg and, for runs of different rank
// counts, speedup.svg; with --export-data the data behind each as CSV or JSON next to it.

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace scope_profiler::cli {

/// The options of `pproc`, as the command line gives them.
struct PprocOptions {
    std::vector<std::string> files;
    std::string output_dir;
    std::vector<std::string> include, exclude;
    std::string ranks;               ///< "0-3,5"; empty: every rank
    bool export_data = false;        ///< also write <chart>.csv / <chart>.json
    std::string export_format = "csv";  ///< "csv" or "json"
    /// A region's time in speedup.svg: "mean" (per call, the Python library's) or "total" (the
    /// slowest rank's).
    std::string speedup_metric = "mean";
};

/// Reads the files and writes the charts; bad input throws InputError before any output file
/// is written. Prints one line per file written.
void run_pproc(const PprocOptions& options);

/// Registers the `pproc` subcommand on the program's app.
void add_pproc_command(CLI::App& app);

}  // namespace scope_profiler::cli
