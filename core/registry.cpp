// The registry: regions by name and id (a lock-free table for look-ups), the recorders a region
// gets on first use by a thread, and the threads that record. The session's lifecycle is in
// session.cpp, the slow paths of recording in recorder.cpp.
#include "registry.hpp"

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "block_pool.hpp"
#include "flusher.hpp"
#include "quiescence.hpp"
#include "region_state.hpp"

namespace scope_profiler::detail {

// Open addressing, linear probing, load factor at most 1/2. Readers probe without a lock;
// a slot, once set, never changes, and a table that is replaced stays alive (tables_).
struct Registry::Table {
    explicit Table(std::size_t capacity)
        : mask(capacity - 1), slots(new std::atomic<Region*>[capacity]) {
        for (std::size_t i = 0; i < capacity; ++i) slots[i].store(nullptr, std::memory_order_relaxed);
    }
    std::size_t mask;
    std::unique_ptr<std::atomic<Region*>[]> slots;
    std::size_t used = 0;  // writers only, under the registry mutex
};

namespace {

std::uint64_t hash_name(std::string_view name) noexcept { return std::hash<std::string_view>{}(name); }

}  // namespace

Registry::Registry() {
    tables_.push_back(std::make_unique<Table>(256));
    table_.store(tables_.back().get(), std::memory_order_release);
}

Registry& Registry::instance() {
    static Registry* const registry = new Registry();  // leaked on purpose: see the header
    return *registry;
}

Region* Registry::find_in(const Table& table, std::string_view name,
                          std::uint64_t hash) const noexcept {
    for (std::size_t i = hash & table.mask;; i = (i + 1) & table.mask) {
        Region* region = table.slots[i].load(std::memory_order_acquire);
        if (region == nullptr) return nullptr;
        if (RegionAccess::hash(*region) == hash && region->name() == name) return region;
    }
}

Region* Registry::find(std::string_view name) const noexcept {
    return find_in(*table_.load(std::memory_order_acquire), name, hash_name(name));
}

void Registry::insert(Table& table, Region* region) noexcept {
    std::size_t i = RegionAccess::hash(*region) & table.mask;
    while (table.slots[i].load(std::memory_order_relaxed) != nullptr) i = (i + 1) & table.mask;
    table.slots[i].store(region, std::memory_order_release);
    ++table.used;
}

Region& Registry::get_or_create(std::string_view name) {
    if (name.empty()) throw_empty_name();
    const std::uint64_t hash = hash_name(name);
    if (Region* found = find_in(*table_.load(std::memory_order_acquire), name, hash)) return *found;

    std::lock_guard lock(mutex_);
    Table* table = table_.load(std::memory_order_relaxed);
    if (Region* found = find_in(*table, name, hash)) return *found;  // created meanwhile
    if (regions_.size() >= UINT32_MAX) throw std::length_error("scope_profiler: too many regions");
    regions_.push_back(
        RegionAccess::make(std::string(name), hash, static_cast<std::uint32_t>(regions_.size())));
    Region* region = regions_.back().get();
    if (2 * (table->used + 1) > table->mask + 1) {
        auto bigger = std::make_unique<Table>(2 * (table->mask + 1));
        for (const auto& r : regions_) insert(*bigger, r.get());
        tables_.push_back(std::move(bigger));
        table_.store(tables_.back().get(), std::memory_order_release);
    } else {
        insert(*table, region);
    }
    return *region;
}

void Registry::activate(Region& region) {
    std::lock_guard lock(mutex_);
    const std::uint64_t session = session_.load(std::memory_order_relaxed);
    std::atomic<std::uint64_t>& listed_in = RegionAccess::session(region);
    if (listed_in.load(std::memory_order_relaxed) == session) return;
    listed_.push_back(&region);
    listed_in.store(session, std::memory_order_relaxed);
}

ThreadRecorder* Registry::attach(Region& region, std::int32_t thread_index, bool timed) noexcept {
    try {
        auto recorder = std::make_unique<ThreadRecorder>(&region, thread_index);
        if (timed) {
            Block* first = acquire_block();
            if (first == nullptr) return nullptr;
            recorder->begin(first);
        }
        ThreadRecorder* raw = recorder.get();
        {
            RegionState& state = RegionAccess::state(region);
            std::lock_guard lock(state.mutex);
            state.recorders.push_back(std::move(recorder));
        }
        if (!listed(region)) activate(region);
        if (timed) watch_for_flush(region);
        return raw;
    } catch (...) {  // std::bad_alloc or std::system_error from a mutex
        return nullptr;
    }
}

void Registry::add_thread(ThreadCache* cache) {
    std::lock_guard lock(threads_mutex_);
    threads_.push_back(cache);
    cache->thread_index = next_thread_index_++;
}

void Registry::remove_thread(ThreadCache* cache) noexcept {
    std::lock_guard lock(threads_mutex_);
    std::erase(threads_, cache);
}

bool Registry::wait_until_no_thread_holds_a_recorder() const noexcept {
    if (!barrier_on_every_thread()) return false;
    for (;;) {
        bool marked = false;
        {
            // Looked at under the lock, so that no thread's cache goes away meanwhile; released
            // between looks, so that an ending thread is not held up.
            std::lock_guard lock(threads_mutex_);
            for (const ThreadCache* cache : threads_)
                marked = marked || (cache != &t_cache &&
                                    cache->recording.load(std::memory_order_acquire) != 0);
        }
        if (!marked) return true;
        std::this_thread::yield();  // a marked thread is a few instructions from its end
    }
}

}  // namespace scope_profiler::detail
