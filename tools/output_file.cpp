#include "output_file.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "format/durable_file.hpp"
#include "ledger.hpp"
#include "profile_file.hpp"

namespace scope_profiler::cli {

namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 20;

/// The beginning of every error sentence about the output at path.
std::string lead(const std::string& path) { return "cannot write '" + path + "'"; }

[[noreturn]] void fail(const std::string& path, const std::string& why) {
    throw InputError(lead(path) + ": " + why);
}

// Temporary files of live OutputFiles are in the ledger (ledger.hpp): a signal handler here
// removes them when the program is interrupted (Ctrl-C, kill), and the supervisor
// (supervisor.hpp) after a crash, so not even a temporary file is left behind.
extern "C" void remove_live_files(int signal_number) {
    ledger::remove_temporaries();
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
}

void install_handlers_once() {
    static const bool installed = [] {
        for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
            struct sigaction current {};
            if (::sigaction(signal_number, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
                std::signal(signal_number, remove_live_files);
            }
        }
        return true;
    }();
    (void)installed;
}

void track(const std::string& temporary) {
    install_handlers_once();
    ledger::track_temporary(temporary);
}

void untrack(const std::string& temporary) { ledger::untrack_temporary(temporary); }

}  // namespace

namespace {

std::vector<std::string>& protected_inputs() {
    static std::vector<std::string> inputs;
    return inputs;
}

}  // namespace

void protect_inputs(const std::vector<std::string>& inputs) {
    protected_inputs().insert(protected_inputs().end(), inputs.begin(), inputs.end());
}

OutputFile::OutputFile(std::string path)
    : path_(std::move(path)),
      temporary_(format::temporary_path(path_)),
      buffer_(new char[kBufferBytes]) {
    for (const std::string& input : protected_inputs()) {
        std::error_code error;
        if (std::filesystem::equivalent(path_, input, error))
            fail(path_, "it is the input " + input + ", which the command does not overwrite");
    }
    stream_.rdbuf()->pubsetbuf(buffer_.get(), kBufferBytes);
    errno = 0;
    stream_.open(temporary_, std::ios::binary | std::ios::trunc);
    if (!stream_) fail(path_, errno != 0 ? std::strerror(errno) : "the file cannot be created");
    track(temporary_);
}

OutputFile::~OutputFile() {
    untrack(temporary_);
    if (committed_) return;
    stream_.close();
    std::remove(temporary_.c_str());
}

void OutputFile::remove_and_throw(const std::string& message) {
    stream_.close();
    std::remove(temporary_.c_str());
    throw InputError(message);
}

void OutputFile::finish() {
    if (finished_) return;
    errno = 0;
    stream_.flush();
    const bool written = static_cast<bool>(stream_);
    const int write_errno = errno;
    stream_.close();
    if (!written || stream_.fail())
        remove_and_throw(lead(path_) + ": " + (write_errno != 0 ? std::strerror(write_errno) : "the write failed"));
    // Durable before it is visible under its name.
    // And a path that publish() would refuse (a directory, a device, a FIFO) fails here, before
    // commit_all() publishes any file.
    try {
        format::sync_file(temporary_, lead(path_));
        format::refuse_non_regular(path_, lead(path_));
    } catch (const std::runtime_error& e) {
        remove_and_throw(e.what());
    }
    finished_ = true;
}

void OutputFile::publish() {
    // Never onto anything but a regular file (as root, a rename onto /dev/null replaces the
    // device node); the directory is synced after.
    try {
        format::rename_into_place(temporary_, path_, lead(path_));
    } catch (const std::runtime_error& e) {
        remove_and_throw(e.what());
    }
    committed_ = true;
}

void OutputFile::commit() {
    finish();
    publish();
}

void commit_all(const std::vector<OutputFile*>& files) {
    for (OutputFile* file : files) file->finish();
    for (OutputFile* file : files) file->publish();
}

}  // namespace scope_profiler::cli
