#include "ledger.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstring>
#include <new>

namespace scope_profiler::cli::ledger {

namespace {

struct Slot {
    // 0: free; 1: being written (a handler skips it); 2: holds a path.
    std::atomic<int> state{0};
    char path[PATH_MAX];
};

struct Page {
    std::atomic<int> reading{0};
    char input[PATH_MAX];
    std::array<Slot, 64> temporaries;
};
static_assert(std::atomic<int>::is_always_lock_free, "the ledger is read by a signal handler");

Page* g_page = nullptr;

Page& page() {
    if (g_page == nullptr) map();
    return *g_page;
}

/// Copies text into a fixed buffer; false when it does not fit.
bool copy(char* buffer, const std::string& text) {
    if (text.size() >= PATH_MAX) return false;
    std::memcpy(buffer, text.c_str(), text.size() + 1);
    return true;
}

}  // namespace

void map() {
    if (g_page != nullptr) return;
    void* memory = ::mmap(nullptr, sizeof(Page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    // Without a shared mapping (never seen on Linux) the ledger is private memory: the command
    // works, only its supervisor cannot name the file or remove temporaries after a crash.
    g_page = memory != MAP_FAILED ? new (memory) Page : new Page;
}

void track_temporary(const std::string& path) {
    for (Slot& slot : page().temporaries) {
        int expected = 0;
        if (!slot.state.compare_exchange_strong(expected, 1)) continue;
        if (copy(slot.path, path)) {
            slot.state.store(2);
        } else {
            slot.state.store(0);
        }
        return;
    }
}

void untrack_temporary(const std::string& path) {
    for (Slot& slot : page().temporaries) {
        if (slot.state.load() == 2 && path == slot.path) {
            slot.state.store(0);
            return;
        }
    }
}

void remove_temporaries() noexcept {
    if (g_page == nullptr) return;
    for (Slot& slot : g_page->temporaries) {
        if (slot.state.load() == 2) ::unlink(slot.path);
    }
}

void set_reading(const std::string& path) {
    Page& p = page();
    if (!copy(p.input, path)) {  // a name too long to keep: its start, marked as cut
        std::memcpy(p.input, path.data(), PATH_MAX - 4);
        std::memcpy(p.input + PATH_MAX - 4, "...", 4);
    }
    p.reading.store(1);
}

void clear_reading() noexcept {
    if (g_page != nullptr) g_page->reading.store(0);
}

const char* reading() noexcept { return g_page != nullptr && g_page->reading.load() != 0 ? g_page->input : nullptr; }

}  // namespace scope_profiler::cli::ledger
