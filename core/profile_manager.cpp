// ProfileManager: the public entry points, over the registry.
#include "scope_profiler/profile_manager.hpp"

#include "registry.hpp"

namespace scope_profiler {

void ProfileManager::setup(const Config& config) { detail::Registry::instance().setup(config); }

Config ProfileManager::get_config() { return detail::Registry::instance().config(); }

bool ProfileManager::is_active() noexcept {
    try {
        return detail::Registry::instance().active();
    } catch (...) {  // a failing mutex
        return false;
    }
}

Region& ProfileManager::region(std::string_view name) {
    detail::Registry& registry = detail::Registry::instance();
    Region& region = registry.get_or_create(name);
    if (detail::current_mode() != detail::Mode::off && !registry.listed(region)) {
        registry.activate(region);
    }
    return region;
}

const Region* ProfileManager::get_region(std::string_view name) {
    detail::Registry& registry = detail::Registry::instance();
    const Region* region = registry.find(name);
    return (region != nullptr && registry.listed(*region)) ? region : nullptr;
}

RegionList ProfileManager::get_all_regions() { return detail::Registry::instance().regions(); }

void ProfileManager::finalize(bool verbose) { detail::Registry::instance().finalize(verbose); }

}  // namespace scope_profiler
