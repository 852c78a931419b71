#pragma once
// HDF5 handles and error text, shared by the writer (core/h5_*.cpp) and the reader
// (tools/profile_file.cpp): an identifier closed at scope exit, and HDF5's own reason for the
// call that just failed, one line. Each side phrases its errors itself around that reason.

#include <hdf5.h>

#include <string>
#include <utility>

namespace scope_profiler::format {

/// An HDF5 identifier closed on destruction (a failing close is ignored there and its error
/// cleared: call close_now() where a failing close must be reported, as a dataset's close may
/// write its cached chunks).
class Hid {
public:
    using Closer = herr_t (*)(hid_t);
    Hid() = default;
    /// closer_name: the closing function's name, for messages ("H5Dclose").
    Hid(hid_t id, Closer closer, const char* closer_name = "") noexcept
        : id_(id), closer_(closer), closer_name_(closer_name) {}
    Hid(Hid&& other) noexcept
        : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_),
          closer_name_(other.closer_name_) {}
    Hid& operator=(Hid&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, H5I_INVALID_HID);
            closer_ = other.closer_;
            closer_name_ = other.closer_name_;
        }
        return *this;
    }
    Hid(const Hid&) = delete;
    Hid& operator=(const Hid&) = delete;
    ~Hid() { reset(); }

    [[nodiscard]] hid_t get() const noexcept { return id_; }
    [[nodiscard]] bool valid() const noexcept { return id_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }
    void reset() noexcept {
        if (id_ >= 0 && closer_ != nullptr && closer_(id_) < 0) H5Eclear2(H5E_DEFAULT);
        id_ = H5I_INVALID_HID;
    }
    /// Closes now and returns the closer's result; the identifier is released whatever it is.
    herr_t close_now() noexcept {
        const hid_t id = std::exchange(id_, H5I_INVALID_HID);
        return id >= 0 && closer_ != nullptr ? closer_(id) : 0;
    }
    [[nodiscard]] const char* closer_name() const noexcept { return closer_name_; }

private:
    hid_t id_ = H5I_INVALID_HID;
    Closer closer_ = nullptr;
    const char* closer_name_ = "";
};

/// Turns HDF5's automatic error printing off for the calling thread (a thread-safe HDF5 keeps
/// that setting per thread, so every entry point calls it).
void silence_errors() noexcept;

/// HDF5's most specific description of the error on this thread's stack, as one line of at most
/// about 400 bytes ("" when there is none), e.g. "unable to open file: name = '/x/p.h5', errno =
/// 2, error message = 'No such file or directory', ..."; the POSIX driver's time stamp and
/// buffer address are left out. Clears the stack.
std::string hdf5_reason();

}  // namespace scope_profiler::format
