#pragma once
// Statistics of a region and the writers that present them. Writers sit behind one small
// interface, so the HDF5 and JSON writers of later issues plug in beside the text summary.

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "scope_profiler/region.hpp"

namespace scope_profiler::detail {

/// A region's device statistics and its device intervals timed on the host (no GPU), flushed
/// ones included, from one snapshot; resolves nothing (core/device.cpp).
struct DeviceSummary {
    Stats stats;
    std::uint64_t fallback = 0;
};
DeviceSummary device_summary(const Region& region);

/// What the end-of-run writers need to know of one region.
struct RegionSummary {
    std::string name;
    std::uint64_t calls = 0;
    bool timed = true;  // false: the session counted calls only
    Stats host;
    std::uint64_t device_calls = 0;
    Stats device;                      // resolved device intervals
    std::uint64_t device_fallback = 0;  // of those, timed on the host (no GPU)
};

RegionSummary summarize(const Region& region, bool timed);

class Writer {
public:
    virtual ~Writer() = default;
    virtual void write(std::span<const RegionSummary> regions) = 0;
};

/// The Python scope-profiler's summary block per region, in seconds.
class TextSummaryWriter final : public Writer {
public:
    explicit TextSummaryWriter(std::ostream& out) : out_(out) {}
    void write(std::span<const RegionSummary> regions) override;

private:
    std::ostream& out_;
};

/// Seconds as Python's repr() prints a float: shortest round trip, "0.0", "3.8e-06".
std::string format_seconds(double seconds);

}  // namespace scope_profiler::detail
