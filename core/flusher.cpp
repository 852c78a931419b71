#include "flusher.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "block_pool.hpp"
#include "stats.hpp"

namespace scope_profiler::detail {

namespace {

std::atomic<std::uint32_t> g_flush_blocks{0};
std::atomic<std::size_t> g_device_flush_limit{0};

// A failed write is retried with the next batch, at most this often, and at finalize().
constexpr auto kRetryInterval = std::chrono::seconds(1);

}  // namespace

std::string rank_file_path(const std::string& file_path, int rank) {
    const std::filesystem::path path(file_path);
    std::filesystem::path name = path.stem();
    name += ".rank" + std::to_string(rank);
    name += path.has_extension() ? path.extension() : std::filesystem::path(".h5");
    return (path.parent_path() / name).string();
}

std::uint32_t flush_blocks() noexcept { return g_flush_blocks.load(std::memory_order_relaxed); }

void hand_off(ThreadRecorder& recorder) noexcept {
    try {
        std::vector<Block*> batch = recorder.full;
        recorder.handed.insert(recorder.handed.end(), recorder.full.begin(), recorder.full.end());
        recorder.full.clear();
        Flusher::instance().enqueue(recorder, std::move(batch));
    } catch (...) {
        // Out of memory, or the flusher stopped: the blocks stay in memory (in `full` or
        // `handed`), and finalize() writes them with the rest.
    }
}

std::size_t device_flush_limit() noexcept {
    return g_device_flush_limit.load(std::memory_order_relaxed);
}

void hand_off_device(Region& region, std::shared_ptr<const DeviceIntervals> intervals) noexcept {
    try {
        Flusher::instance().enqueue(region, std::move(intervals));
    } catch (...) {
        // The batch stays in the region's handed list; finalize() writes it.
    }
}

struct Flusher::Impl {
    /// A thread's full blocks of a region (host), or a region's resolved device intervals.
    struct Batch {
        ThreadRecorder* recorder = nullptr;
        std::vector<Block*> blocks;
        Region* region = nullptr;
        std::shared_ptr<const DeviceIntervals> device;
    };

    std::mutex mutex;  // guards the queue and the flags
    std::condition_variable wake;
    std::deque<Batch> queue;
    bool accepting = false;
    bool stopping = false;
    std::thread thread;

    // The flusher thread's, and the caller's of drain()/rank_file() once the thread is joined.
    std::string path;
    Job job;
    std::unique_ptr<h5::RankFile> file;
    std::vector<Batch> failed;  // written to no file yet; their blocks are still `handed`
    bool failing = false;
    std::chrono::steady_clock::time_point last_failure;
    h5::RegionColumns columns;  // reused between batches
    std::vector<std::int64_t> durations;

    h5::RankFile& open_file();
    void push(Batch batch);
    void run();
    bool write(const Batch& batch);
    void fill_columns(const Batch& batch);
    void stop(bool keep_queue);
};

Flusher::Flusher() : impl_(std::make_unique<Impl>()) {}

Flusher& Flusher::instance() {
    static Flusher* const flusher = new Flusher();  // never destroyed: see the header
    return *flusher;
}

void Flusher::start(const Config& config, const Job& job) {
    discard();
    Impl& f = *impl_;
    std::lock_guard lock(f.mutex);
    f.path = rank_file_path(config.file_path, job.rank);
    f.job = job;
    f.failing = false;
    const bool flush = config.profiling_activated && config.time_trace && config.flush_to_disk;
    // Hand off once a recorder holds at least buffer_limit calls (whole blocks).
    const std::size_t blocks = (config.buffer_limit + kBlockCapacity - 1) / kBlockCapacity;
    g_flush_blocks.store(flush ? static_cast<std::uint32_t>(std::clamp<std::size_t>(blocks, 1, 1u << 20))
                               : 0u,
                         std::memory_order_relaxed);
    g_device_flush_limit.store(flush ? config.buffer_limit : 0, std::memory_order_relaxed);
    f.accepting = flush;
    f.stopping = false;
}

void Flusher::enqueue(ThreadRecorder& recorder, std::vector<Block*> blocks) {
    Impl::Batch batch;
    batch.recorder = &recorder;
    batch.blocks = std::move(blocks);
    impl_->push(std::move(batch));
}

void Flusher::enqueue(Region& region, std::shared_ptr<const DeviceIntervals> intervals) {
    Impl::Batch batch;
    batch.region = &region;
    batch.device = std::move(intervals);
    impl_->push(std::move(batch));
}

void Flusher::Impl::push(Batch batch) {
    std::lock_guard lock(mutex);
    if (!accepting) throw std::logic_error("the flusher is stopped");
    queue.push_back(std::move(batch));
    if (!thread.joinable()) thread = std::thread([this] { run(); });
    wake.notify_one();
}

void Flusher::Impl::run() {
    std::unique_lock lock(mutex);
    for (;;) {
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping, and every batch written
        Batch batch = std::move(queue.front());
        queue.pop_front();
        lock.unlock();
        try {
            // Batches that failed before are retried with a later one (a full disk may have
            // room again), at most once per kRetryInterval.
            if (!failed.empty() && std::chrono::steady_clock::now() - last_failure > kRetryInterval) {
                std::vector<Batch> retry;
                retry.swap(failed);
                for (Batch& b : retry)
                    if (!write(b)) failed.push_back(std::move(b));
            }
            if (!write(batch)) failed.push_back(std::move(batch));
        } catch (...) {
            // Out of memory: the batch is not retried before finalize(), which writes its
            // intervals from memory (they are still in their handed lists).
        }
        lock.lock();
    }
}

void Flusher::Impl::fill_columns(const Batch& batch) {
    columns.start_times.clear();
    columns.end_times.clear();
    columns.thread_ids.clear();
    columns.device_start_times.clear();
    columns.device_end_times.clear();
    columns.device_streams.clear();
    columns.device_host_fallback.clear();
    if (batch.device) {
        columns.name = batch.region->name();
        columns.device_start_times = batch.device->start_times;
        columns.device_end_times = batch.device->end_times;
        columns.device_streams = batch.device->stream_ids;
        columns.device_host_fallback = batch.device->host_fallback;
        return;
    }
    columns.name = batch.recorder->region->name();
    for (const Block* block : batch.blocks) {
        const std::uint32_t n = block->size.load(std::memory_order_acquire);
        columns.start_times.insert(columns.start_times.end(), block->start, block->start + n);
        columns.end_times.insert(columns.end_times.end(), block->end, block->end + n);
    }
    columns.thread_ids.assign(columns.start_times.size(), batch.recorder->thread_index);
}

bool Flusher::Impl::write(const Batch& batch) {
    const std::string& region_name = columns.name;
    try {
        fill_columns(batch);
        open_file().append(columns);
    } catch (const std::exception& e) {
        last_failure = std::chrono::steady_clock::now();
        if (!failing) {
            std::cerr << "scope_profiler: error: flushing region '" << region_name
                      << "' failed: " << e.what()
                      << "; its intervals stay in memory and the flush is retried (at finalize() "
                         "at the latest)\n";
        }
        failing = true;
        return false;
    }
    if (failing) {
        std::cerr << "scope_profiler: flushing to " << path << " works again\n";
        failing = false;
    }
    const bool device = batch.device != nullptr;
    const auto& starts = device ? columns.device_start_times : columns.start_times;
    const auto& ends = device ? columns.device_end_times : columns.end_times;
    durations.resize(starts.size());
    std::transform(ends.begin(), ends.end(), starts.begin(), durations.begin(), std::minus<>{});
    try {
        if (device) {
            commit_device_flushed(*batch.region, batch.device.get(), durations);
            return true;
        }
        commit_flushed(*batch.recorder->region, *batch.recorder, batch.blocks, durations);
    } catch (...) {
        // Out of memory for the summary: the blocks stay `handed`, finalize() writes them again.
        // Rare enough that counting them twice in the file beats losing them.
        return true;
    }
    for (Block* block : batch.blocks) release_block(block);
    return true;
}

void Flusher::Impl::stop(bool keep_queue) {
    {
        std::lock_guard lock(mutex);
        accepting = false;
        stopping = true;
        if (!keep_queue) queue.clear();
        wake.notify_one();
    }
    if (thread.joinable()) thread.join();
    std::lock_guard lock(mutex);
    stopping = false;
    g_flush_blocks.store(0, std::memory_order_relaxed);
    g_device_flush_limit.store(0, std::memory_order_relaxed);
}

void Flusher::discard() noexcept {
    Impl& f = *impl_;
    f.stop(/*keep_queue=*/false);
    f.failed.clear();
    if (f.file) {  // the session it belonged to is gone: so is its file
        f.file.reset();
        std::error_code ignored;
        std::filesystem::remove(f.path, ignored);
    }
}

void Flusher::drain() noexcept {
    // Failed batches are not retried here: their blocks are still in their recorders, and
    // finalize() writes everything in memory to the rank file after this.
    impl_->stop(/*keep_queue=*/true);
    impl_->failed.clear();
}

h5::RankFile& Flusher::Impl::open_file() {
    if (!file) file = std::make_unique<h5::RankFile>(path, job.rank, job.clock_offset_ns);
    return *file;
}

h5::RankFile* Flusher::rank_file(bool open) {
    if (open) impl_->open_file();
    return impl_->file.get();
}

void Flusher::release_rank_file() noexcept { impl_->file.reset(); }

}  // namespace scope_profiler::detail
