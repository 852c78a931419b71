// What a build without the CUDA toolkit links instead of cuda/: no NVTX, host-timed device scopes.
#include "device_backend.hpp"
#include "scope_profiler/detail/runtime.hpp"

namespace scope_profiler::detail {

std::unique_ptr<DeviceBackend> make_default_device_backend() {
    return make_host_fallback_backend("this build of scope-profiler has no CUDA support");
}

void nvtx_push(const Region&, NvtxCategory) noexcept {}
void nvtx_pop() noexcept {}
bool nvtx_prepare() noexcept { return false; }

}  // namespace scope_profiler::detail
