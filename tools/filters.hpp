#pragma once
// What a command looks at: regions chosen by --include / --exclude regular expressions and ranks
// chosen by --ranks "0-3,5". Shared by report, export and pproc.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace scope_profiler::cli {

/// Regions chosen by name. A name is kept when it matches one of the include patterns (or there
/// are none) and none of the exclude patterns. A pattern matches anywhere in the name (RE2's
/// syntax, close to Perl's and ECMAScript's without backreferences or lookaround; a name is UTF-8
/// text): anchor it with ^ and $ to match the whole name. Matching takes time linear in the
/// name and no recursion, so no name is too long.
class RegionFilter {
public:
    RegionFilter() = default;
    /// Compiles the patterns; a pattern that does not compile throws InputError naming it and
    /// the option (`--include` or `--exclude`).
    RegionFilter(const std::vector<std::string>& include, const std::vector<std::string>& exclude);

    [[nodiscard]] bool matches(std::string_view name) const;
    [[nodiscard]] const std::vector<std::string>& include_patterns() const noexcept { return include_text_; }
    [[nodiscard]] const std::vector<std::string>& exclude_patterns() const noexcept { return exclude_text_; }

private:
    std::vector<std::string> include_text_, exclude_text_;
    std::vector<std::shared_ptr<const re2::RE2>> include_, exclude_;
};

/// Ranks chosen by a list such as "0-3,5" (ranges inclusive, blanks allowed around the parts).
/// Empty text chooses every rank.
class RankSet {
public:
    RankSet() = default;
    /// Parses the list; malformed text throws InputError naming the offending part.
    explicit RankSet(std::string_view text);

    [[nodiscard]] bool contains(int rank) const noexcept;
    /// True when no list was given: every rank is chosen.
    [[nodiscard]] bool all() const noexcept { return all_; }
    /// The chosen ranks, sorted and distinct (empty when all()).
    [[nodiscard]] const std::vector<int>& ranks() const noexcept { return ranks_; }

private:
    bool all_ = true;
    std::vector<int> ranks_;
};

class ProfileFile;

/// Throws InputError naming the file and the ranks it holds when `ranks` chose ranks and the
/// file holds none of them.
void require_chosen_ranks(const ProfileFile& file, const RankSet& ranks);

}  // namespace scope_profiler::cli
