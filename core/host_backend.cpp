// The device backend where no GPU times anything: device scopes are timed on the host and marked
// as host fallback. Used by builds without CUDA, and by the CUDA backend's factory when no device
// is usable.
#include <mutex>

#include "device_backend.hpp"
#include "diagnostics.hpp"

namespace scope_profiler::detail {
namespace {

class HostFallbackBackend final : public DeviceBackend {
public:
    explicit HostFallbackBackend(std::string reason) : reason_(std::move(reason)) {}

    DeviceStart begin(CUstream_st*, std::uint64_t&) noexcept override {
        std::call_once(warned_, [this] {
            log(LogLevel::warning, reason_ + "; device scopes are timed on the host and marked as host fallback");
        });
        return DeviceStart::host_fallback;
    }
    void end(std::uint64_t, CUstream_st*) noexcept override {}
    DevicePoll poll(std::uint64_t, bool, DeviceTimes&) noexcept override { return DevicePoll::failed; }
    void discard(std::uint64_t) noexcept override {}
    std::int64_t stream_id(CUstream_st* stream) noexcept override {
        return static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(stream));
    }

private:
    std::string reason_;
    std::once_flag warned_;
};

}  // namespace

std::unique_ptr<DeviceBackend> make_host_fallback_backend(std::string reason) {
    return std::make_unique<HostFallbackBackend>(std::move(reason));
}

}  // namespace scope_profiler::detail
