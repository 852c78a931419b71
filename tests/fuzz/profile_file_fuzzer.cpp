// libFuzzer target for the reader of profiling files (tools/profile_file.cpp): any bytes, opened
// and read whole. Bad input must end in InputError; any other exception, a sanitizer report in
// our code or a crash is a finding. libhdf5 itself crashes on some inputs: scripts/fuzz.sh runs
// this target in fork mode, goes on after crashes, and then sorts them: a crash whose top frames
// are in libhdf5 must become exit code 2 in the supervised command (tools/supervisor.hpp); a
// crash anywhere else fails the run.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "profile_file.hpp"

namespace cli = scope_profiler::cli;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = [] {
        const char* dir = std::getenv("TMPDIR");
        return std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/sp_fuzz_" + std::to_string(::getpid()) + ".h5";
    }();
    if (std::FILE* out = std::fopen(path.c_str(), "wb")) {
        std::fwrite(data, 1, size, out);
        std::fclose(out);
    } else {
        return 0;
    }
    try {
        const cli::ProfileFile file(path);
        for (const auto& rank : file.ranks()) {
            for (const auto& region : rank.regions) {
                // Bounded slices, as the subcommands read them.
                (void)file.read_host(region, 0, 1 << 16);
                (void)file.read_device(region, 0, 1 << 16);
            }
        }
    } catch (const cli::InputError&) {
    }
    return 0;
}
