// A user's program: only the public, installed headers, the three ways of timing a region,
// and the query API; C++17 (built as C++17 and as C++20). Exits non-zero (with a message) when a count is not the expected one.
#include <scope_profiler/scope_profiler.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace sp = scope_profiler;

namespace {

int twice(int x) { return 2 * x; }

void macro_step() { SCOPE_PROFILE_REGION("consumer_macro"); }

void consumer_function() { SCOPE_PROFILE_FUNCTION(); }

int failures = 0;

void expect_calls(const char* name, std::uint64_t expected) {
    const sp::Region* region = sp::ProfileManager::get_region(name);
    if (region == nullptr) {
        std::fprintf(stderr, "consumer: region \"%s\" was not recorded\n", name);
        ++failures;
        return;
    }
    const std::uint64_t calls = region->num_calls();
    if (calls != expected) {
        std::fprintf(stderr, "consumer: region \"%s\" has %llu calls, expected %llu\n", name,
                     static_cast<unsigned long long>(calls),
                     static_cast<unsigned long long>(expected));
        ++failures;
    }
}

}  // namespace

int main() {
    if (std::strcmp(sp::version_string, SP_EXPECTED_VERSION) != 0) {
        std::fprintf(stderr, "consumer: version_string is \"%s\", expected \"%s\"\n",
                     sp::version_string, SP_EXPECTED_VERSION);
        return 1;
    }

    sp::Config config;  // C++17: no designated initializers
    config.flush_to_disk = false;
    sp::ProfileManager::setup(config);

    constexpr int n = 5;
    auto timed_twice = sp::ProfileManager::profile("consumer_decorator", twice);
    sp::Region& handle = sp::ProfileManager::region("consumer_handle");
    int sum = 0;
    for (int i = 0; i < n; ++i) {
        auto scope = sp::ProfileManager::profile_region("consumer_scope");  // RAII scope
        macro_step();                                                       // SCOPE_PROFILE_REGION
        consumer_function();                                                // SCOPE_PROFILE_FUNCTION
        sum += timed_twice(i);                                              // profile() decorator
        sp::RegionScope handle_scope(handle);                               // a kept handle
    }
    if (sum != n * (n - 1)) {
        std::fprintf(stderr, "consumer: the decorator returned the wrong values (sum %d)\n", sum);
        ++failures;
    }

    expect_calls("consumer_scope", n);
    expect_calls("consumer_macro", n);
    expect_calls("consumer_function", n);
    expect_calls("consumer_decorator", n);
    expect_calls("consumer_handle", n);
    if (sp::ProfileManager::get_all_regions().size() != 5) {
        std::fprintf(stderr, "consumer: %zu regions listed, expected 5\n",
                     sp::ProfileManager::get_all_regions().size());
        ++failures;
    }

    sp::ProfileManager::finalize();
    if (sp::ProfileManager::is_active()) {
        std::fprintf(stderr, "consumer: still active after finalize()\n");
        ++failures;
    }

    if (failures != 0) {
        std::fprintf(stderr, "consumer: %d check(s) failed\n", failures);
        return 1;
    }
    std::printf("consumer: OK (scope-profiler %s)\n", sp::version_string);
    return 0;
}
