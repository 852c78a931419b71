#pragma once
/**
 * @file scope_profiler.hpp
 * @brief The umbrella header of scope-profiler for C++: include this, nothing else.
 *
 * Quick start:
 * \code
 * #include <scope_profiler/scope_profiler.hpp>
 * namespace sp = scope_profiler;
 *
 * double solve(double x) { SCOPE_PROFILE_FUNCTION(); return x * 2; }   // region "solve"
 *
 * int main() {
 *     sp::ProfileManager::setup(sp::Config::from_env());
 *     auto timed = sp::ProfileManager::profile("solver", solve);         // decorator
 *     for (int i = 0; i < 10; ++i) {
 *         auto r = sp::ProfileManager::profile_region("iteration");      // RAII scope
 *         timed(i);
 *     }
 *     std::printf("%llu\n", (unsigned long long)sp::ProfileManager::get_region("solver")->num_calls());
 *     sp::ProfileManager::finalize();                                    // prints the summary
 * }
 * \endcode
 * Everything is in namespace `scope_profiler`. The guide is in docs/ (regions.md first).
 * Define `SCOPE_PROFILER_DISABLE` (CMake option of the same name) to compile the macros out.
 */

#include "scope_profiler/color.hpp"
#include "scope_profiler/config.hpp"
#include "scope_profiler/device_scope.hpp"
#include "scope_profiler/macros.hpp"
#include "scope_profiler/profile_manager.hpp"
#include "scope_profiler/region.hpp"
#include "scope_profiler/scope.hpp"
#include "scope_profiler/version.hpp"
