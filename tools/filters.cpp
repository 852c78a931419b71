#include "filters.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>

#include "profile_file.hpp"

namespace scope_profiler::cli {

namespace {

std::vector<std::shared_ptr<const re2::RE2>> compile(const std::vector<std::string>& patterns,
                                                     const char* option) {
    std::vector<std::shared_ptr<const re2::RE2>> compiled;
    compiled.reserve(patterns.size());
    re2::RE2::Options options;
    options.set_log_errors(false);  // the error goes into the one-line message instead
    for (const auto& pattern : patterns) {
        auto re = std::make_shared<const re2::RE2>(pattern, options);
        if (!re->ok())
            throw InputError(std::string(option) + ": '" + pattern +
                             "' is not a valid regular expression (" + re->error() + ")");
        compiled.push_back(std::move(re));
    }
    return compiled;
}

bool any_match(const std::vector<std::shared_ptr<const re2::RE2>>& patterns,
               std::string_view name) {
    return std::any_of(patterns.begin(), patterns.end(), [name](const auto& pattern) {
        return re2::RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), *pattern);
    });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

int parse_rank(std::string_view text, std::string_view part) {
    text = trim(text);
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value < 0) {
        throw InputError("--ranks: '" + std::string(part) +
                         "' is not a rank or a range of ranks such as 0-3");
    }
    return value;
}

}  // namespace

RegionFilter::RegionFilter(const std::vector<std::string>& include,
                           const std::vector<std::string>& exclude)
    : include_text_(include),
      exclude_text_(exclude),
      include_(compile(include, "--include")),
      exclude_(compile(exclude, "--exclude")) {}

bool RegionFilter::matches(std::string_view name) const {
    if (!include_.empty() && !any_match(include_, name)) return false;
    return !any_match(exclude_, name);
}

RankSet::RankSet(std::string_view text) {
    if (trim(text).empty()) return;
    all_ = false;
    constexpr int kMaxRanks = 1 << 24;  // a typo such as 0-99999999 must not allocate gigabytes
    while (true) {
        const auto comma = text.find(',');
        const std::string_view part = text.substr(0, comma);
        const auto dash = part.find('-', trim(part).empty() ? 0 : part.find_first_not_of(" \t") + 1);
        const int first = parse_rank(part.substr(0, dash), part);
        const int last = dash == std::string_view::npos ? first : parse_rank(part.substr(dash + 1), part);
        if (last < first || last - first >= kMaxRanks) {
            throw InputError("--ranks: '" + std::string(trim(part)) + "' is not an ascending range");
        }
        for (int rank = first; rank <= last; ++rank) ranks_.push_back(rank);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    std::sort(ranks_.begin(), ranks_.end());
    ranks_.erase(std::unique(ranks_.begin(), ranks_.end()), ranks_.end());
}

bool RankSet::contains(int rank) const noexcept {
    return all_ || std::binary_search(ranks_.begin(), ranks_.end(), rank);
}

void require_chosen_ranks(const ProfileFile& file, const RankSet& ranks) {
    const auto& held = file.ranks();
    if (ranks.all() || std::any_of(held.begin(), held.end(), [&](const RankInfo& r) { return ranks.contains(r.rank); })) {
        return;
    }
    std::string present;
    for (const RankInfo& r : held) present += (present.empty() ? "" : ", ") + std::to_string(r.rank);
    throw InputError(file.path() + ": none of the ranks chosen by --ranks is in the file (it holds " +
                     (present.empty() ? std::string("no rank") : "ranks " + present) + ")");
}

}  // namespace scope_profiler::cli
