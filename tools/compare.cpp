#include "compare.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <tuple>

#include "duration_sum.hpp"
#include "filters.hpp"
#include "output_file.hpp"
#include "profile_file.hpp"
#include "selection_options.hpp"

namespace scope_profiler::cli {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::uint64_t kSlice = std::uint64_t{1} << 20;  // intervals read at a time

/// A region's durations on one side: host or device, by name.
using Key = std::pair<bool, std::string>;  // (device, name): host regions sort first
using Durations = std::map<Key, std::vector<std::int64_t>>;

/// Every duration of the chosen regions and ranks of the side's files, pooled per region.
Durations read_side(const std::vector<std::string>& files, const RegionFilter& filter, const RankSet& ranks) {
    Durations durations;
    for (const std::string& path : files) {
        const ProfileFile file(path);
        require_chosen_ranks(file, ranks);
        for (const RankInfo& rank : file.ranks()) {
            if (!ranks.contains(rank.rank)) continue;
            for (const RegionInfo& region : rank.regions) {
                if (!filter.matches(region.name)) continue;
                // Host and device columns alike: read in slices, end - start appended.
                const auto append = [&](bool device, std::uint64_t count, const auto& read) {
                    if (count == 0) return;
                    auto& out = durations[{device, region.name}];
                    for (std::uint64_t first = 0; first < count; first += kSlice) {
                        const auto c = read(first);
                        for (std::size_t i = 0; i < c.start_times.size(); ++i)
                            out.push_back(c.end_times[i] - c.start_times[i]);
                    }
                };
                append(false, region.host_count, [&](std::uint64_t first) { return file.read_host(region, first, kSlice); });
                append(true, region.device_count,
                       [&](std::uint64_t first) { return file.read_device(region, first, kSlice); });
            }
        }
    }
    return durations;
}

SideNumbers numbers_of(const Sample& sample) {
    SideNumbers numbers;
    numbers.calls = sample.sorted.size();
    numbers.runs = sample.runs;
    for (const Metric m : {Metric::mean, Metric::p50, Metric::p95, Metric::total})
        numbers.value[static_cast<std::size_t>(m)] = metric_of(sample, m);
    return numbers;
}

/// A sum that overflows 64 bits cannot come from a real file (duration_sum.hpp).
void check_total(const std::vector<std::int64_t>& durations, const std::vector<std::string>& files) {
    try {
        std::int64_t total = 0;
        for (const std::int64_t d : durations) total = add_ns(total, d);
    } catch (const SumOverflow& e) {
        const std::string which = files.size() == 1 ? files.front() : "one of " + std::to_string(files.size()) + " files";
        throw InputError(which + ": " + e.what());
    }
}

/// The verdict on a region both sides called often enough.
void judge(RegionComparison& r, const Sample& base, const Sample& next, const CompareOptions& options) {
    Random random(region_seed(options.seed, r.name, r.device));
    r.interval = bootstrap_ratio(base, next, options.metric, options.confidence, options.resamples, random);
    if (base.sorted.size() >= kMinCallsForUTest && next.sorted.size() >= kMinCallsForUTest)
        r.u_test = mann_whitney(base.sorted, next.sorted);
    // The interval must leave 1 out. For the mean and the median, the U test must agree too (a
    // shift of the whole distribution); p95 and the total are judged by their interval alone.
    const double alpha = 1 - options.confidence;
    const bool location = options.metric == Metric::mean || options.metric == Metric::p50;
    const bool u_slower = !location || !r.u_test || (r.u_test->p < alpha && r.u_test->z > 0);
    const bool u_faster = !location || !r.u_test || (r.u_test->p < alpha && r.u_test->z < 0);
    const double threshold = options.threshold_percent / 100;
    if (r.interval.low > 1 && u_slower)
        r.verdict = r.ratio - 1 > threshold ? Verdict::regression : Verdict::slower;
    else if (r.interval.high < 1 && u_faster)
        r.verdict = 1 - r.ratio > threshold ? Verdict::improvement : Verdict::faster;
    else
        r.verdict = Verdict::unchanged;
}

void check_options(const CompareOptions& o) {
    if (o.base.empty() || o.next.empty())
        throw InputError("compare needs files on both sides: BASE NEW, or --base FILE... --new FILE...");
    if (!(o.threshold_percent >= 0) || !std::isfinite(o.threshold_percent))
        throw InputError("--threshold must be a percentage of 0 or more (got " + std::to_string(o.threshold_percent) + ")");
    if (!(o.confidence >= 0.5 && o.confidence <= 0.9999))
        throw InputError("--confidence must lie between 0.5 and 0.9999 (got " + std::to_string(o.confidence) + ")");
    if (o.resamples < 100 || o.resamples > 1'000'000)
        throw InputError("--resamples must lie between 100 and 1000000 (got " + std::to_string(o.resamples) + ")");
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
    switch (verdict) {
        case Verdict::regression: return "regression";
        case Verdict::improvement: return "improvement";
        case Verdict::slower: return "slower";
        case Verdict::faster: return "faster";
        case Verdict::unchanged: return "unchanged";
        case Verdict::too_few_calls: return "too few calls";
        case Verdict::only_base: return "only in base";
        case Verdict::only_new: return "only in new";
    }
    return "?";
}

std::size_t Comparison::count(Verdict verdict) const {
    return static_cast<std::size_t>(
        std::count_if(regions.begin(), regions.end(), [&](const RegionComparison& r) { return r.verdict == verdict; }));
}

std::uint64_t region_seed(std::uint64_t seed, const std::string& name, bool device) {
    // FNV-1a of the name and kind, then SplitMix64's finalizer over it and the seed.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
    h = (h ^ (device ? 0x64u : 0x68u)) * 0x100000001b3ULL;
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (h | 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

Comparison compare(const CompareOptions& options) {
    check_options(options);
    const RegionFilter filter(options.include, options.exclude);
    const RankSet ranks(options.ranks);
    Durations base = read_side(options.base, filter, ranks);
    Durations next = read_side(options.next, filter, ranks);

    Comparison comparison;
    comparison.options = options;
    std::map<Key, int> keys;
    for (const auto& [key, d] : base) keys[key] |= 1;
    for (const auto& [key, d] : next) keys[key] |= 2;
    for (const auto& [key, sides] : keys) {
        RegionComparison r;
        r.device = key.first;
        r.name = key.second;
        r.change.fill(kNaN);
        r.ratio = kNaN;
        r.interval = {kNaN, kNaN};
        Sample b, n;
        if (sides & 1) {
            check_total(base[key], options.base);
            b = make_sample(std::move(base[key]), static_cast<double>(options.base.size()));
            r.base = numbers_of(b);
        }
        if (sides & 2) {
            check_total(next[key], options.next);
            n = make_sample(std::move(next[key]), static_cast<double>(options.next.size()));
            r.next = numbers_of(n);
        }
        if (!r.base) {
            r.verdict = Verdict::only_new;
        } else if (!r.next) {
            r.verdict = Verdict::only_base;
        } else {
            for (std::size_t m = 0; m < r.change.size(); ++m) {
                if (r.base->value[m] > 0) r.change[m] = r.next->value[m] / r.base->value[m] - 1;
            }
            const std::size_t chosen = static_cast<std::size_t>(options.metric);
            if (r.base->value[chosen] > 0) r.ratio = r.next->value[chosen] / r.base->value[chosen];
            if (b.sorted.size() < kMinCallsPerSide || n.sorted.size() < kMinCallsPerSide)
                r.verdict = Verdict::too_few_calls;
            else
                judge(r, b, n, options);
        }
        comparison.regions.push_back(std::move(r));
    }
    return comparison;
}

int run_compare(const CompareOptions& options) {
    std::vector<std::string> inputs = options.base;
    inputs.insert(inputs.end(), options.next.begin(), options.next.end());
    protect_inputs(inputs);
    check_options(options);
    // Outputs are created before the work: an unwritable path fails at once.
    std::unique_ptr<OutputFile> json, chart;
    if (!options.json_path.empty()) json = std::make_unique<OutputFile>(options.json_path);
    if (!options.chart_path.empty()) chart = std::make_unique<OutputFile>(options.chart_path);

    const Comparison comparison = compare(options);
    print_comparison(std::cout, comparison);
    std::cout.flush();
    if (json) write_comparison_json(json->stream(), comparison);
    if (chart) chart->stream() << comparison_chart(comparison);
    std::vector<OutputFile*> outputs;
    for (OutputFile* file : {json.get(), chart.get()}) {
        if (file != nullptr) outputs.push_back(file);
    }
    commit_all(outputs);
    return options.fail_on_regression && comparison.count(Verdict::regression) > 0 ? 1 : 0;
}

void add_compare_command(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<CompareOptions>();
    auto files = std::make_shared<std::vector<std::string>>();
    CLI::App* command = app.add_subcommand(
        "compare", "Compare two runs (or two sets of runs) region by region: changes, bootstrap intervals, "
                   "Mann-Whitney U tests and verdicts; --fail-on-regression for CI");
    command->add_option("files", *files, "BASE.h5 NEW.h5")->type_name("FILE.h5");
    command->add_option("--base", options->base, "The base side's files (repeated runs are pooled)")
        ->type_name("FILE.h5");
    command->add_option("--new", options->next, "The new side's files")->type_name("FILE.h5");
    add_selection(*command, options->include, options->exclude, options->ranks);
    auto metric = std::make_shared<std::string>("p50");
    command->add_option("--metric", *metric, "What is judged: mean, p50 (default), p95 or total (per run)")
        ->check(CLI::IsMember({"mean", "p50", "p95", "total"}))
        ->type_name("METRIC");
    command->add_option("--threshold", options->threshold_percent,
                        "A significant change larger than this many percent is a regression (default 5)")
        ->type_name("PCT");
    command->add_flag("--fail-on-regression", options->fail_on_regression, "Exit with 1 when a region regressed");
    command->add_option("--confidence", options->confidence, "Of the bootstrap intervals and the U test (default 0.95)");
    command->add_option("--resamples", options->resamples, "Bootstrap resamples per region (default 2000)");
    command->add_option("--seed", options->seed, "Of the bootstrap (default 1; printed)");
    command->add_option("--json", options->json_path, "Write every number as JSON")->type_name("PATH");
    command->add_option("--chart", options->chart_path, "Write the changes and their intervals as SVG")
        ->type_name("PATH");
    command->callback([options, files, metric, &exit_code] {
        for (const Metric m : {Metric::mean, Metric::p50, Metric::p95, Metric::total}) {
            if (metric_name(m) == *metric) options->metric = m;
        }
        const bool named_sides = !options->base.empty() || !options->next.empty();
        if (named_sides && !files->empty())
            throw InputError("compare takes BASE NEW, or --base FILE... --new FILE..., not both");
        if (!named_sides) {
            if (files->size() != 2)
                throw InputError("compare takes two files, BASE NEW (or --base FILE... --new FILE...), not " +
                                 std::to_string(files->size()));
            options->base = {(*files)[0]};
            options->next = {(*files)[1]};
        }
        exit_code = run_compare(*options);
    });
}

}  // namespace scope_profiler::cli
