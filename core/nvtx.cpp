// NVTX ranges for every region: one domain, "scope_profiler"; a registered string and a color
// per region, made once; category 1 "host", 2 "device". With no tool attached an NVTX call is a
// load and a branch inside NVTX. NVTX3 is header-only and not CUDA: this file is built wherever
// its headers are found (the CUDA toolkit's, or a standalone NVTX), with or without the CUDA
// layer; core/no_nvtx.cpp otherwise.
#include <nvtx3/nvToolsExt.h>

#include <atomic>
#include <new>

#include "scope_profiler/color.hpp"
#include "scope_profiler/detail/runtime.hpp"

namespace scope_profiler::detail {
namespace {

std::atomic<nvtxDomainHandle_t> g_domain{nullptr};

struct RegionNvtx {
    nvtxEventAttributes_t attributes[2];  // [0] host, [1] device
};

nvtxDomainHandle_t domain() noexcept { return g_domain.load(std::memory_order_acquire); }

const RegionNvtx* make_attributes(const Region& region) noexcept {
    auto* made = new (std::nothrow) RegionNvtx{};
    if (made == nullptr) return nullptr;
    // NVTX takes C strings: a name with a NUL byte shows up to that byte in Nsight.
    const nvtxStringHandle_t name = nvtxDomainRegisterStringA(domain(), region.name().c_str());
    for (std::uint32_t category : {1u, 2u}) {
        nvtxEventAttributes_t& a = made->attributes[category - 1];
        a.version = NVTX_VERSION;
        a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
        a.category = category;
        a.colorType = NVTX_COLOR_ARGB;
        a.color = region_color(region.name());
        a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
        a.message.registered = name;
    }
    const void* expected = nullptr;
    auto& slot = RegionAccess::nvtx(region);
    if (!slot.compare_exchange_strong(expected, made, std::memory_order_acq_rel)) {
        delete made;  // another thread made them first
        return static_cast<const RegionNvtx*>(expected);
    }
    return made;
}

}  // namespace

bool nvtx_prepare() noexcept {
    if (domain() == nullptr) {
        // Made once, at the first setup() that wants NVTX: this is also where NVTX loads a tool.
        nvtxDomainHandle_t made = nvtxDomainCreateA("scope_profiler");
        nvtxDomainNameCategoryA(made, 1, "host");
        nvtxDomainNameCategoryA(made, 2, "device");
        nvtxDomainHandle_t expected = nullptr;
        g_domain.compare_exchange_strong(expected, made, std::memory_order_acq_rel);
    }
    return true;
}

void nvtx_push(const Region& region, NvtxCategory category) noexcept {
    const auto* made = static_cast<const RegionNvtx*>(RegionAccess::nvtx(region).load(std::memory_order_acquire));
    if (made == nullptr) [[unlikely]] {
        made = make_attributes(region);
        if (made == nullptr) {  // out of memory: an unnamed range keeps push and pop balanced
            static const nvtxEventAttributes_t unnamed = [] {
                nvtxEventAttributes_t a{};
                a.version = NVTX_VERSION;
                a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
                a.messageType = NVTX_MESSAGE_TYPE_ASCII;
                a.message.ascii = "scope_profiler: out of memory";
                return a;
            }();
            nvtxDomainRangePushEx(domain(), &unnamed);
            return;
        }
    }
    nvtxDomainRangePushEx(domain(), &made->attributes[static_cast<std::uint32_t>(category) - 1]);
}

void nvtx_pop() noexcept { nvtxDomainRangePop(domain()); }

}  // namespace scope_profiler::detail
