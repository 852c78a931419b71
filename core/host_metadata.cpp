// collect_metadata (h5_writer.hpp): the merged file's metadata, from the host (no HDF5). The
// POSIX calls of the library's metadata (uname, gethostname, getpwuid_r) are here only.

#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <thread>

#include "h5_writer.hpp"
#include "scope_profiler/version.hpp"

namespace scope_profiler::detail::h5 {

Metadata collect_metadata(int mpi_size) {
    Metadata m;

    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char timestamp[32] = {};
    std::strftime(timestamp, sizeof timestamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    m.text.emplace_back("timestamp", timestamp);

    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    m.text.emplace_back("hostname", host);

    utsname system{};
    std::string platform;
    if (uname(&system) == 0)
        platform = std::string(system.sysname) + " " + system.release + " " + system.machine;
    m.text.emplace_back("platform", platform);

    std::string user;
    for (const char* variable : {"USER", "LOGNAME"}) {
        if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') {
            user = value;
            break;
        }
    }
    if (user.empty()) {
        passwd entry{};
        passwd* found = nullptr;
        std::array<char, 4096> buffer{};
        if (getpwuid_r(geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
            found != nullptr)
            user = found->pw_name;
        else
            user = std::to_string(geteuid());
    }
    m.text.emplace_back("user", user);

    std::error_code error;
    const std::filesystem::path cwd = std::filesystem::current_path(error);
    m.text.emplace_back("working_directory", error ? std::string() : cwd.string());

    m.text.emplace_back("scope_profiler_version", SCOPE_PROFILER_VERSION_STRING);
#if defined(__clang__) || defined(__INTEL_LLVM_COMPILER) || defined(__NVCOMPILER)
    m.text.emplace_back("compiler", __VERSION__);  // names the compiler already
#elif defined(__GNUC__)
    m.text.emplace_back("compiler", "GCC " __VERSION__);
#else
    m.text.emplace_back("compiler", "unknown");
#endif
    m.text.emplace_back("clock", "std::chrono::steady_clock, ns");  // what the file's times are, whatever scopes read

    std::int64_t cores = std::thread::hardware_concurrency();
    if (cores <= 0) cores = std::max<long>(1, sysconf(_SC_NPROCESSORS_ONLN));
    std::int64_t omp_threads = cores;
    if (const char* value = std::getenv("OMP_NUM_THREADS"); value != nullptr) {
        // "8" or a nested list "8,2": the first level.
        char* end = nullptr;
        const long parsed = std::strtol(value, &end, 10);
        if (end != value && parsed > 0) omp_threads = parsed;
    }
    m.numbers.emplace_back("omp_num_threads", omp_threads);
    m.numbers.emplace_back("mpi_size", mpi_size);
    // The Python library's meaning (metadata.py): ranks x OpenMP threads, the parallelism its
    // pproc --x-field total_cores plots; the machine's cores are ours, under their own key.
    m.numbers.emplace_back("total_cores", mpi_size * omp_threads);
    m.numbers.emplace_back("hardware_cores", cores);
    return m;
}

}  // namespace scope_profiler::detail::h5
