#include "format/hdf5.hpp"

#include <algorithm>
#include <vector>

namespace scope_profiler::format {

void silence_errors() noexcept { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string hdf5_reason() {
    std::vector<std::string> entries;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_UPWARD,  // the innermost error first
        [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
            if (error->desc != nullptr && error->desc[0] != '\0')
                static_cast<std::vector<std::string>*>(data)->emplace_back(error->desc);
            return 0;
        },
        &entries);
    H5Eclear2(H5E_DEFAULT);
    if (entries.empty()) return {};
    std::string reason = entries.front();
    // The POSIX driver's "file write failed: time = <ctime>\n, filename = ..., errno = 28,
    // error message = 'No space left on device', buf = 0x..., ...": keep the useful middle.
    if (const auto time = reason.find("time = "); time != std::string::npos) {
        const auto comma = reason.find(", ", time);
        reason.erase(time, comma == std::string::npos ? std::string::npos : comma + 2 - time);
    }
    if (const auto buffer = reason.find(", buf = "); buffer != std::string::npos)
        reason.erase(buffer);
    std::replace(reason.begin(), reason.end(), '\n', ' ');
    constexpr std::size_t kMax = 400;
    if (reason.size() > kMax) reason = reason.substr(0, kMax) + "...";
    return reason;
}

}  // namespace scope_profiler::format
