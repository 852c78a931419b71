// The scope-profiler command-line program: subcommands report, export, pproc and compare
// (docs/cli.md). Exit status: 0 on success, 2 for bad input or a bad command line (one line on
// stderr naming the problem), 1 for anything else (out of memory, an internal error) and for
// compare --fail-on-regression when a region regressed.

#include <CLI/CLI.hpp>
#include <cstdio>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include "chrome_trace.hpp"
#include "compare.hpp"
#include "pproc.hpp"
#include "report.hpp"
#include "selection_options.hpp"
#include "supervisor.hpp"
#include "scope_profiler/version.hpp"

namespace cli = scope_profiler::cli;

namespace {

/// One line: CLI11's messages can span lines.
std::string one_line(std::string text) {
    for (char& c : text) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
}

int fail(const std::string& message, int code) {
    std::cerr << "scope-profiler: " << one_line(message) << std::endl;
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    // A crash or an endless loop of libhdf5 on a damaged file ends a child process, not this one
    // (supervisor.hpp): the program then exits with 2 and one line naming the file.
    if (const int code = cli::supervise(); code >= 0) return code;
#if defined(__GLIBC__)
    // Files are read in slices of megabytes, allocated and freed over and over: keep them on the
    // heap and the freed memory in the process, so each slice does not fault in fresh pages.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
    CLI::App app{"Reports, timelines and charts from scope-profiler's HDF5 files (ours or the Python library's).",
                 "scope-profiler"};
    app.set_version_flag("--version", std::string(scope_profiler::version_string));
    app.require_subcommand(1);
    app.fallthrough(false);

    cli::ReportOptions report;
    CLI::App* report_command = app.add_subcommand(
        "report", "Per-region statistics of host and device intervals: calls, total, mean, min, max, std, "
                  "p50, p95, p99, inclusive and self time");
    report_command->add_option("files", report.files, "Profiling files (HDF5)")->required()->type_name("FILE.h5");
    cli::add_selection(*report_command, report.include, report.exclude, report.ranks);
    report_command->add_option("--sort", report.sort, "Sort by this column (name, calls, total, mean, min, max, "
                                                      "std, p50, p95, p99, inclusive, self, device_total, ...)")
        ->capture_default_str()
        ->type_name("COLUMN");
    report_command->add_flag("--per-rank", report.per_rank, "Also print one table per rank");
    report_command->add_option("--json", report.json_path, "Write the statistics as JSON (region_statistics.json)")
        ->type_name("PATH");
    report_command->add_option("--csv", report.csv_path, "Write the statistics as CSV")->type_name("PATH");
    report_command->callback([&report] { cli::run_report(report); });

    cli::ExportOptions export_options;
    CLI::App* export_command =
        app.add_subcommand("export", "Write the intervals for other tools: Chrome trace JSON (Perfetto UI)");
    export_command->add_option("file", export_options.file, "Profiling file (HDF5)")->required()->type_name("FILE.h5");
    export_command->add_option("--chrome-trace", export_options.chrome_trace,
                               "Write Chrome trace event JSON (Perfetto UI, chrome://tracing) to this path")
        ->required()
        ->type_name("PATH");
    cli::add_selection(*export_command, export_options.include, export_options.exclude, export_options.ranks);
    export_command->callback([&export_options] { cli::run_export(export_options); });

    cli::add_pproc_command(app);
    int compare_exit = 0;  // 1: compare --fail-on-regression found a regression
    cli::add_compare_command(app, compare_exit);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        return fail(std::string(e.what()) + " (see scope-profiler --help)", 2);
    } catch (const cli::InputError& e) {
        return fail(e.what(), 2);
    } catch (const std::bad_alloc&) {
        return fail("out of memory", 1);
    } catch (const std::exception& e) {
        return fail(e.what(), 1);
    }
    return compare_exit;
}
