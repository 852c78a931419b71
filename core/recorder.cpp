// The slow paths of recording (declared in detail/runtime.hpp): a thread's first scope, a
// recorder's first call in a session, a full block (ThreadRecorder::push_at_limit), a call
// site's first pass; and the per-thread cache they fill (t_cache).
#include <algorithm>
#include <new>
#include <stdexcept>
#include <string_view>

#include "block_pool.hpp"
#include "flusher.hpp"
#include "library_threads.hpp"
#include "region_state.hpp"
#include "registry.hpp"

namespace scope_profiler::detail {

thread_local constinit ThreadCache t_cache;

namespace {

// Releases a thread's cache when the thread ends; the data it recorded stays with the regions.
struct ThreadGuard {
    ThreadGuard() { Registry::instance().add_thread(&t_cache); }
    ~ThreadGuard() {
        Registry::instance().remove_thread(&t_cache);
        delete[] t_cache.slots;
        t_cache.slots = nullptr;
        t_cache.n_slots = 0;
    }
};

}  // namespace

// ---- the slow paths of the hot path (declared in detail/runtime.hpp) ----

void register_thread() noexcept {
    ThreadCache& cache = t_cache;
    if (cache.registered) return;
    try {
        thread_local ThreadGuard guard;
        cache.registered = true;
        watch_for_last_program_thread();
    } catch (...) {
        // Out of memory: the thread records anyway, but finalize() cannot name its open scopes.
    }
}

void count_dropped(Region& region) noexcept {
    RegionAccess::state(region).dropped.fetch_add(1, std::memory_order_relaxed);
}

void record_slow(Region& region, std::int64_t start, std::int64_t end,
                 std::uint32_t state) noexcept {
    // A call that started before the current setup() or finalize() belongs to no session.
    if (!same_session(state)) return;
    ThreadCache& cache = t_cache;
    if (!cache.registered) register_thread();
    if (cache.state != state) {
        std::fill_n(cache.slots, cache.n_slots, nullptr);
        cache.state = state;
    }
    const std::uint32_t id = RegionAccess::id(region);
    if (id >= cache.n_slots) {
        const std::uint32_t size = std::max({2 * cache.n_slots, id + 1, 64u});
        auto* slots = new (std::nothrow) ThreadRecorder*[size];
        if (slots == nullptr) {
            count_dropped(region);
            return;
        }
        std::copy_n(cache.slots, cache.n_slots, slots);
        std::fill(slots + cache.n_slots, slots + size, nullptr);
        delete[] cache.slots;
        cache.slots = slots;
        cache.n_slots = size;
    }
    const bool timed = mode_of(state) == Mode::time;
    ThreadRecorder*& slot = cache.slots[id];
    if (slot == nullptr) {
        slot = Registry::instance().attach(region, cache.thread_index, timed);
        if (slot == nullptr) {
            count_dropped(region);
            return;
        }
    }
    if (!timed) {
        bump_calls(slot);
    } else if (!push_interval(slot, start, end)) {
        count_dropped(region);
    }
}

// ---- ThreadRecorder ----

ThreadRecorder::~ThreadRecorder() {
    for (Block* block : filled) release_block(block);
    release_block(current);
}

namespace {

// The block's limit: the size at which the owner's next call takes the slow path (the block is
// full, or that call ends a batch). next_mark >= base + the block's size, always.
std::uint32_t limit_in(std::uint64_t base, std::uint64_t next_mark) noexcept {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(kBlockCapacity, next_mark - base));
}

}  // namespace

void ThreadRecorder::begin(Block* first) noexcept {
    current = first;
    current_base = 0;
    const std::size_t every = flush_limit();
    next_mark = every == 0 ? UINT64_MAX : every - 1;  // the last call of the first batch
    first->limit = limit_in(current_base, next_mark);
}

bool ThreadRecorder::push_at_limit(std::int64_t start, std::int64_t end) noexcept {
    Block* block = current;
    std::uint32_t n = block->size.load(std::memory_order_relaxed);
    if (n == kBlockCapacity) {
        // More filled blocks not on disk than allowed: the disk cannot keep up (back-pressure).
        const std::uint32_t allowed = pending_block_limit();
        if (allowed != 0 && filled_count.load(std::memory_order_relaxed) >= allowed &&
            !make_room(filled_count, allowed)) {
            RegionState& state = RegionAccess::state(*region);
            state.backpressure_dropped.fetch_add(1, std::memory_order_relaxed);
            return true;  // dropped, and counted as such
        }
        Block* fresh = acquire_block();
        if (fresh == nullptr) return false;  // the block stays full: the next call tries again
        try {
            std::lock_guard lock(mutex);
            filled.push_back(block);
            filled_count.store(static_cast<std::uint32_t>(filled.size()), std::memory_order_relaxed);
            current = fresh;
        } catch (...) {
            release_block(fresh);
            return false;
        }
        current_base += kBlockCapacity;
        block = fresh;
        n = 0;
    }
    block->start[n] = start;
    block->end[n] = end;
    block->size.store(n + 1, std::memory_order_release);
    bump_calls(this);
    if (current_base + n == next_mark) {
        // This call ends a batch of buffer_limit: the batch goes to disk now, off this thread.
        // (Never at or below this call: the flusher may have stopped, flush_limit() is 0 then.)
        const std::size_t every = flush_limit();
        next_mark = every == 0 ? UINT64_MAX : next_mark + every;
        request_flush();
    }
    block->limit = limit_in(current_base, next_mark);
    return true;
}

// ---- the look-ups of a call site and of a scope by name (and the empty name's error) ----

void throw_empty_name() {
    throw std::invalid_argument(
        "scope_profiler: a region name must not be empty (it is the region's identity)");
}

Region* resolve_site(CallSite& site, std::string_view name) {
    Registry& registry = Registry::instance();
    Region& region = registry.get_or_create(name);
    if (!registry.listed(region)) registry.activate(region);
    site.region.store(&region, std::memory_order_release);
    return &region;
}

Region* region_for_scope(std::string_view name) {
    if (current_mode() == Mode::off) {
        if (name.empty()) throw_empty_name();
        return nullptr;
    }
    Registry& registry = Registry::instance();
    Region& region = registry.get_or_create(name);
    if (!registry.listed(region)) registry.activate(region);
    return &region;
}

}  // namespace scope_profiler::detail
