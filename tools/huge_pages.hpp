#pragma once
// Transparent huge pages for the command's large buffers: the one platform-specific call of the
// tools (madvise, Linux; a no-op elsewhere).

#include <cstddef>
#include <vector>

namespace scope_profiler::cli {

/// Asks the kernel to back [data, data + bytes) with huge pages where they fit whole (where
/// transparent huge pages are enabled "madvise"): filling gigabytes of spans then costs a few
/// thousand page faults instead of hundreds of thousands. Only a hint; nothing changes where it
/// is refused. Call it on memory not yet touched.
void prefer_huge_pages(void* data, std::size_t bytes) noexcept;

/// The same for a vector's whole capacity.
template <typename T>
void prefer_huge_pages(std::vector<T>& buffer) noexcept {
    prefer_huge_pages(buffer.data(), buffer.capacity() * sizeof(T));
}

}  // namespace scope_profiler::cli
