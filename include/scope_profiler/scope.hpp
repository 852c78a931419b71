#pragma once
/// @file scope.hpp
/// @brief scope_profiler::RegionScope, the RAII scope that times one call of a region.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scope_profiler/detail/runtime.hpp"
#include "scope_profiler/region.hpp"

namespace scope_profiler {

/**
 * @brief Times one call of a region: entry at construction, exit at destruction.
 *
 * The exit runs on every path out of the scope, exceptions included. A scope lives on the
 * stack of the thread that opened it: it cannot be copied, moved or allocated with `new`.
 * With `use_nvtx` it also pushes an NVTX range (category "host") in the domain
 * "scope_profiler", outside the timed interval.
 * With profiling off it stores nothing and costs a load and a branch; with
 * `SCOPE_PROFILER_DISABLE` defined it is inert and costs nothing.
 * \code
 * sp::Region& solver = sp::ProfileManager::region("solver");  // look the name up once
 * for (int i = 0; i < n; ++i) {
 *     sp::RegionScope scope(solver);                        // then each call is two clock reads
 *     solve(i);
 * }
 * \endcode
 */
class [[nodiscard]] RegionScope {
public:
    /// @brief Opens a call of `region` (or nothing, when profiling is off).
    explicit RegionScope(Region& region) noexcept : RegionScope(&region) {}

    /// @brief As above; a null `region` makes an inert scope.
    explicit RegionScope(Region* region) noexcept
        : region_(region), state_(region != nullptr ? detail::scope_state() : 0) {
        if (mode() != detail::Mode::off) open();
    }

    /**
     * @brief The scope of a macro call site (SCOPE_PROFILE_REGION): the region is looked up on the
     * first pass that records and cached in `site`; with profiling off nothing is looked up.
     * @throws std::invalid_argument when `name` is empty.
     */
    RegionScope(detail::CallSite& site, std::string_view name)
        : region_(nullptr), state_(detail::scope_state()) {
        if (mode() == detail::Mode::off) {
            if (name.empty()) detail::throw_empty_name();
            return;
        }
        region_ = site.region.load(std::memory_order_acquire);
        if SCOPE_PROFILER_UNLIKELY(region_ == nullptr) region_ = detail::resolve_site(site, name);
        open();
    }

    /// @brief Closes the call: records its interval (or its count) on this thread's buffer.
    ~RegionScope() {
        const detail::Mode m = mode();
        if (m == detail::Mode::time) {
            const std::int64_t end = detail::host_now(state_);
            if (detail::nvtx_of(state_)) detail::nvtx_pop();
            detail::pop_open();
            detail::record_time(*region_, start_, end, state_);
        } else if (m == detail::Mode::count) {
            if (detail::nvtx_of(state_)) detail::nvtx_pop();
            detail::pop_open();
            detail::record_count(*region_, state_);
        }
    }

    RegionScope(const RegionScope&) = delete;
    RegionScope(RegionScope&&) = delete;
    RegionScope& operator=(const RegionScope&) = delete;
    RegionScope& operator=(RegionScope&&) = delete;
    static void* operator new(std::size_t) = delete;
    static void* operator new[](std::size_t) = delete;

    /// @brief The region this scope times (nullptr for an inert scope).
    Region* region() const noexcept { return region_; }

private:
    detail::Mode mode() const noexcept { return detail::mode_of(state_); }

    void open() noexcept {
        detail::push_open(region_);
        if (detail::nvtx_of(state_)) detail::nvtx_push(*region_, detail::NvtxCategory::host);
        if (mode() == detail::Mode::time) start_ = detail::host_now(state_);
    }

    Region* region_;
    std::int64_t start_ = 0;
    std::uint32_t state_;  // the session this call started in (see detail::SessionWord)
};

}  // namespace scope_profiler
