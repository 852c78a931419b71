#pragma once
// nvtx_capture: an NVTX injection library for tests.
//
// NVTX (header-only, v3) looks at the environment variable NVTX_INJECTION64_PATH on the
// first NVTX call of the process; when it is set, NVTX dlopen()s that library, calls its
// exported `extern "C" int InitializeInjectionNvtx2(NvtxGetExportTableFunc_t)`, and from
// then on routes the NVTX calls to the callbacks that function installed. This library is
// such an injection: it records the calls below, thread-safely, and exposes them here.
//
// Recorded (every call, from any thread):
//   CORE2 module: nvtxDomainCreateA, nvtxDomainDestroy, nvtxDomainRegisterStringA,
//                 nvtxDomainNameCategoryA, nvtxDomainRangePushEx, nvtxDomainRangePop,
//                 nvtxDomainMarkEx
//   CORE module (the default domain, recorded with domain ""):
//                 nvtxRangePushEx, nvtxRangePushA, nvtxRangePop, nvtxMarkEx, nvtxMarkA,
//                 nvtxNameCategoryA
// Every other NVTX function (the W variants, start/end ranges, resources, CUDA naming...)
// is left to NVTX, which turns it into a no-op once a tool is attached: nothing records it.
// A domain call with a NULL domain handle goes to the default domain and is recorded with
// domain "" as well.
//
// How a test uses it (the state is shared; verified by the self-test, "SharedInstance"):
//   * Link the test executable against the `nvtx_capture` target, include this header,
//     and run the test with NVTX_INJECTION64_PATH=$<TARGET_FILE:nvtx_capture>.
//   * The executable then has libnvtx_capture.so loaded at start-up (DT_NEEDED, found
//     through the build tree's RUNPATH). When NVTX later calls dlopen() on the absolute
//     path from the environment, glibc returns that already-loaded object instead of
//     loading a second copy: it matches a request against the loaded objects by name and
//     SONAME and, failing that, by file identity (device and inode), so even a different
//     spelling of the path or a symlink to the file gives the same object. NVTX therefore
//     calls InitializeInjectionNvtx2 in the very copy whose functions the test calls, and
//     the functions below see what NVTX recorded. No dlsym is needed.
//   * Every module that compiles NVTX in (the test, a library under test) has its own
//     NVTX globals and initializes on its own first call; each gets the same loaded object,
//     so InitializeInjectionNvtx2 may run once per module and all of them record here.
//   * Without the variable, NVTX attaches nothing: attached() stays false, the NVTX calls
//     are no-ops (nvtxDomainCreateA returns NULL) and nothing is recorded.
//   * Call any NVTX function (nvtxInitialize(nullptr) does) before checking attached():
//     NVTX loads the injection lazily, on its first call.
//
// Handles: a domain handle is a pointer to storage owned here that is never freed (not even
// by nvtxDomainDestroy), and nvtxDomainCreateA returns the same handle for the same name.
// A registered string handle is a pointer to a never-freed copy of the text; every
// nvtxDomainRegisterStringA call makes a new one. Handles therefore stay valid for the whole
// process, across clear(), and an event message given as a handle is resolved to its text.
#include <cstddef>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#if defined(_WIN32)
#define NVTX_CAPTURE_API
#else
#define NVTX_CAPTURE_API __attribute__((visibility("default")))
#endif

namespace nvtx_capture {

enum class Kind { push, pop, mark };

struct Event {
    Kind kind = Kind::mark;
    std::string domain;               // the domain's name ("" for the default domain)
    std::string message;              // resolved: registered strings resolved to their text,
                                      // ASCII messages copied (wide ones narrowed, non-ASCII as '?')
    bool message_registered = false;  // true when the message was an nvtxStringHandle_t
    std::uint32_t color = 0;          // ARGB when colorType == NVTX_COLOR_ARGB, else 0
    bool has_color = false;
    std::uint32_t category = 0;
    std::uint64_t thread = 0;         // the calling thread's kernel id (gettid())
    int depth_after = 0;              // push/pop nesting depth of that thread in that domain
                                      // after the call; a mark leaves it unchanged; a pop
                                      // with no open range records -1 (and the depth stays 0)
};

/// True once NVTX called InitializeInjectionNvtx2 and the callbacks are installed.
NVTX_CAPTURE_API bool attached();

/// The recorded push/pop/mark events, a copy, in call order (across all threads).
NVTX_CAPTURE_API std::vector<Event> events();

/// Forgets the recorded events (only those). Domains, category names, registered-string
/// counts and the per-thread nesting depths are process-wide state and are kept, so that a
/// domain created or a category named once per process (e.g. by a function-local static)
/// stays visible to every test, whatever the order the tests run in.
NVTX_CAPTURE_API void clear();

/// The names given with nvtxDomainNameCategoryA in that domain ("" for the default domain,
/// nvtxNameCategoryA); a later name for the same id replaces the earlier one.
NVTX_CAPTURE_API std::map<std::uint32_t, std::string> category_names(const std::string& domain);

/// The number of nvtxDomainRegisterStringA calls for that domain ("" for a NULL domain).
NVTX_CAPTURE_API std::size_t registered_string_count(const std::string& domain);

/// The names passed to nvtxDomainCreateA, one entry per call, in call order.
NVTX_CAPTURE_API std::vector<std::string> domains();

/// The names of the domains passed to nvtxDomainDestroy, one entry per call, in call order.
NVTX_CAPTURE_API std::vector<std::string> destroyed_domains();

inline const char* to_string(Kind kind) {
    switch (kind) {
    case Kind::push: return "push";
    case Kind::pop: return "pop";
    case Kind::mark: return "mark";
    }
    return "?";
}

/// For readable test failures, e.g. EXPECT_EQ(...) << event.
inline std::ostream& operator<<(std::ostream& out, const Event& e) {
    out << to_string(e.kind) << " domain=\"" << e.domain << "\" message=\"" << e.message << '"'
        << (e.message_registered ? " (registered)" : "") << " category=" << e.category;
    if (e.has_color) {
        out << " color=0x" << std::hex << e.color << std::dec;
    }
    return out << " thread=" << e.thread << " depth_after=" << e.depth_after;
}

}  // namespace nvtx_capture
