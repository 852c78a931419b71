#pragma once
// An output file that appears whole or not at all: written under a temporary name next to the
// target (<path>.tmp.<pid>), synced and renamed onto the path by commit(), as the library
// publishes its profiling files (format/durable_file.hpp); never onto a device or a FIFO. Destroyed without
// commit() (an error, an exception) it removes the temporary file, and so does SIGINT, SIGTERM
// or SIGHUP while it is open: a failing or interrupted command never leaves a partial output
// behind, and an existing file at the path stays as it was.

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace scope_profiler::cli {

/// The files this command reads: an OutputFile at one of them (the same file under any name)
/// is refused, so that `report p.h5 --json p.h5` cannot replace the profile it reads.
void protect_inputs(const std::vector<std::string>& inputs);

class OutputFile {
public:
    /// Creates the temporary file; a path that cannot be written, or that is one of the
    /// protected inputs, throws InputError naming it and the reason.
    explicit OutputFile(std::string path);
    ~OutputFile();  // removes the temporary file unless commit() succeeded
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    /// The stream to write to (buffered; write errors are found by commit()).
    [[nodiscard]] std::ostream& stream() noexcept { return stream_; }
    /// Flushes, syncs and renames the file into place; any failure throws InputError (the
    /// temporary file is removed). commit() is finish() and publish().
    void commit();
    /// Flushes and syncs the temporary file, and checks that the path can take it (missing or a
    /// regular file, not a directory, device or FIFO): every failure that writing can meet (a
    /// full disk, a quota) happens here.
    void finish();
    /// Renames the finished file into place.
    void publish();

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    /// Closes and removes the temporary file, then throws InputError(message).
    [[noreturn]] void remove_and_throw(const std::string& message);

    std::string path_, temporary_;
    std::unique_ptr<char[]> buffer_;
    std::ofstream stream_;
    bool finished_ = false;
    bool committed_ = false;
};

/// Commits every file or none: all are finished first, so that a full disk fails before any is
/// renamed, then all are published. (Renames in one directory do not need space.)
void commit_all(const std::vector<OutputFile*>& files);

}  // namespace scope_profiler::cli
