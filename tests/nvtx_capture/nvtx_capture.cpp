// nvtx_capture: the NVTX injection library (see nvtx_capture.h).
//
// NVTX_NO_IMPL: this library is the tool, not an NVTX client. It needs NVTX's types and the
// callback-table declarations only, never NVTX's own implementation (calling NVTX from here
// would re-enter NVTX's initialization).
#define NVTX_NO_IMPL
#include <nvtx3/nvToolsExt.h>

#include "nvtx_capture.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <unordered_set>
#include <utility>

// The opaque handle types of NVTX are defined by the tool: these are ours.
struct nvtxDomainRegistration_st {
    std::string name;
};
struct nvtxStringRegistration_st {
    std::string domain;
    std::string text;
};

namespace nvtx_capture {
namespace {

struct State {
    std::atomic<bool> attached{false};

    std::mutex mutex;  // guards everything below
    std::vector<Event> events;
    std::vector<std::string> created;    // nvtxDomainCreateA names, per call
    std::vector<std::string> destroyed;  // nvtxDomainDestroy names, per call
    std::map<std::string, std::map<std::uint32_t, std::string>> categories;
    std::map<std::string, std::size_t> registered_counts;
    // Handle storage: std::deque never moves its elements, and nothing is ever erased.
    std::deque<nvtxDomainRegistration_st> domain_store;
    std::map<std::string, nvtxDomainRegistration_st*> domain_by_name;
    std::unordered_set<const nvtxDomainRegistration_st*> known_domains;
    std::deque<nvtxStringRegistration_st> string_store;
    std::unordered_set<const nvtxStringRegistration_st*> known_strings;
    // Nesting depth per (thread, domain handle); the default domain is nullptr.
    std::map<std::pair<std::uint64_t, const void*>, int> depth;
};

// Never destroyed: NVTX calls may come from other threads or from static destructors
// while the process exits.
State& state() {
    static State* const s = new State;
    return *s;
}

std::uint64_t this_thread_id() {
    thread_local const std::uint64_t id = static_cast<std::uint64_t>(::syscall(SYS_gettid));
    return id;
}

// --- helpers; the caller holds state().mutex ---

std::string domain_name(const State& s, nvtxDomainHandle_t domain) {
    if (domain == nullptr) {
        return {};
    }
    if (s.known_domains.count(domain) == 0) {
        return "<unknown domain handle>";
    }
    return domain->name;
}

std::string narrow(const wchar_t* text) {
    std::string out;
    if (text != nullptr) {
        for (; *text != L'\0'; ++text) {
            out.push_back(*text >= 0 && *text < 0x80 ? static_cast<char>(*text) : '?');
        }
    }
    return out;
}

void fill_attributes(const State& s, const nvtxEventAttributes_t* attr, Event& e) {
    if (attr == nullptr) {
        return;
    }
    e.category = attr->category;
    e.has_color = attr->colorType == NVTX_COLOR_ARGB;
    e.color = e.has_color ? attr->color : 0;
    switch (attr->messageType) {
    case NVTX_MESSAGE_TYPE_ASCII:
        e.message = attr->message.ascii != nullptr ? attr->message.ascii : "";
        break;
    case NVTX_MESSAGE_TYPE_UNICODE:
        e.message = narrow(attr->message.unicode);
        break;
    case NVTX_MESSAGE_TYPE_REGISTERED:
        e.message_registered = true;
        if (attr->message.registered != nullptr &&
            s.known_strings.count(attr->message.registered) != 0) {
            e.message = attr->message.registered->text;
        } else {
            e.message = "<unknown registered string>";
        }
        break;
    default:
        break;
    }
}

Event new_event(Kind kind) {
    Event e;
    e.kind = kind;
    e.thread = this_thread_id();
    return e;
}

// --- the recording operations ---

int record_push(nvtxDomainHandle_t domain, const nvtxEventAttributes_t* attr) noexcept try {
    Event e = new_event(Kind::push);
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    e.domain = domain_name(s, domain);
    fill_attributes(s, attr, e);
    int& depth = s.depth[{e.thread, domain}];
    const int level = depth;  // NVTX: the 0-based level of the range being started
    e.depth_after = ++depth;
    s.events.push_back(std::move(e));
    return level;
} catch (...) {
    return -1;
}

int record_pop(nvtxDomainHandle_t domain) noexcept try {
    Event e = new_event(Kind::pop);
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    e.domain = domain_name(s, domain);
    int& depth = s.depth[{e.thread, domain}];
    int result = -1;  // NVTX: the level of the range being ended, negative on error
    if (depth > 0) {
        result = --depth;
    }
    e.depth_after = result;
    s.events.push_back(std::move(e));
    return result;
} catch (...) {
    return -1;
}

void record_mark(nvtxDomainHandle_t domain, const nvtxEventAttributes_t* attr) noexcept try {
    Event e = new_event(Kind::mark);
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    e.domain = domain_name(s, domain);
    fill_attributes(s, attr, e);
    const auto it = s.depth.find({e.thread, domain});
    e.depth_after = it != s.depth.end() ? it->second : 0;
    s.events.push_back(std::move(e));
} catch (...) {
}

void record_category(nvtxDomainHandle_t domain, std::uint32_t category, const char* name) noexcept try {
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    s.categories[domain_name(s, domain)][category] = name != nullptr ? name : "";
} catch (...) {
}

nvtxEventAttributes_t ascii_attributes(const char* message) {
    nvtxEventAttributes_t attr{};
    attr.version = NVTX_VERSION;
    attr.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    attr.messageType = NVTX_MESSAGE_TYPE_ASCII;
    attr.message.ascii = message;
    return attr;
}

// --- the callbacks installed in NVTX's tables (signatures from nvtxTypes.h) ---

// CORE2
void NVTX_API domain_mark_ex(nvtxDomainHandle_t domain, const nvtxEventAttributes_t* attr) {
    record_mark(domain, attr);
}

int NVTX_API domain_range_push_ex(nvtxDomainHandle_t domain, const nvtxEventAttributes_t* attr) {
    return record_push(domain, attr);
}

int NVTX_API domain_range_pop(nvtxDomainHandle_t domain) { return record_pop(domain); }

void NVTX_API domain_name_category_a(nvtxDomainHandle_t domain, std::uint32_t category, const char* name) {
    record_category(domain, category, name);
}

nvtxStringHandle_t NVTX_API domain_register_string_a(nvtxDomainHandle_t domain, const char* text) noexcept try {
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    std::string name = domain_name(s, domain);
    nvtxStringRegistration_st& entry =
        s.string_store.emplace_back(nvtxStringRegistration_st{name, text != nullptr ? text : ""});
    s.known_strings.insert(&entry);
    ++s.registered_counts[name];
    return &entry;
} catch (...) {
    return nullptr;
}

nvtxDomainHandle_t NVTX_API domain_create_a(const char* name_in) noexcept try {
    const std::string name = name_in != nullptr ? name_in : "";
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    s.created.push_back(name);
    auto [it, inserted] = s.domain_by_name.try_emplace(name, nullptr);
    if (inserted) {
        it->second = &s.domain_store.emplace_back(nvtxDomainRegistration_st{name});
        s.known_domains.insert(it->second);
    }
    return it->second;
} catch (...) {
    return nullptr;
}

void NVTX_API domain_destroy(nvtxDomainHandle_t domain) noexcept try {
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    s.destroyed.push_back(domain_name(s, domain));  // the storage stays: handles never dangle
} catch (...) {
}

// CORE (the default domain)
void NVTX_API mark_ex(const nvtxEventAttributes_t* attr) { record_mark(nullptr, attr); }

void NVTX_API mark_a(const char* message) {
    const nvtxEventAttributes_t attr = ascii_attributes(message);
    record_mark(nullptr, &attr);
}

int NVTX_API range_push_ex(const nvtxEventAttributes_t* attr) { return record_push(nullptr, attr); }

int NVTX_API range_push_a(const char* message) {
    const nvtxEventAttributes_t attr = ascii_attributes(message);
    return record_push(nullptr, &attr);
}

int NVTX_API range_pop() { return record_pop(nullptr); }

void NVTX_API name_category_a(std::uint32_t category, const char* name) {
    record_category(nullptr, category, name);
}

// Writes `fn` into the slot `id` of a module table got from GetModuleFunctionTable. The
// table is an array of pointers to NVTX's function-pointer globals; `size` is its number
// of valid ids (slot 0 and the terminating slot are null).
template <typename Fn>
bool install(NvtxFunctionTable table, unsigned int size, unsigned int id, Fn fn) {
    if (table == nullptr || id == 0 || id >= size || table[id] == nullptr) {
        return false;
    }
    *table[id] = reinterpret_cast<NvtxFunctionPointer>(fn);
    return true;
}

}  // namespace

bool attached() { return state().attached.load(std::memory_order_acquire); }

std::vector<Event> events() {
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    return s.events;
}

void clear() {
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    s.events.clear();
}

std::map<std::uint32_t, std::string> category_names(const std::string& domain) {
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    const auto it = s.categories.find(domain);
    return it != s.categories.end() ? it->second : std::map<std::uint32_t, std::string>{};
}

std::size_t registered_string_count(const std::string& domain) {
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    const auto it = s.registered_counts.find(domain);
    return it != s.registered_counts.end() ? it->second : 0;
}

std::vector<std::string> domains() {
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    return s.created;
}

std::vector<std::string> destroyed_domains() {
    State& s = state();
    const std::lock_guard<std::mutex> lock(s.mutex);
    return s.destroyed;
}

}  // namespace nvtx_capture

// The entry point NVTX looks up with dlsym after dlopen(NVTX_INJECTION64_PATH).
// Returns 1 on success; on 0, NVTX dlcloses the library (one reference less: the test's link
// keeps it loaded) and makes every NVTX call a no-op.
extern "C" NVTX_CAPTURE_API int NVTX_API InitializeInjectionNvtx2(NvtxGetExportTableFunc_t getExportTable) {
    using namespace nvtx_capture;
    if (getExportTable == nullptr) {
        return 0;
    }
    const auto* callbacks =
        static_cast<const NvtxExportTableCallbacks*>(getExportTable(NVTX_ETID_CALLBACKS));
    if (callbacks == nullptr || callbacks->struct_size < sizeof(NvtxExportTableCallbacks) ||
        callbacks->GetModuleFunctionTable == nullptr) {
        return 0;
    }

    NvtxFunctionTable core2 = nullptr;
    unsigned int core2_size = 0;
    NvtxFunctionTable core = nullptr;
    unsigned int core_size = 0;
    if (callbacks->GetModuleFunctionTable(NVTX_CB_MODULE_CORE2, &core2, &core2_size) == 0 ||
        callbacks->GetModuleFunctionTable(NVTX_CB_MODULE_CORE, &core, &core_size) == 0) {
        return 0;
    }

    // The explicit template arguments make the compiler check each callback's signature
    // against NVTX's own function-pointer type.
    bool ok = true;
    ok &= install<nvtxDomainMarkEx_impl_fntype>(core2, core2_size, NVTX_CBID_CORE2_DomainMarkEx, domain_mark_ex);
    ok &= install<nvtxDomainRangePushEx_impl_fntype>(core2, core2_size, NVTX_CBID_CORE2_DomainRangePushEx, domain_range_push_ex);
    ok &= install<nvtxDomainRangePop_impl_fntype>(core2, core2_size, NVTX_CBID_CORE2_DomainRangePop, domain_range_pop);
    ok &= install<nvtxDomainNameCategoryA_impl_fntype>(core2, core2_size, NVTX_CBID_CORE2_DomainNameCategoryA, domain_name_category_a);
    ok &= install<nvtxDomainRegisterStringA_impl_fntype>(core2, core2_size, NVTX_CBID_CORE2_DomainRegisterStringA, domain_register_string_a);
    ok &= install<nvtxDomainCreateA_impl_fntype>(core2, core2_size, NVTX_CBID_CORE2_DomainCreateA, domain_create_a);
    ok &= install<nvtxDomainDestroy_impl_fntype>(core2, core2_size, NVTX_CBID_CORE2_DomainDestroy, domain_destroy);
    ok &= install<nvtxMarkEx_impl_fntype>(core, core_size, NVTX_CBID_CORE_MarkEx, mark_ex);
    ok &= install<nvtxMarkA_impl_fntype>(core, core_size, NVTX_CBID_CORE_MarkA, mark_a);
    ok &= install<nvtxRangePushEx_impl_fntype>(core, core_size, NVTX_CBID_CORE_RangePushEx, range_push_ex);
    ok &= install<nvtxRangePushA_impl_fntype>(core, core_size, NVTX_CBID_CORE_RangePushA, range_push_a);
    ok &= install<nvtxRangePop_impl_fntype>(core, core_size, NVTX_CBID_CORE_RangePop, range_pop);
    ok &= install<nvtxNameCategoryA_impl_fntype>(core, core_size, NVTX_CBID_CORE_NameCategoryA, name_category_a);
    if (!ok) {
        return 0;
    }

    // Tools are asked to report the NVTX version they were built against.
    const auto* version =
        static_cast<const NvtxExportTableVersionInfo*>(getExportTable(NVTX_ETID_VERSIONINFO));
    if (version != nullptr && version->struct_size >= sizeof(NvtxExportTableVersionInfo) &&
        version->SetInjectionNvtxVersion != nullptr) {
        version->SetInjectionNvtxVersion(NVTX_VERSION);
    }

    state().attached.store(true, std::memory_order_release);
    return 1;
}
