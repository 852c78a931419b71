#pragma once
// Exchanging the names of two files in one directory, for the rank file's twin
// (core/rank_file.cpp): the name the user reads always belongs to a complete file, because the
// library writes only to the file under the other name and then swaps them. POSIX and Linux
// calls only, no HDF5.

#include <string>

namespace scope_profiler::detail {

enum class SwapMethod {
    /// renameat2(RENAME_EXCHANGE): one atomic step (Linux 3.15; ext4, xfs, btrfs, tmpfs...).
    exchange,
    /// link(official, third), rename(twin -> official), rename(third -> twin): for file systems
    /// without the exchange (NFS, some parallel file systems). official names one of the two
    /// files at every moment; twin is missing for an instant.
    link,
};

struct SwapResult {
    /// The two files changed names. It can be true with error set: the link method swapped, but
    /// the file now meant for twin kept the third name (third_name(twin)).
    bool swapped = false;
    int error = 0;  // errno of the call that failed, 0 when all went well
};

/// The third name the link method passes a file through: twin + ".swap".
std::string third_name(const std::string& twin);

/// Gives official the file named twin and twin the file named official.
SwapResult swap_names(const std::string& official, const std::string& twin, SwapMethod method);

/// A name for error messages: "renameat2(RENAME_EXCHANGE)" or "link() and rename()".
const char* describe(SwapMethod method) noexcept;

}  // namespace scope_profiler::detail
