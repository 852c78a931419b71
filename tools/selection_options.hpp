#pragma once
// --include, --exclude and --ranks: the options every subcommand that reads regions takes
// (docs/cli.md, "Options every subcommand takes"), registered the same way on each.

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace scope_profiler::cli {

inline void add_selection(CLI::App& command, std::vector<std::string>& include, std::vector<std::string>& exclude,
                          std::string& ranks) {
    command.add_option("--include", include, "Only regions whose name matches this regex (RE2 syntax; repeatable)")
        ->allow_extra_args(false)
        ->type_name("REGEX");
    command.add_option("--exclude", exclude, "Leave out regions whose name matches this regex (repeatable)")
        ->allow_extra_args(false)
        ->type_name("REGEX");
    command.add_option("--ranks", ranks, "Only these ranks, e.g. 0-3,5")->type_name("LIST");
}

}  // namespace scope_profiler::cli
