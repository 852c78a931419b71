#pragma once
// Publishing a file durably, for the library's profiling files (core/h5_*.cpp) and the
// command's outputs (tools/output_file.cpp): the data goes to a temporary file next to the
// target, room on disk is reserved before the writes that need it, the file is synced, then
// renamed onto the target (never onto anything but a regular file), and the directory synced.
// A reader sees the old file or the whole new one. POSIX; fallocate() where Linux has it.
//
// Every failure throws std::runtime_error whose text is `lead` (the caller's beginning of the
// sentence, e.g. "scope_profiler: cannot write /x/p.h5"), ": " and what went wrong.

#include <cstdint>
#include <string>

namespace scope_profiler::format {

/// The temporary name a file is written under before it is renamed onto path: path + ".tmp." +
/// this process's id.
std::string temporary_path(const std::string& path);

/// Throws when the process's file size limit (ulimit -f) leaves no room for `bytes` more past
/// `size`: a write beyond it would raise SIGXFSZ, which kills a process by default. The message
/// ends with `consequence`.
void check_size_limit(std::uint64_t size, std::uint64_t bytes, const std::string& lead,
                      const char* consequence);

/// Allocates the disk blocks for `bytes` more from `offset` of the open file `fd` without
/// changing its size, so that the writes which follow cannot find the disk full half-way.
/// Where the file system cannot allocate ahead, its free space is compared instead. Throws,
/// ending with `consequence`, when there is no room (what a partial allocation took is given
/// back).
void reserve_blocks(int fd, std::uint64_t offset, std::uint64_t bytes, const std::string& lead,
                    const char* consequence);
/// Gives back the blocks reserve_blocks allocated beyond the end of the file.
void release_blocks(int fd) noexcept;

/// Gives back unused reserved blocks and syncs the closed file `file` to disk.
void sync_file(const std::string& file, const std::string& lead);

/// Empty when path is missing or a regular file (or a link to one); otherwise what it is ("a
/// character device").
std::string not_a_regular_file(const std::string& path);
/// Throws "<lead>: <path> is a FIFO, not a regular file: it is left as it is" where path is
/// something other than a regular file: as root, renaming onto /dev/null would replace the
/// device node.
void refuse_non_regular(const std::string& path, const std::string& lead);

/// Renames the synced file `from` onto `to` (refuse_non_regular first) and syncs the directory
/// (best effort), so that the rename survives a crash.
void rename_into_place(const std::string& from, const std::string& to, const std::string& lead);

}  // namespace scope_profiler::format
