#pragma once
/// @file macros.hpp
/// @brief SCOPE_PROFILE_REGION and SCOPE_PROFILE_FUNCTION: scopes with the region cached per call site.

#define SCOPE_PROFILER_DETAIL_CONCAT_IMPL(a, b) a##b
#define SCOPE_PROFILER_DETAIL_CONCAT(a, b) SCOPE_PROFILER_DETAIL_CONCAT_IMPL(a, b)

#if defined(SCOPE_PROFILER_DISABLE)

#define SCOPE_PROFILE_REGION(name) static_cast<void>(0)
#define SCOPE_PROFILE_FUNCTION() static_cast<void>(0)

#else

#include "scope_profiler/detail/compiler.hpp"
#include "scope_profiler/profile_manager.hpp"

#define SCOPE_PROFILER_DETAIL_REGION(name, id)                                              \
    static SCOPE_PROFILER_CONSTINIT ::scope_profiler::detail::CallSite SCOPE_PROFILER_DETAIL_CONCAT(          \
        scope_profiler_site_, id);                                                           \
    const ::scope_profiler::RegionScope SCOPE_PROFILER_DETAIL_CONCAT(scope_profiler_scope_, id)( \
        SCOPE_PROFILER_DETAIL_CONCAT(scope_profiler_site_, id), name)

/**
 * @brief Times the rest of the enclosing block as one call of the region `name`.
 *
 * The region is looked up once per call site (on the first pass that records) and cached in a
 * constant-initialized static, so `name` must be the same every time this line runs: a string
 * literal or a constant. For names that change at run time, use
 * ProfileManager::profile_region(name). Several may share one line.
 * \code
 * void step() {
 *     SCOPE_PROFILE_REGION("step");
 *     work();
 * }
 * \endcode
 */
#define SCOPE_PROFILE_REGION(name) SCOPE_PROFILER_DETAIL_REGION(name, __COUNTER__)

/// @brief Times the rest of the enclosing function under the function's own name (`__func__`).
#define SCOPE_PROFILE_FUNCTION() SCOPE_PROFILE_REGION(__func__)

#endif
