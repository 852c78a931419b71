#pragma once
/// @file profile_manager.hpp
/// @brief scope_profiler::ProfileManager, the process-wide entry point, and the decorator type.

#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "scope_profiler/config.hpp"
#include "scope_profiler/device_scope.hpp"
#include "scope_profiler/region.hpp"
#include "scope_profiler/scope.hpp"

namespace scope_profiler {

/// @brief Regions in first-use order: the name (owned by the region) and the region.
using RegionList = std::vector<std::pair<std::string_view, const Region*>>;

/**
 * @brief A callable that runs another inside a region: what ProfileManager::profile() returns.
 *
 * The region is looked up once, when the wrapper is made; each call then costs what a
 * RegionScope costs. Copying the wrapper copies the callable and shares the region.
 */
template <class F>
class Profiled {
public:
    Profiled(Region& region, F f) : region_(&region), f_(std::move(f)) {}

    /// @brief Calls the wrapped callable with `args` inside one call of the region.
    template <class... Args>
    decltype(auto) operator()(Args&&... args) {
        RegionScope scope(*region_);
        return std::invoke(f_, std::forward<Args>(args)...);
    }
    /// @copydoc operator()
    template <class... Args>
    decltype(auto) operator()(Args&&... args) const {
        RegionScope scope(*region_);
        return std::invoke(f_, std::forward<Args>(args)...);
    }

    /// @brief The region every call is timed under.
    Region& region() const noexcept { return *region_; }

private:
    Region* region_;
    F f_;
};

namespace detail {
/// The region named `name` when profiling is on (created and listed on first use), nullptr when
/// it is off. Throws std::invalid_argument for an empty name, whatever the mode.
Region* region_for_scope(std::string_view name);
}  // namespace detail

/**
 * @brief The process-wide profiler: configuration, the registry of regions, and finalize().
 *
 * All members are static and thread-safe. A typical program:
 * \code
 * namespace sp = scope_profiler;
 * int main() {
 *     sp::ProfileManager::setup();
 *     auto timed_solve = sp::ProfileManager::profile("solver", solve);  // the decorator
 *     {
 *         auto r = sp::ProfileManager::profile_region("assemble");        // an RAII scope
 *         assemble();
 *     }
 *     timed_solve(A, b);
 *     sp::ProfileManager::finalize();                                     // prints the summary
 * }
 * \endcode
 */
class ProfileManager {
public:
    ProfileManager() = delete;

    /**
     * @brief Starts a new session with `config`: clears every region's data and the region list.
     *
     * Handles, wrappers and cached call sites made before keep working and feed the new session.
     * Call it while no other thread is inside a region. Until the first setup() every region is
     * a no-op. With `config.finalize_on_signal` it installs handlers for SIGTERM, SIGINT and
     * SIGHUP that finish the file before the signal takes its usual course (the program's own
     * handler, installed before setup(), runs after); finalize() puts the previous ones back.
     * @throws std::invalid_argument when `config` is unusable (see Config::validate()).
     */
    static void setup(const Config& config = {});

    /// @brief The configuration of the current session (the defaults before setup()).
    static Config get_config();

    /// @brief Whether setup() was called and finalize() was not called since.
    static bool is_active() noexcept;

    /**
     * @brief The region named `name`, created on first use: a handle to keep and reuse.
     *
     * Looking a name up costs a hash; keeping the returned reference makes each call cost only
     * the two clock reads. The reference stays valid for the life of the process.
     * @param name any non-empty string of bytes ('/' and non-ASCII included).
     * @throws std::invalid_argument when `name` is empty.
     */
    static Region& region(std::string_view name);

    /**
     * @brief An RAII scope that times one call of the region `name` until it goes out of scope.
     * \code
     * {
     *     auto r = sp::ProfileManager::profile_region("rhs_evaluation");
     *     rhs = compute_rhs(state);
     * }
     * \endcode
     * @throws std::invalid_argument when `name` is empty.
     */
    [[nodiscard]] static RegionScope profile_region(std::string_view name) {
        if (detail::current_mode() == detail::Mode::off && !name.empty()) {
            return RegionScope(nullptr);  // profiling off: no look-up at all
        }
        return RegionScope(detail::region_for_scope(name));
    }

    /// @brief An RAII scope on a region handle: no name look-up at all.
    [[nodiscard]] static RegionScope profile_region(Region& region) noexcept {
        return RegionScope(region);
    }

    /**
     * @brief A device scope: times on the GPU what `stream` executes until it goes out of scope.
     *
     * Host and device scopes of one name are one region. See DeviceScope and docs/cuda.md.
     * \code
     * {
     *     auto r = sp::ProfileManager::profile_region("saxpy", stream);
     *     saxpy<<<grid, block, 0, stream>>>(n, a, d_x, d_y);
     * }
     * \endcode
     * @param stream a `cudaStream_t`: a user stream, `0` (legacy default) or `cudaStreamPerThread`.
     * @throws std::invalid_argument when `name` is empty.
     */
    [[nodiscard]] static DeviceScope profile_region(std::string_view name, CUstream_st* stream) {
        if (detail::current_mode() == detail::Mode::off && !name.empty()) {
            return DeviceScope(nullptr, stream);
        }
        return DeviceScope(detail::region_for_scope(name), stream);
    }

    /// @brief A device scope on a region handle: no name look-up at all.
    [[nodiscard]] static DeviceScope profile_region(Region& region, CUstream_st* stream) noexcept {
        return DeviceScope(region, stream);
    }

    /**
     * @brief The decorator: a callable that runs `f` inside the region `name` on every call.
     * \code
     * auto timed_solve = sp::ProfileManager::profile("solver", solve);
     * x = timed_solve(A, b);   // one call of "solver"
     * \endcode
     * @throws std::invalid_argument when `name` is empty.
     */
    template <class F>
    [[nodiscard]] static Profiled<std::decay_t<F>> profile(std::string_view name, F&& f) {
        return Profiled<std::decay_t<F>>(region(name), std::forward<F>(f));
    }

    /// @brief The region `name` if it was used in this session, else nullptr.
    static const Region* get_region(std::string_view name);

    /// @brief Every region used in this session, in first-use order.
    static RegionList get_all_regions();

    /**
     * @brief Ends the session: reports scopes still open, prints the summary when `verbose`.
     *
     * Recorded data stays queryable until the next setup(); scopes entered afterwards record
     * nothing. Calling it before setup() or a second time prints a message and does nothing.
     * A program that never calls it still gets its file: at exit (also when its last thread
     * ends), or on SIGTERM, SIGINT and SIGHUP (see docs/configuration.md, "How a run ends").
     */
    static void finalize(bool verbose = true);
};

}  // namespace scope_profiler
