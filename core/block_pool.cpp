#include "block_pool.hpp"

#include <cstdint>
#include <cstdlib>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "library_threads.hpp"

namespace scope_profiler::detail {
namespace {

constexpr std::size_t kChunkBytes = std::size_t{2} << 20;  // one x86-64 huge page
constexpr std::size_t kBlocksPerChunk = kChunkBytes / sizeof(Block) - 1;  // slot 0: the header
constexpr std::size_t kReadyChunks = 2;     // faulted in ahead of demand (4 MiB)
constexpr std::size_t kMaxReadyChunks = 8;  // emptied chunks kept for reuse (16 MiB)

// Lives in the chunk's first block-sized slot; a block finds it by masking its address.
struct ChunkHeader {
    std::size_t carved = 0;  // blocks carved so far
    std::size_t live = 0;        // blocks carved and not returned
};
static_assert(sizeof(ChunkHeader) <= sizeof(Block));

void* map_chunk() noexcept {
#if defined(__linux__)
    // Map twice the size and trim to a 2 MiB-aligned window, so the kernel can back it with
    // one huge page.
    const std::size_t span = 2 * kChunkBytes;
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto base = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (base + kChunkBytes - 1) & ~(kChunkBytes - 1);
    if (aligned > base) ::munmap(raw, aligned - base);
    if (base + span > aligned + kChunkBytes) {
        ::munmap(reinterpret_cast<void*>(aligned + kChunkBytes), base + span - aligned - kChunkBytes);
    }
    ::madvise(reinterpret_cast<void*>(aligned), kChunkBytes, MADV_HUGEPAGE);  // a hint only
    return reinterpret_cast<void*>(aligned);
#else
    return std::aligned_alloc(kChunkBytes, kChunkBytes);
#endif
}

void unmap_chunk(void* chunk) noexcept {
#if defined(__linux__)
    ::munmap(chunk, kChunkBytes);
#else
    std::free(chunk);
#endif
}

ChunkHeader* chunk_of(Block* block) noexcept {
    return reinterpret_cast<ChunkHeader*>(reinterpret_cast<std::uintptr_t>(block) &
                                          ~(kChunkBytes - 1));
}

// Touches every page of a fresh chunk, so the page faults (and the kernel zeroing the memory,
// which on a virtual machine touching guest memory for the first time can cost more than the
// recording itself) happen here, not on a thread that records.
void fault_in(void* chunk) noexcept {
    auto* bytes = static_cast<volatile char*>(chunk);
    for (std::size_t offset = 0; offset < kChunkBytes; offset += 4096) bytes[offset] = 0;
}

ChunkHeader* new_chunk() noexcept {
    void* memory = map_chunk();
    if (memory == nullptr) return nullptr;
    fault_in(memory);
    return new (memory) ChunkHeader();
}

// Chunks ready for use: recycled ones and ones the refill thread faulted in ahead of demand.
// A recording thread never waits for the refill thread: when nothing is ready it maps a chunk
// itself.
struct Pool {
    std::mutex mutex;
    std::condition_variable wake_refill;
    ChunkHeader* current = nullptr;    // the chunk blocks are carved from
    std::vector<ChunkHeader*> ready;  // faulted in, empty
    bool refill_started = false;

    void refill_loop() {
        std::unique_lock lock(mutex);
        for (;;) {
            // Once a second when idle: a program whose threads have all ended is not kept
            // alive by this one (see library_threads.hpp).
            if (!wake_refill.wait_for(lock, std::chrono::seconds(1),
                                      [this] { return ready.size() < kReadyChunks; })) {
                lock.unlock();
                exit_if_the_program_has_ended();
                lock.lock();
                continue;
            }
            lock.unlock();
            ChunkHeader* chunk = new_chunk();
            lock.lock();
            if (chunk == nullptr) {  // out of memory: leave it to the recording threads
                wake_refill.wait(lock);
                continue;
            }
            ready.push_back(chunk);
        }
    }

    /// Called with the mutex held, each time a ready chunk is taken.
    void ask_for_refill() noexcept {
        if (!refill_started) {
            refill_started = true;  // also when it cannot start: then chunks are mapped inline
            try {
                // A library thread that never ends: it must not keep an ended program alive.
                start_library_thread([this] { refill_loop(); }).detach();
            } catch (...) {
            }
        }
        wake_refill.notify_one();
    }
};

Pool& pool() {
    static Pool* const p = new Pool();  // never destroyed: threads may return blocks at exit
    return *p;
}

}  // namespace

Block* acquire_block() noexcept {
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    if (p.current == nullptr || p.current->carved == kBlocksPerChunk) {
        ChunkHeader* chunk = nullptr;
        if (!p.ready.empty()) {
            chunk = p.ready.back();
            p.ready.pop_back();
        } else if ((chunk = new_chunk()) == nullptr) {
            return nullptr;
        }
        p.ask_for_refill();
        *chunk = ChunkHeader{};
        // A full chunk with live blocks is owned by those blocks now; an empty one is reused.
        if (p.current != nullptr && p.current->live == 0) p.ready.push_back(p.current);
        p.current = chunk;
    }
    ChunkHeader* chunk = p.current;
    auto* slot = reinterpret_cast<Block*>(reinterpret_cast<char*>(chunk) +
                                          (1 + chunk->carved) * sizeof(Block));
    ++chunk->carved;
    ++chunk->live;
    return new (slot) Block;  // default-initialized: only `size` is written
}

void release_block(Block* block) noexcept {
    if (block == nullptr) return;
    Pool& p = pool();
    ChunkHeader* chunk = chunk_of(block);
    block->~Block();
    std::lock_guard lock(p.mutex);
    if (--chunk->live > 0 || chunk == p.current) return;
    if (p.ready.size() < kMaxReadyChunks) {
        p.ready.push_back(chunk);
    } else {
        unmap_chunk(chunk);
    }
}

}  // namespace scope_profiler::detail
