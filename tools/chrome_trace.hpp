#pragma once
// `scope-profiler export --chrome-trace`: the Chrome trace event format (JSON object form) that
// the Perfetto UI and chrome://tracing open. One process per rank ("rank N"), one track per
// thread ("thread T", tid T) and per GPU stream ("stream S", tids above every thread id), one
// complete ("X") event per interval; ts and dur in microseconds from the file's earliest
// interval, with ns precision. The file's metadata goes to the top-level "otherData".
// Streamed: memory does not grow with the number of intervals.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "filters.hpp"
#include "profile_file.hpp"

namespace scope_profiler::cli {

/// The options of `export`, as the command line gives them.
struct ExportOptions {
    std::string file;
    std::string chrome_trace;  ///< output path
    std::vector<std::string> include, exclude;
    std::string ranks;
};

/// `text` as a JSON string literal, quotes included; bytes that are not valid UTF-8 become U+FFFD.
std::string json_string(std::string_view text);

/// Writes the trace of the chosen regions and ranks.
void write_chrome_trace(std::ostream& out, const ProfileFile& file, const RegionFilter& regions,
                        const RankSet& ranks);

/// The whole command: the trace written atomically to options.chrome_trace.
void run_export(const ExportOptions& options);

}  // namespace scope_profiler::cli
