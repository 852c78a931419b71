// `scope-profiler report` in memory that does not grow with regions x regions or threads x
// regions. This executable replaces the global operator new to count the heap bytes live, a
// number that does not depend on the machine's speed or load (the project has no timed tests):
//
// - --json writes the document as it goes. Held whole, the statistics of every region were one
//   ordered_json object, about 10 KB a region, and each insertion into it searched every
//   member before it: quadratic (100,000 regions took 139 s instead of 39 s).
// - The nesting of a rank's threads used a builder per thread, with arrays of every region:
//   threads x regions of memory and time (100,000 threads of as many regions: 160 GB).

#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "report.hpp"
#include "tools_test_support.hpp"

namespace {

std::atomic<std::size_t> g_live{0};
std::atomic<std::size_t> g_peak{0};

void* counted_alloc(std::size_t size) {
    void* p = std::malloc(size == 0 ? 1 : size);
    if (p == nullptr) throw std::bad_alloc();
    const std::size_t live = g_live += malloc_usable_size(p);
    std::size_t peak = g_peak.load();
    while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
    }
    return p;
}

void counted_free(void* p) noexcept {
    if (p == nullptr) return;
    g_live -= malloc_usable_size(p);
    std::free(p);
}

/// The most heap bytes live at once while fn runs, above those live when it starts.
template <typename Fn>
std::size_t peak_heap_of(Fn&& fn) {
    const std::size_t before = g_live.load();
    g_peak = before;
    fn();
    return g_peak.load() - before;
}

/// An ostream that counts what it is given and keeps nothing of it but the last byte.
class CountingBuf : public std::streambuf {
public:
    std::size_t bytes = 0;
    char last = 0;

protected:
    int_type overflow(int_type c) override {
        if (c != traits_type::eof()) ++bytes, last = static_cast<char>(c);
        return traits_type::not_eof(c);
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        if (n > 0) bytes += static_cast<std::size_t>(n), last = s[n - 1];
        return n;
    }
};

}  // namespace

void* operator new(std::size_t size) { return counted_alloc(size); }
void* operator new[](std::size_t size) { return counted_alloc(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(size);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }

namespace {

namespace cli = scope_profiler::cli;

cli::RegionReport region(const std::string& name, std::uint64_t calls) {
    cli::RegionReport r;
    r.name = name;
    r.host.count = calls;
    r.host.total = static_cast<std::int64_t>(calls) * 100;
    r.host.min = r.host.max = r.host.first = r.host.last = 100;
    r.host.mean = r.host.p50 = r.host.p95 = r.host.p99 = 100;
    r.inclusive_ns = r.self_ns = r.host.total;
    return r;
}

TEST(ReportMemory, JsonOfManyRegionsIsWrittenWithoutHoldingTheDocument) {
    // 10,000 regions on two ranks: held whole, the document takes about 300 MB; written region
    // by region, the largest thing held is an index of the regions' names.
    constexpr int kRegions = 10000;
    std::vector<cli::FileReport> files(1);
    cli::FileReport& file = files[0];
    file.path = file.label = "many.h5";
    file.num_ranks = 2;
    file.metadata = {{"hostname", "h"}, {"mpi_size", "2", true}};
    file.ranks.resize(2);
    for (int r = 0; r < 2; ++r) file.ranks[r].rank = r;
    for (int i = 0; i < kRegions; ++i) {
        const std::string name = "region_" + std::to_string(i);
        file.regions.push_back(region(name, 2));
        for (auto& rank : file.ranks) rank.regions.push_back(region(name, 1));
    }
    cli::ReportOptions options;
    CountingBuf sink;
    std::ostream out(&sink);
    const std::size_t peak = peak_heap_of([&] { cli::write_json(out, files, options); });
    RecordProperty("peak_heap_bytes", std::to_string(peak));
    EXPECT_LT(peak, std::size_t{8} << 20) << "write_json held " << peak << " bytes at once";
    EXPECT_GT(sink.bytes, std::size_t{kRegions} * 3 * 1000);  // every region, on each rank too
    EXPECT_EQ(sink.last, '\n');
}

class ReportMemoryFile : public tools_test::ScratchDir {};

TEST_F(ReportMemoryFile, ManyThreadsOfManyRegionsNestWithoutAnArrayOfRegionsPerThread) {
    // 2,000 threads, each with one call of a region of its own: a builder per thread held
    // 2,000 x 2,000 x 20 bytes (80 MB); one per worker holds a few of those arrays.
    constexpr int kThreads = 2000;
    std::vector<tools_test::h5::RegionColumns> regions;
    for (int t = 0; t < kThreads; ++t) {
        regions.push_back(tools_test::host_region("r" + std::to_string(t), {10 * t}, {10 * t + 5}, t));
    }
    tools_test::write_ours(file("threads.h5"), {{0, regions}});
    const cli::ProfileFile profile(file("threads.h5"));
    const cli::RegionFilter filter;
    const cli::RankSet ranks;
    cli::FileReport report;
    const std::size_t peak = peak_heap_of([&] { report = cli::build_report(profile, filter, ranks); });
    RecordProperty("peak_heap_bytes", std::to_string(peak));
    EXPECT_LT(peak, std::size_t{8} << 20) << "build_report held " << peak << " bytes at once";
    ASSERT_EQ(report.regions.size(), static_cast<std::size_t>(kThreads));
    for (const auto& r : report.regions) EXPECT_EQ(r.self_ns, 5);
}

}  // namespace
