// Device timing with CUDA events. Each device scope takes an event pair from a pool (grown, never
// waited for), records the start and end events on the user's stream, and is resolved later with
// cudaEventQuery. Nothing here synchronizes the user's stream or the device.
//
// The timeline: cudaEventElapsedTime gives float milliseconds between two events (about half a
// microsecond of resolution, and a float holding a large offset loses more). So an interval is
// placed through an *anchor*: an event recorded on a private, idle stream, whose host time is
// taken as it is recorded. A new anchor is recorded when the current one is older than
// kReanchorNs, so the offset from anchor to a start event stays small; the duration comes from
// the pair itself.
#include <cuda_runtime_api.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "device_backend.hpp"
#include "diagnostics.hpp"
#include "scope_profiler/detail/runtime.hpp"

namespace scope_profiler::detail {
namespace {

constexpr std::int64_t kReanchorNs = 1'000'000'000;  // a float ms offset of 1 s is exact to 0.1 us
// An anchor whose record call took longer than this (the thread was preempted) is recorded again:
// its host time would be off by as much. After kAnchorTries the last one is kept.
constexpr std::int64_t kAnchorRecordNs = 4'000;
constexpr int kAnchorTries = 8;

// The session warnings belong to: each call site warns once per session (setup() starts one).
std::atomic<std::uint32_t> g_warning_session{1};

// Every CUDA call goes through here: the first failure at each call site in a session is reported
// with the call, file, line and error (one warning per kind, however often it fails; the
// intervals it costs are counted and reported at finalize), and the non-sticky error state is
// cleared.
bool cuda_ok(cudaError_t error, const char* call, const char* file, int line,
             std::atomic<std::uint32_t>& reported_in) noexcept {
    if (error == cudaSuccess) return true;
    (void)cudaGetLastError();
    const std::uint32_t session = g_warning_session.load(std::memory_order_relaxed);
    if (reported_in.exchange(session, std::memory_order_relaxed) != session) {
        logf(LogLevel::warning, "%s failed at %s:%d: %s (%s)", call, file, line, cudaGetErrorString(error),
             cudaGetErrorName(error));
    }
    return false;
}
#define SCOPE_PROFILER_CUDA_OK(call)                                                   \
    [&]() noexcept {                                                                   \
        static std::atomic<std::uint32_t> reported_in_{0};                             \
        return cuda_ok((call), #call, __FILE__, __LINE__, reported_in_);               \
    }()

struct Anchor {
    cudaEvent_t event = nullptr;
    std::int64_t host_ns = 0;
    std::uint32_t refs = 0;   // pairs placed through it and not yet resolved
    bool current = false;     // the anchor new pairs use
};

struct Pair {
    cudaEvent_t start = nullptr;
    cudaEvent_t end = nullptr;
    int device = 0;
    Anchor* anchor = nullptr;
    std::int64_t stream_id = 0;
    bool end_failed = false;
};

struct DeviceState {
    cudaStream_t anchor_stream = nullptr;
    Anchor* anchor = nullptr;
    std::vector<Pair*> free_pairs;
    std::vector<Anchor*> free_anchors;
};

class CudaBackend final : public DeviceBackend {
public:
    explicit CudaBackend(std::vector<std::pair<std::string, std::string>> metadata)
        : metadata_(std::move(metadata)) {
        new_session();  // made for the session in progress: its warnings are yet to be said
    }

    std::vector<std::pair<std::string, std::string>> metadata() const override { return metadata_; }

    DeviceStart begin(CUstream_st* stream, std::uint64_t& ticket) noexcept override {
        cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
        const cudaError_t status = cudaStreamIsCapturing(stream, &capture);
        if (status == cudaErrorStreamCaptureImplicit) {  // legacy stream while another captures
            (void)cudaGetLastError();
            return DeviceStart::nvtx_only;
        }
        if (!SCOPE_PROFILER_CUDA_OK(status)) return DeviceStart::host_fallback;
        if (capture != cudaStreamCaptureStatusNone) return DeviceStart::nvtx_only;

        int device = 0;
        if (!SCOPE_PROFILER_CUDA_OK(cudaGetDevice(&device))) return DeviceStart::host_fallback;
        unsigned long long stream_id = 0;
        if (!SCOPE_PROFILER_CUDA_OK(cudaStreamGetId(stream, &stream_id))) return DeviceStart::host_fallback;

        Pair* pair = take_pair(device);
        if (pair == nullptr) return DeviceStart::host_fallback;
        pair->stream_id = static_cast<std::int64_t>(stream_id);
        if (!SCOPE_PROFILER_CUDA_OK(cudaEventRecord(pair->start, stream))) {
            release(pair);
            return DeviceStart::host_fallback;
        }
        ticket = reinterpret_cast<std::uint64_t>(pair);
        return DeviceStart::timed;
    }

    void end(std::uint64_t ticket, CUstream_st* stream) noexcept override {
        Pair* pair = reinterpret_cast<Pair*>(ticket);
        // A capture may have begun on this stream since the scope opened: an event recorded
        // now would become part of the graph. The pair is given up instead (counted as lost).
        cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
        const cudaError_t status = cudaStreamIsCapturing(stream, &capture);
        if (status == cudaErrorStreamCaptureImplicit) {  // legacy stream while another captures
            (void)cudaGetLastError();
            pair->end_failed = true;
            return;
        }
        if (!SCOPE_PROFILER_CUDA_OK(status) || capture != cudaStreamCaptureStatusNone) {
            pair->end_failed = true;
            return;
        }
        pair->end_failed = !SCOPE_PROFILER_CUDA_OK(cudaEventRecord(pair->end, stream));
    }

    DevicePoll poll(std::uint64_t ticket, bool wait, DeviceTimes& out) noexcept override {
        Pair* pair = reinterpret_cast<Pair*>(ticket);
        if (pair->end_failed) return fail(pair);
        const cudaError_t done = wait ? cudaEventSynchronize(pair->end) : cudaEventQuery(pair->end);
        if (done == cudaErrorNotReady) return DevicePoll::pending;
        if (!SCOPE_PROFILER_CUDA_OK(done)) return fail(pair);

        float duration_ms = 0.0f;
        if (!SCOPE_PROFILER_CUDA_OK(cudaEventElapsedTime(&duration_ms, pair->start, pair->end))) {
            return fail(pair);
        }
        float offset_ms = 0.0f;
        cudaError_t placed = cudaEventElapsedTime(&offset_ms, pair->anchor->event, pair->start);
        if (placed == cudaErrorNotReady) {  // the anchor is still queued (rare): wait or retry
            if (!wait) return DevicePoll::pending;
            if (!SCOPE_PROFILER_CUDA_OK(cudaEventSynchronize(pair->anchor->event))) return fail(pair);
            placed = cudaEventElapsedTime(&offset_ms, pair->anchor->event, pair->start);
        }
        if (!SCOPE_PROFILER_CUDA_OK(placed)) return fail(pair);

        out.start_ns = pair->anchor->host_ns + std::llround(static_cast<double>(offset_ms) * 1e6);
        out.end_ns = out.start_ns + std::llround(static_cast<double>(duration_ms) * 1e6);
        out.stream_id = pair->stream_id;
        release(pair);
        return DevicePoll::done;
    }

    void discard(std::uint64_t ticket) noexcept override {
        // The events may still be queued on the GPU; re-recording them later is allowed.
        release(reinterpret_cast<Pair*>(ticket));
    }

    std::int64_t stream_id(CUstream_st* stream) noexcept override {
        unsigned long long id = 0;
        if (cudaStreamGetId(stream, &id) != cudaSuccess) {
            (void)cudaGetLastError();
            return static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(stream));
        }
        return static_cast<std::int64_t>(id);
    }


    void new_session() noexcept override { g_warning_session.fetch_add(1, std::memory_order_relaxed); }

    void begin_resolution() noexcept override { relax_capture_mode(); }
    void end_resolution() noexcept override { restore_capture_mode(); }

private:
    // cudaEventQuery, cudaEventSynchronize and cudaEventCreate are "potentially unsafe" calls
    // while another thread captures a graph in cudaStreamCaptureModeGlobal: made in that mode
    // they would invalidate the capture. Relaxed mode is what CUDA offers libraries for this.
    static void relax_capture_mode() noexcept {
        t_saved_mode = cudaStreamCaptureModeRelaxed;
        if (cudaThreadExchangeStreamCaptureMode(&t_saved_mode) != cudaSuccess) {
            t_saved_mode = cudaStreamCaptureModeGlobal;
        }
    }
    static void restore_capture_mode() noexcept { (void)cudaThreadExchangeStreamCaptureMode(&t_saved_mode); }
    static inline thread_local cudaStreamCaptureMode t_saved_mode = cudaStreamCaptureModeGlobal;

    // A pair of events of `device`, anchored to a recent anchor; nullptr when CUDA failed.
    Pair* take_pair(int device) noexcept {
        try {
            return take_pair_or_throw(device);
        } catch (...) {  // out of memory
            return nullptr;
        }
    }

    // Relaxed capture mode for the life of the object (creating events and streams).
    struct RelaxedCapture {
        RelaxedCapture() noexcept { relax_capture_mode(); }
        ~RelaxedCapture() { restore_capture_mode(); }
    };

    Pair* take_pair_or_throw(int device) {
        std::lock_guard lock(mutex_);
        if (device < 0) return nullptr;
        if (static_cast<std::size_t>(device) >= devices_.size()) devices_.resize(device + 1);
        DeviceState& state = devices_[device];
        if (!refresh_anchor(state)) return nullptr;
        Pair* pair = nullptr;
        if (!state.free_pairs.empty()) {
            pair = state.free_pairs.back();
            state.free_pairs.pop_back();
        } else {  // the pool grows instead of waiting for a pair to come back
            const RelaxedCapture relaxed;
            auto made = std::make_unique<Pair>();
            made->device = device;
            if (!SCOPE_PROFILER_CUDA_OK(cudaEventCreate(&made->start))) return nullptr;
            if (!SCOPE_PROFILER_CUDA_OK(cudaEventCreate(&made->end))) {
                (void)cudaEventDestroy(made->start);
                return nullptr;
            }
            pair = made.get();
            owned_pairs_.push_back(std::move(made));
        }
        pair->anchor = state.anchor;
        pair->end_failed = false;
        ++state.anchor->refs;
        return pair;
    }

    // Under mutex_: makes sure `state` has an anchor younger than kReanchorNs.
    bool refresh_anchor(DeviceState& state) {
        const std::int64_t now = now_ns();
        if (state.anchor != nullptr && now - state.anchor->host_ns < kReanchorNs) return true;
        const RelaxedCapture relaxed;
        if (state.anchor_stream == nullptr) {
            // The highest priority, so the anchor is stamped ahead of queued work where the
            // hardware queues are shared.
            int least = 0, greatest = 0;
            if (!SCOPE_PROFILER_CUDA_OK(cudaDeviceGetStreamPriorityRange(&least, &greatest)) ||
                !SCOPE_PROFILER_CUDA_OK(cudaStreamCreateWithPriority(&state.anchor_stream,
                                                                     cudaStreamNonBlocking, greatest))) {
                return false;
            }
        }
        Anchor* anchor = nullptr;
        if (!state.free_anchors.empty()) {
            anchor = state.free_anchors.back();
            state.free_anchors.pop_back();
        } else {
            auto made = std::make_unique<Anchor>();
            if (!SCOPE_PROFILER_CUDA_OK(cudaEventCreate(&made->event))) return false;
            anchor = made.get();
            owned_anchors_.push_back(std::move(made));
        }
        // The stream is idle, so the GPU stamps the event within microseconds of this call; a
        // record call that took long (a preempted thread) leaves that uncertain: record again.
        for (int attempt = 1;; ++attempt) {
            const std::int64_t before = now_ns();
            if (!SCOPE_PROFILER_CUDA_OK(cudaEventRecord(anchor->event, state.anchor_stream))) {
                state.free_anchors.push_back(anchor);
                return false;
            }
            anchor->host_ns = now_ns();
            if (anchor->host_ns - before <= kAnchorRecordNs || attempt == kAnchorTries) break;
        }
        anchor->refs = 0;
        anchor->current = true;
        if (state.anchor != nullptr) {
            state.anchor->current = false;
            if (state.anchor->refs == 0) state.free_anchors.push_back(state.anchor);
        }
        state.anchor = anchor;
        return true;
    }

    void release(Pair* pair) noexcept {
        std::lock_guard lock(mutex_);
        DeviceState& state = devices_[pair->device];
        Anchor* anchor = pair->anchor;
        if (--anchor->refs == 0 && !anchor->current) state.free_anchors.push_back(anchor);
        pair->anchor = nullptr;
        try {
            state.free_pairs.push_back(pair);
        } catch (...) {
            // Out of memory: the pair stays owned (owned_pairs_) and is simply not reused.
        }
    }

    DevicePoll fail(Pair* pair) noexcept {
        release(pair);
        return DevicePoll::failed;
    }

    std::vector<std::pair<std::string, std::string>> metadata_;
    std::mutex mutex_;
    std::vector<DeviceState> devices_;
    std::vector<std::unique_ptr<Pair>> owned_pairs_;      // never freed: tickets point into them
    std::vector<std::unique_ptr<Anchor>> owned_anchors_;
};

}  // namespace

std::unique_ptr<DeviceBackend> make_default_device_backend() {
    int count = 0;
    const cudaError_t error = cudaGetDeviceCount(&count);
    if (error != cudaSuccess || count == 0) {
        (void)cudaGetLastError();
        const std::string why = error != cudaSuccess ? cudaGetErrorString(error) : "no device";
        return make_host_fallback_backend("no usable CUDA device (cudaGetDeviceCount: " + why + ")");
    }
    int device = 0;
    cudaDeviceProp properties{};
    std::string name = "CUDA device";
    if (cudaGetDevice(&device) == cudaSuccess &&
        cudaGetDeviceProperties(&properties, device) == cudaSuccess) {
        name = properties.name;
    } else {
        (void)cudaGetLastError();  // our call failed: do not leave its error for the user's check
    }
    auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
    int runtime = 0, driver = 0;
    std::vector<std::pair<std::string, std::string>> metadata = {{"gpu_name", name}};
    if (cudaRuntimeGetVersion(&runtime) == cudaSuccess) metadata.emplace_back("cuda_runtime", version(runtime));
    if (cudaDriverGetVersion(&driver) == cudaSuccess) metadata.emplace_back("cuda_driver", version(driver));
    return std::make_unique<CudaBackend>(std::move(metadata));
}

}  // namespace scope_profiler::detail
