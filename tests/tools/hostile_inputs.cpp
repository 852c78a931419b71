// Writes the hostile inputs of issue 15 for measuring `scope-profiler` by hand (wall time and
// peak memory; the numbers go into commit messages, never into a test, which must not time
// anything):
//
//   scope_profiler_hostile_inputs chain K OUT.h5    one thread, K calls each strictly inside the
//                                                   one before (a call chain K deep)
//   scope_profiler_hostile_inputs regions N OUT.h5  N regions of one call each, on one thread
//   scope_profiler_hostile_inputs lanes N OUT.h5    N threads of one call each
//
// Built with the tools' tests (SCOPE_PROFILER_TESTS=ON), not run by ctest.

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "h5_writer.hpp"

namespace h5 = scope_profiler::detail::h5;

namespace {

using Ranks = std::vector<std::pair<int, std::vector<h5::RegionColumns>>>;

h5::RegionColumns region(std::string name) {
    h5::RegionColumns r;
    r.name = std::move(name);
    return r;
}

void add(h5::RegionColumns& r, std::int64_t start, std::int64_t end, std::int32_t thread) {
    r.start_times.push_back(start);
    r.end_times.push_back(end);
    r.thread_ids.push_back(thread);
}

/// Three regions taking turns down the chain, so that the call paths are not one region repeated.
Ranks chain(std::int64_t k) {
    std::vector<h5::RegionColumns> regions = {region("solve"), region("step"), region("kernel")};
    for (std::int64_t d = 0; d < k; ++d) add(regions[static_cast<std::size_t>(d % 3)], d, 4 * k - d, 0);
    return {{0, std::move(regions)}};
}

Ranks many_regions(std::int64_t n) {
    std::vector<h5::RegionColumns> regions;
    for (std::int64_t i = 0; i < n; ++i) {
        regions.push_back(region("region_" + std::to_string(i)));
        add(regions.back(), 10 * i, 10 * i + 5 + i % 4, 0);
    }
    return {{0, std::move(regions)}};
}

Ranks many_lanes(std::int64_t n) {
    std::vector<h5::RegionColumns> regions = {region("work")};
    for (std::int64_t t = 0; t < n; ++t) add(regions[0], 10 * t, 10 * t + 1000, static_cast<std::int32_t>(t));
    return {{0, std::move(regions)}};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: " << argv[0] << " chain|regions|lanes COUNT OUT.h5\n";
        return 2;
    }
    const std::string kind = argv[1];
    const std::int64_t n = std::strtoll(argv[2], nullptr, 10);
    if (n <= 0 || (kind != "chain" && kind != "regions" && kind != "lanes")) {
        std::cerr << "usage: " << argv[0] << " chain|regions|lanes COUNT OUT.h5\n";
        return 2;
    }
    h5::Metadata metadata;
    metadata.text = {{"hostname", "hostile"}};
    metadata.numbers = {{"mpi_size", 1}};
    const Ranks ranks = kind == "chain" ? chain(n) : kind == "regions" ? many_regions(n) : many_lanes(n);
    h5::write_merged(argv[3], metadata, ranks);
    return 0;
}
