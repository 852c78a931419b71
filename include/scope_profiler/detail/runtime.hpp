#pragma once
// The hot path: what a scope does on entry and exit, inlined into the user's code.
// Nothing here locks, allocates or looks a name up in steady state. Users do not include this.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "scope_profiler/detail/compiler.hpp"
#include "scope_profiler/region.hpp"

namespace scope_profiler::detail {

/// What every scope does, chosen once per session at setup() (and switched off at finalize()).
enum class Mode : std::uint8_t { off = 0, count = 1, time = 2 };

/// The session state every scope reads once on entry: `(epoch << 8) | mode`. The epoch is bumped
/// by setup() and finalize(), so a scope can tell at exit whether its session is still the
/// current one (a call belongs to the session it started in), and a thread's cache can tell
/// whether it is stale. Written only by setup() and finalize().
struct alignas(64) SessionWord {
    std::atomic<std::uint32_t> word{0};
};
extern SCOPE_PROFILER_CONSTINIT SessionWord g_session;

/// Set in the session state when every scope also emits an NVTX range.
inline constexpr std::uint32_t kNvtxFlag = 4;
/// Set in the session state when scopes read the time-stamp counter (Config::clock = tsc): the
/// host blocks then hold ticks, which core/tick_clock.cpp maps onto steady_clock nanoseconds
/// wherever they are read.
inline constexpr std::uint32_t kTscFlag = 8;

inline std::uint32_t current_state() noexcept { return g_session.word.load(std::memory_order_relaxed); }
inline constexpr Mode mode_of(std::uint32_t state) noexcept { return static_cast<Mode>(state & 3u); }
inline constexpr bool nvtx_of(std::uint32_t state) noexcept { return (state & kNvtxFlag) != 0; }
inline constexpr bool tsc_of(std::uint32_t state) noexcept { return (state & kTscFlag) != 0; }
inline Mode current_mode() noexcept { return mode_of(current_state()); }

/// The state a new scope starts with: 0 (inert) where SCOPE_PROFILER_DISABLE compiles it out.
inline std::uint32_t scope_state() noexcept {
#if defined(SCOPE_PROFILER_DISABLE)
    return 0;
#else
    return current_state();
#endif
}

/// NVTX ranges in the domain "scope_profiler" (core/nvtx.cpp; core/no_nvtx.cpp, no-ops, in builds
/// without the NVTX3 headers).
/// Category 1 is "host", 2 is "device". Each region's string and color are registered once.
enum class NvtxCategory : std::uint32_t { host = 1, device = 2 };
void nvtx_push(const Region& region, NvtxCategory category) noexcept;
void nvtx_pop() noexcept;
/// Makes the NVTX domain (once) and says whether this build emits NVTX; setup() calls it and
/// sets kNvtxFlag only when it returns true.
bool nvtx_prepare() noexcept;

/// Timestamps in a block are written by one thread and published by `size` (release).
/// A block is exactly 16 KiB, carved from 2 MiB chunks (core/block_pool.cpp).
inline constexpr std::uint32_t kBlockCapacity = 1020;
struct alignas(64) Block {
    std::atomic<std::uint32_t> size{0};
    /// The size at which the owner's next call takes the slow path: kBlockCapacity (the block is
    /// full), or less where that call is the last of a buffer_limit batch (a flush mark).
    /// Written and read by the owning thread only; it shares the cache line of `size`.
    std::uint32_t limit = kBlockCapacity;
    std::int64_t start[kBlockCapacity];
    std::int64_t end[kBlockCapacity];
};
static_assert(sizeof(Block) == 16384);

/// One thread's calls of one region in one session. Owned by the Region, so the data outlives
/// the thread. The owning thread writes without a lock; `mutex` guards the block lists and is
/// taken only when a block fills (once per kBlockCapacity calls), by readers and by the flusher.
///
/// The intervals still in memory are, oldest first: the blocks of `filled`, then `current` up
/// to its published size. The flusher writes them to disk from the oldest on, without stopping
/// the owner: the first `flushed` intervals of the oldest block (filled.front(), or current when
/// `filled` is empty) are on disk already, and a block entirely on disk leaves `filled`.
struct alignas(64) ThreadRecorder {
    Block* current = nullptr;                 // owner reads freely; changed only under mutex
    std::atomic<std::uint64_t> calls{0};      // written by the owner only
    std::int32_t thread_index = 0;
    Region* region = nullptr;
    std::uint64_t current_base = 0;           // owner only: the call number of current->start[0]
    std::uint64_t next_mark = UINT64_MAX;     // owner only: the call number that ends the batch
    std::mutex mutex;
    std::uint32_t flushed = 0;                // on disk at the head of the oldest block (mutex)
    std::vector<Block*> filled;               // blocks the owner filled, not all on disk yet, in order
    std::atomic<std::uint32_t> filled_count{0};  // filled.size(), stored under mutex, read by the owner

    ThreadRecorder(Region* owner, std::int32_t thread) : thread_index(thread), region(owner) {}
    ~ThreadRecorder();
    /// Starts recording into `first`, with the session's flush marks.
    void begin(Block* first) noexcept;
    /// The owner's slow path, when current->size reaches current->limit: when the block is
    /// full, moves it to `filled` and starts a new one; appends the interval; when it ends a batch
    /// of buffer_limit calls (the session flushes), wakes the flusher. False when memory ran out.
    bool push_at_limit(std::int64_t start, std::int64_t end) noexcept;
};

/// Scopes a thread has open, for the report at finalize(); deeper ones are counted, not named.
inline constexpr std::uint32_t kMaxTrackedDepth = 32;

/// Per-thread cache from region id to this thread's recorder. Constant-initialized, so reaching
/// it costs one TLS-relative load with no guard or wrapper call.
struct ThreadCache {
    ThreadRecorder** slots = nullptr;
    std::uint32_t n_slots = 0;
    std::uint32_t state = 0;  // the session state (g_session) the slots belong to
    /// Nonzero while this thread holds one of its recorders (RecordingMark): setup() frees the
    /// old session's recorders only once no thread is marked (core/quiescence.hpp).
    std::atomic<std::uint32_t> recording{0};
    bool registered = false;
    std::int32_t thread_index = -1;
    std::atomic<std::uint32_t> depth{0};
    std::atomic<const Region*> open[kMaxTrackedDepth] = {};
};
extern thread_local SCOPE_PROFILER_CONSTINIT ThreadCache t_cache;

/// A macro's call site: the region it names, found on the first pass that records.
/// Constant-initialized, so a pass costs one load and no guard check.
struct CallSite {
    std::atomic<Region*> region{nullptr};
};

/// Looks up (creating if new) the region of a call site and caches it there.
SCOPE_PROFILER_NOINLINE Region* resolve_site(CallSite& site, std::string_view name);
[[noreturn]] SCOPE_PROFILER_NOINLINE void throw_empty_name();

/// The library's one way into a Region's private parts (core/ and cuda/; users never need it).
/// What every call reads is a member of the Region itself; the rest is its RegionState
/// (core/region_state.hpp), one pointer away, for the slow paths, the queries and the flusher.
struct RegionAccess {
    static std::uint32_t id(const Region& r) noexcept { return r.id_; }
    static std::uint64_t hash(const Region& r) noexcept { return r.hash_; }
    static const std::atomic<std::uint64_t>& session(const Region& r) noexcept { return r.session_; }
    static std::atomic<std::uint64_t>& session(Region& r) noexcept { return r.session_; }
    static std::atomic<const void*>& nvtx(const Region& r) noexcept { return r.nvtx_; }
    static RegionState& state(const Region& r) noexcept { return *r.state_; }
    /// A new region with its state (the registry makes one per name; core/region.cpp).
    static std::unique_ptr<Region> make(std::string name, std::uint64_t hash, std::uint32_t id);
};

inline std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// The invariant time-stamp counter: rdtsc on x86-64, cntvct_el0 on AArch64 (setup() turns
/// kTscFlag on only where it is usable; elsewhere this is never called).
inline std::int64_t read_ticks() noexcept {
#if defined(__CUDA_ARCH__)
    return 0;  // nvcc's device pass: host code, never run there
#elif defined(__x86_64__)
    std::uint32_t low, high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    return static_cast<std::int64_t>((static_cast<std::uint64_t>(high) << 32) | low);
#elif defined(__aarch64__)
    std::uint64_t ticks;
    asm volatile("mrs %0, cntvct_el0" : "=r"(ticks));
    return static_cast<std::int64_t>(ticks);
#else
    return now_ns();
#endif
}

/// What a scope of the session `state` records as a time: ticks with kTscFlag, else nanoseconds.
inline std::int64_t host_now(std::uint32_t state) noexcept {
    return tsc_of(state) ? read_ticks() : now_ns();
}

// Out of line: first use of a region on a thread, a new session, a full block.
SCOPE_PROFILER_NOINLINE void register_thread() noexcept;
SCOPE_PROFILER_NOINLINE void record_slow(Region& region, std::int64_t start, std::int64_t end,
                                         std::uint32_t state) noexcept;
SCOPE_PROFILER_NOINLINE void count_dropped(Region& region) noexcept;

/// This thread's recorder of `region` for the session `state`, or nullptr (slow path).
inline ThreadRecorder* cached_recorder(const Region& region, std::uint32_t state) noexcept {
    ThreadCache& cache = t_cache;
    const std::uint32_t id = RegionAccess::id(region);
    if SCOPE_PROFILER_LIKELY(id < cache.n_slots && cache.state == state) return cache.slots[id];
    return nullptr;
}

/// Whether the session a scope started in (`state`) is still the current one.
inline bool same_session(std::uint32_t state) noexcept { return state == current_state(); }

inline void bump_calls(ThreadRecorder* recorder) noexcept {
    // Only the owning thread writes: a load and a store, no read-modify-write.
    recorder->calls.store(recorder->calls.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
}

/// Appends one interval to the owning thread's recorder; false when memory ran out.
inline bool push_interval(ThreadRecorder* recorder, std::int64_t start, std::int64_t end) noexcept {
    Block* block = recorder->current;
    const std::uint32_t n = block->size.load(std::memory_order_relaxed);
    if SCOPE_PROFILER_UNLIKELY(n == block->limit) return recorder->push_at_limit(start, end);
    block->start[n] = start;
    block->end[n] = end;
    block->size.store(n + 1, std::memory_order_release);
    bump_calls(recorder);
    return true;
}

/// Marks the thread while it holds a recorder: from before it reads the session state until
/// its last write to the recorder. Plain stores: the ordering against setup() comes from the
/// barrier setup() makes every thread execute (core/quiescence.hpp).
struct RecordingMark {
    ThreadCache& cache;
    explicit RecordingMark(ThreadCache& c) noexcept : cache(c) {
        cache.recording.store(1, std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);  // the mark before the state's read
    }
    ~RecordingMark() { cache.recording.store(0, std::memory_order_release); }
    RecordingMark(const RecordingMark&) = delete;
    RecordingMark& operator=(const RecordingMark&) = delete;
};

/// Records a timed call that started in session `state`; a call that straddled setup() or
/// finalize() belongs to no session and is dropped.
inline void record_time(Region& region, std::int64_t start, std::int64_t end,
                        std::uint32_t state) noexcept {
    const RecordingMark mark(t_cache);
    ThreadRecorder* recorder = cached_recorder(region, state);
    if SCOPE_PROFILER_UNLIKELY(recorder == nullptr || !same_session(state)) {
        record_slow(region, start, end, state);
    } else if SCOPE_PROFILER_UNLIKELY(!push_interval(recorder, start, end)) {
        count_dropped(region);
    }
}

inline void record_count(Region& region, std::uint32_t state) noexcept {
    const RecordingMark mark(t_cache);
    ThreadRecorder* recorder = cached_recorder(region, state);
    if SCOPE_PROFILER_UNLIKELY(recorder == nullptr || !same_session(state)) {
        record_slow(region, 0, 0, state);
        return;
    }
    bump_calls(recorder);
}

inline void push_open(const Region* region) noexcept {
    ThreadCache& cache = t_cache;
    if SCOPE_PROFILER_UNLIKELY(!cache.registered) register_thread();
    const std::uint32_t depth = cache.depth.load(std::memory_order_relaxed);
    if (depth < kMaxTrackedDepth) cache.open[depth].store(region, std::memory_order_relaxed);
    cache.depth.store(depth + 1, std::memory_order_relaxed);
}

inline void pop_open() noexcept {
    ThreadCache& cache = t_cache;
    cache.depth.store(cache.depth.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

}  // namespace scope_profiler::detail
