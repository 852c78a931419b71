#pragma once
// The seam between the core and device timing. core/ knows nothing of CUDA: a backend records a
// start and an end marker on a stream and later reports the interval, placed on the host
// steady_clock timeline. cuda/cuda_backend.cpp implements it with CUDA events; tests implement
// it with a fake whose completion they control; core/host_backend.cpp is the no-GPU fallback.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

struct CUstream_st;

namespace scope_profiler {
class Region;
}

namespace scope_profiler::detail {

/// How a device scope began.
enum class DeviceStart : std::uint8_t {
    timed = 1,          // a start marker is on the stream; `ticket` names the pair
    host_fallback = 2,  // no device timing: the host interval stands in, marked as fallback
    nvtx_only = 3,      // the stream is capturing a CUDA graph: nothing may be recorded on it
};

/// A completed pair, on the host timeline.
struct DeviceTimes {
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    std::int64_t stream_id = 0;
};

enum class DevicePoll : std::uint8_t { pending, done, failed };

class DeviceBackend {
public:
    virtual ~DeviceBackend() = default;
    /// Records a start marker on `stream`. Must not block.
    virtual DeviceStart begin(CUstream_st* stream, std::uint64_t& ticket) noexcept = 0;
    /// Records the end marker of `ticket` on `stream`. Must not block.
    virtual void end(std::uint64_t ticket, CUstream_st* stream) noexcept = 0;
    /// Done: fills `out` and releases the pair. Pending: not finished (never with `wait`).
    /// Failed: the pair is released and its interval lost.
    virtual DevicePoll poll(std::uint64_t ticket, bool wait, DeviceTimes& out) noexcept = 0;
    /// Releases a pair whose interval is no longer wanted (a new session began).
    virtual void discard(std::uint64_t ticket) noexcept = 0;
    /// An id of `stream` for intervals timed on the host.
    virtual std::int64_t stream_id(CUstream_st* stream) noexcept = 0;
    /// Attributes for the file's metadata where a GPU is used: gpu_name, cuda_runtime, cuda_driver.
    virtual std::vector<std::pair<std::string, std::string>> metadata() const { return {}; }
    /// A new session began (setup()): warnings said once per session may be said again.
    virtual void new_session() noexcept {}
    /// Bracket a resolution pass (one thread polls many pairs in between). The CUDA backend
    /// switches the thread to relaxed stream-capture mode here, so its event queries cannot
    /// invalidate a global-mode graph capture running on another thread.
    virtual void begin_resolution() noexcept {}
    virtual void end_resolution() noexcept {}
};

/// The backend of this build: CUDA events where built with CUDA, else host fallback.
/// Made lazily, on the first device scope, so programs without one never initialize CUDA.
std::unique_ptr<DeviceBackend> make_default_device_backend();

/// A backend that times on the host; `reason` is said once on stderr at the first device scope.
std::unique_ptr<DeviceBackend> make_host_fallback_backend(std::string reason);

/// Replaces the backend (tests). Pending pairs of the old one are discarded.
void set_device_backend(std::unique_ptr<DeviceBackend> backend);

/// The metadata of the backend in use, or nothing when no device scope ever ran (so writing the
/// file never initializes CUDA by itself).
std::vector<std::pair<std::string, std::string>> device_metadata();

/// Polls every pending pair (with `wait`, until each is done) and files the results.
void resolve_device_intervals(bool wait);

/// setup(): discards pending pairs (clear_device_data() clears each region).
void device_on_setup();
void clear_device_data(Region& region);

/// Pairs whose interval was lost to a failed CUDA call in this session (reported at finalize).
std::uint64_t device_intervals_failed();

}  // namespace scope_profiler::detail
