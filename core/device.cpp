// Device scopes: the pending pairs between a scope's exit and the GPU finishing its work, their
// lazy resolution, and the device side of Region. The backend does the device work.
#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <numeric>
#include <map>
#include <utility>
#include <vector>

#include "device_backend.hpp"
#include "flusher.hpp"
#include "region_state.hpp"
#include "scope_profiler/device_scope.hpp"
#include "stats.hpp"
#include "summary.hpp"
#include "tick_clock.hpp"

namespace scope_profiler::detail {

// The device side of a region's state (core/region_state.hpp).
struct DeviceAccess {
    static void add(Region& region, const DeviceTimes& t, bool fallback) {
        RegionState& state = RegionAccess::state(region);
        std::shared_ptr<const DeviceIntervals> batch;
        {
            std::lock_guard lock(state.device_mutex);
            state.device.start_times.push_back(t.start_ns);
            state.device.end_times.push_back(t.end_ns);
            state.device.stream_ids.push_back(t.stream_id);
            state.device.host_fallback.push_back(fallback ? 1 : 0);
            // With flush_to_disk, buffer_limit resolved intervals go to the flusher whole.
            const std::size_t limit = device_flush_limit();
            if (limit != 0 && state.device.start_times.size() >= limit) {
                batch = std::make_shared<const DeviceIntervals>(std::move(state.device));
                state.device = DeviceIntervals{};
                state.device_awaiting_disk.push_back(batch);
            }
        }
        if (batch) hand_off_device(region, std::move(batch));
    }
    static void count_call(Region& region) noexcept {
        RegionAccess::state(region).device_calls.fetch_add(1, std::memory_order_relaxed);
    }
    static void clear(Region& region) {
        RegionState& state = RegionAccess::state(region);
        std::lock_guard lock(state.device_mutex);
        state.device = DeviceIntervals{};
        state.device_awaiting_disk.clear();
        state.device_calls.store(0, std::memory_order_relaxed);
    }
    // In memory: the batches handed to the flusher and not on disk yet, then the rest.
    static DeviceIntervals copy_locked(const RegionState& state) {
        DeviceIntervals out;
        const auto append = [&](const DeviceIntervals& from) {
            const auto add = [](auto& to, const auto& v) { to.insert(to.end(), v.begin(), v.end()); };
            add(out.start_times, from.start_times);
            add(out.end_times, from.end_times);
            add(out.stream_ids, from.stream_ids);
            add(out.host_fallback, from.host_fallback);
        };
        for (const auto& batch : state.device_awaiting_disk) append(*batch);
        append(state.device);
        return out;
    }
    static DeviceIntervals copy(const Region& region) {
        RegionState& state = RegionAccess::state(region);
        std::lock_guard lock(state.device_mutex);
        return copy_locked(state);
    }
    // The flushed summary and the intervals in memory in one snapshot (the flusher moves
    // batches from one to the other under both locks).
    static std::pair<FlushedData, DeviceIntervals> snapshot(const Region& region) {
        RegionState& state = RegionAccess::state(region);
        std::lock_guard lock(state.mutex);
        std::lock_guard device_lock(state.device_mutex);
        return {state.flushed ? *state.flushed : FlushedData{}, copy_locked(state)};
    }
};

namespace {

struct Pending {
    Region* region;
    std::uint64_t ticket;
};

// Work on one stream runs in order, so pairs wait in one queue per stream and a pass queries
// only the oldest pair of each queue until it finds one still running: a long backlog costs one
// query per stream, not one per pair. cudaStreamPerThread (and a null stream under per-thread
// default streams) is one handle for many streams, so those queues are also keyed by thread.
using StreamKey = std::pair<CUstream_st*, std::int32_t>;

StreamKey stream_key(CUstream_st* stream) noexcept {
    const auto handle = reinterpret_cast<std::uintptr_t>(stream);
    return {stream, handle <= 2 ? t_cache.thread_index : -1};
}

// Resolve this often, counted in submitted pairs, so pending pairs and their events stay few
// even if nobody asks (each lazy pass queries the oldest pair of each stream and never waits).
constexpr std::size_t kPollEvery = 256;

class PairResolver {
public:
    DeviceBackend& backend() {
        std::lock_guard lock(backend_mutex_);
        if (!backend_) backend_ = make_default_device_backend();
        return *backend_;
    }

    std::vector<std::pair<std::string, std::string>> metadata() {
        std::lock_guard lock(backend_mutex_);
        return backend_ ? backend_->metadata() : std::vector<std::pair<std::string, std::string>>{};
    }

    void set_backend(std::unique_ptr<DeviceBackend> backend) {
        std::scoped_lock lock(resolve_mutex_, backend_mutex_);  // nullptr: the default, made when needed
        discard_pending_locked();
        backend_ = std::move(backend);
    }

    void submit(Region& region, std::uint64_t ticket, CUstream_st* stream) {
        bool poll_now = false;
        {
            std::lock_guard lock(pending_mutex_);
            pending_[stream_key(stream)].push_back({&region, ticket});
            poll_now = ++since_poll_ >= kPollEvery;
            if (poll_now) since_poll_ = 0;
        }
        if (poll_now) resolve(false, true);
    }

    /// `opportunistic`: the lazy pass of a scope's exit, which skips (rather than waits) when
    /// another thread is resolving. A query waits for that thread, so it sees every interval
    /// that had completed when it was asked.
    void resolve(bool wait, bool opportunistic = false) {
        std::unique_lock resolving(resolve_mutex_, std::defer_lock);
        if (!opportunistic) {
            resolving.lock();
        } else if (!resolving.try_lock()) {
            return;
        }
        std::vector<StreamKey> keys;
        {
            std::lock_guard lock(pending_mutex_);
            keys.reserve(pending_.size());
            for (const auto& [key, queue] : pending_) keys.push_back(key);
        }
        // Nothing pending: no CUDA call at all (a program without device scopes never makes the
        // backend, so finalize() and queries never initialize CUDA by themselves).
        if (keys.empty()) return;
        DeviceBackend& b = backend();
        b.begin_resolution();
        for (const StreamKey& key : keys) {
            // Only this (single) resolver pops; exits only push at the back. The oldest pair is
            // copied out under the lock and polled without it, so exits never wait for CUDA.
            for (;;) {
                Pending oldest{};
                {
                    std::lock_guard lock(pending_mutex_);
                    auto found = pending_.find(key);
                    if (found == pending_.end() || found->second.empty()) break;
                    oldest = found->second.front();
                }
                DeviceTimes t;
                const DevicePoll result = b.poll(oldest.ticket, wait, t);
                if (result == DevicePoll::pending) break;  // the rest of this stream is behind it
                if (result == DevicePoll::done) {
                    DeviceAccess::add(*oldest.region, t, false);
                } else {
                    failed_.fetch_add(1, std::memory_order_relaxed);
                }
                std::lock_guard lock(pending_mutex_);
                auto found = pending_.find(key);
                found->second.pop_front();
                if (found->second.empty()) pending_.erase(found);
            }
        }
        b.end_resolution();
    }

    void on_setup() {
        std::scoped_lock lock(resolve_mutex_, backend_mutex_);
        discard_pending_locked();
        failed_.store(0, std::memory_order_relaxed);
        if (backend_) backend_->new_session();
    }

    std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

private:
    // With resolve_mutex_ and backend_mutex_ held.
    void discard_pending_locked() {
        std::map<StreamKey, std::deque<Pending>> old;
        {
            std::lock_guard lock(pending_mutex_);
            old.swap(pending_);
            since_poll_ = 0;
        }
        if (backend_) {
            for (const auto& [key, queue] : old) {
                for (const Pending& p : queue) backend_->discard(p.ticket);
            }
        }
    }

    std::mutex resolve_mutex_;  // one resolver at a time; setup() excludes resolvers
    std::mutex pending_mutex_;  // taken by every device scope's exit, briefly
    std::mutex backend_mutex_;
    std::unique_ptr<DeviceBackend> backend_;
    std::map<StreamKey, std::deque<Pending>> pending_;  // oldest first, per stream
    std::size_t since_poll_ = 0;
    // Written by the resolver (resolve_mutex_) and setup(); read by anyone, without a lock.
    std::atomic<std::uint64_t> failed_{0};
};

PairResolver& resolver() {
    static PairResolver* const p = new PairResolver();  // never destroyed, like the registry
    return *p;
}

/// A host time of the session `state` in nanoseconds (it is ticks with Config::clock = tsc).
std::int64_t host_ns(std::uint32_t state, std::int64_t time) noexcept {
    return tsc_of(state) ? TickClock::instance().to_ns(time) : time;
}

}  // namespace

void set_device_backend(std::unique_ptr<DeviceBackend> backend) {
    resolver().set_backend(std::move(backend));
}

void resolve_device_intervals(bool wait) { resolver().resolve(wait); }

std::vector<std::pair<std::string, std::string>> device_metadata() { return resolver().metadata(); }

void device_on_setup() { resolver().on_setup(); }

void clear_device_data(Region& region) { DeviceAccess::clear(region); }

std::uint64_t device_intervals_failed() { return resolver().failed(); }

void device_enter(DeviceScope& s) noexcept {
    push_open(s.region_);
    if (nvtx_of(s.state_)) nvtx_push(*s.region_, NvtxCategory::device);
    if (mode_of(s.state_) != Mode::time) return;
    s.start_ = host_now(s.state_);  // the host interval is the CPU side of the scope, events included
    try {
        s.kind_ = static_cast<std::uint8_t>(resolver().backend().begin(s.stream_, s.ticket_));
    } catch (...) {  // the backend could not be made (out of memory)
        s.kind_ = static_cast<std::uint8_t>(DeviceStart::host_fallback);
    }
}

void device_exit(DeviceScope& s) noexcept {
    Region& region = *s.region_;
    const auto kind = static_cast<DeviceStart>(s.kind_);
    if (mode_of(s.state_) == Mode::count) {
        if (nvtx_of(s.state_)) nvtx_pop();
        pop_open();
        if (same_session(s.state_)) DeviceAccess::count_call(region);
        record_count(region, s.state_);
        return;
    }
    PairResolver& p = resolver();
    if (kind == DeviceStart::timed) p.backend().end(s.ticket_, s.stream_);
    const std::int64_t end = host_now(s.state_);
    if (nvtx_of(s.state_)) nvtx_pop();
    pop_open();
    record_time(region, s.start_, end, s.state_);
    const bool current = same_session(s.state_);
    try {
        switch (kind) {
            case DeviceStart::timed:
                if (!current) {
                    p.backend().discard(s.ticket_);
                    return;
                }
                DeviceAccess::count_call(region);
                p.submit(region, s.ticket_, s.stream_);
                break;
            case DeviceStart::host_fallback:
                if (!current) return;
                DeviceAccess::count_call(region);
                // Device intervals are nanoseconds; the host's times may be ticks (Config::clock).
                DeviceAccess::add(region,
                                  {host_ns(s.state_, s.start_), host_ns(s.state_, end),
                                   p.backend().stream_id(s.stream_)},
                                  true);
                break;
            case DeviceStart::nvtx_only:
                break;  // a graph being captured: the kernels run later, when the graph is launched
        }
    } catch (...) {
        count_dropped(region);  // out of memory while filing: the call is lost, and reported
    }
}

}  // namespace scope_profiler::detail

namespace scope_profiler {

std::uint64_t Region::num_device_calls() const noexcept {
    return state_->device_calls.load(std::memory_order_relaxed);
}

DeviceIntervals Region::get_device_intervals(bool wait) const {
    detail::resolve_device_intervals(wait);
    DeviceIntervals raw = detail::DeviceAccess::copy(*this);
    // Several streams resolve out of order: present them in device start order.
    std::vector<std::size_t> order(raw.start_times.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return raw.start_times[a] < raw.start_times[b];
    });
    DeviceIntervals out;
    for (const std::size_t i : order) {
        out.start_times.push_back(raw.start_times[i]);
        out.end_times.push_back(raw.end_times[i]);
        out.stream_ids.push_back(raw.stream_ids[i]);
        out.host_fallback.push_back(raw.host_fallback[i]);
    }
    return out;
}

namespace detail {

namespace {

std::vector<std::int64_t> durations_of(const DeviceIntervals& iv) {
    std::vector<std::int64_t> durations(iv.start_times.size());
    for (std::size_t i = 0; i < durations.size(); ++i) durations[i] = iv.end_times[i] - iv.start_times[i];
    return durations;
}

}  // namespace

DeviceSummary device_summary(const Region& region) {
    const auto [flushed, in_memory] = DeviceAccess::snapshot(region);
    const auto on_host = std::count(in_memory.host_fallback.begin(), in_memory.host_fallback.end(), 1);
    return {combined_stats(flushed.device, durations_of(in_memory)),
            flushed.device_fallback + static_cast<std::uint64_t>(on_host)};
}

}  // namespace detail

std::vector<std::int64_t> Region::get_device_durations(bool wait) const {
    return detail::durations_of(get_device_intervals(wait));
}

Stats Region::device_stats(bool wait) const {
    detail::resolve_device_intervals(wait);
    return detail::device_summary(*this).stats;
}

}  // namespace scope_profiler
