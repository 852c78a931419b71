// Device scopes: the pending pairs between a scope's exit and the GPU finishing its work, their
// lazy resolution, and the device side of Region. The backend does the device work.
#include <algorithm>
#include <deque>
#include <iostream>
#include <mutex>
#include <numeric>
#include <unordered_set>
#include <vector>

#include "device_backend.hpp"
#include "registry.hpp"
#include "scope_profiler/device_scope.hpp"
#include "summary.hpp"

namespace scope_profiler::detail {

struct DeviceAccess {
    static void add(Region& region, const DeviceTimes& t, bool fallback) {
        std::lock_guard lock(region.device_mutex_);
        region.device_.start_times.push_back(t.start_ns);
        region.device_.end_times.push_back(t.end_ns);
        region.device_.stream_ids.push_back(t.stream_id);
        region.device_.host_fallback.push_back(fallback ? 1 : 0);
    }
    static void count_call(Region& region) noexcept {
        region.device_calls_.fetch_add(1, std::memory_order_relaxed);
    }
    static void clear(Region& region) {
        std::lock_guard lock(region.device_mutex_);
        region.device_ = DeviceIntervals{};
        region.device_calls_.store(0, std::memory_order_relaxed);
    }
    static DeviceIntervals copy(const Region& region) {
        std::lock_guard lock(region.device_mutex_);
        return region.device_;
    }
};

namespace {

struct Pending {
    Region* region;
    std::uint64_t ticket;
    CUstream_st* stream;
};

// Resolve this often, counted in submitted pairs, so pending pairs and their events stay few
// even if nobody asks (each poll is a cudaEventQuery per pair, and never waits).
constexpr std::size_t kPollEvery = 256;

class Pipeline {
public:
    DeviceBackend& backend() {
        std::lock_guard lock(backend_mutex_);
        if (!backend_) backend_ = make_default_device_backend();
        return *backend_;
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
            pending_.push_back({&region, ticket, stream});
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
        std::deque<Pending> mine;
        {
            std::lock_guard lock(pending_mutex_);
            mine.swap(pending_);
        }
        DeviceBackend& b = backend();
        b.begin_resolution();
        std::deque<Pending> unresolved;
        // A stream runs its work in order: once one of its pairs is still running, its later ones
        // are too, so they are not even queried (a long backlog costs one query per stream).
        std::unordered_set<CUstream_st*> running;
        for (const Pending& p : mine) {
            if (!wait && running.count(p.stream) != 0) {
                unresolved.push_back(p);
                continue;
            }
            DeviceTimes t;
            switch (b.poll(p.ticket, wait, t)) {
                case DevicePoll::done:
                    DeviceAccess::add(*p.region, t, false);
                    break;
                case DevicePoll::failed:
                    ++failed_;
                    break;
                case DevicePoll::pending:
                    running.insert(p.stream);
                    unresolved.push_back(p);
                    break;
            }
        }
        b.end_resolution();
        if (!unresolved.empty()) {
            std::lock_guard lock(pending_mutex_);
            pending_.insert(pending_.begin(), unresolved.begin(), unresolved.end());
        }
    }

    void on_setup() {
        std::lock_guard lock(resolve_mutex_);
        discard_pending_locked();
        failed_ = 0;
    }

    std::uint64_t failed() const { return failed_; }

private:
    void discard_pending_locked() {
        std::deque<Pending> old;
        {
            std::lock_guard lock(pending_mutex_);
            old.swap(pending_);
            since_poll_ = 0;
        }
        if (backend_) {
            for (const Pending& p : old) backend_->discard(p.ticket);
        }
    }

    std::mutex resolve_mutex_;  // one resolver at a time; setup() excludes resolvers
    std::mutex pending_mutex_;  // taken by every device scope's exit, briefly
    std::mutex backend_mutex_;
    std::unique_ptr<DeviceBackend> backend_;
    std::deque<Pending> pending_;
    std::size_t since_poll_ = 0;
    std::uint64_t failed_ = 0;  // resolve_mutex_
};

Pipeline& pipeline() {
    static Pipeline* const p = new Pipeline();  // never destroyed, like the registry
    return *p;
}

}  // namespace

void set_device_backend(std::unique_ptr<DeviceBackend> backend) {
    pipeline().set_backend(std::move(backend));
}

void resolve_device_intervals(bool wait) { pipeline().resolve(wait); }

void device_on_setup() { pipeline().on_setup(); }

void clear_device_data(Region& region) { DeviceAccess::clear(region); }

std::uint64_t device_intervals_failed() { return pipeline().failed(); }

void device_enter(DeviceScope& s) noexcept {
    push_open(s.region_);
    if (nvtx_of(s.state_)) nvtx_push(*s.region_, NvtxCategory::device);
    if (mode_of(s.state_) != Mode::time) return;
    s.start_ = now_ns();  // the host interval is the CPU side of the scope, events included
    try {
        s.kind_ = static_cast<std::uint8_t>(pipeline().backend().begin(s.stream_, s.ticket_));
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
    Pipeline& p = pipeline();
    if (kind == DeviceStart::timed) p.backend().end(s.ticket_, s.stream_);
    const std::int64_t end = now_ns();
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
                DeviceAccess::add(region, {s.start_, end, p.backend().stream_id(s.stream_)}, true);
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
    return device_calls_.load(std::memory_order_relaxed);
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

std::vector<std::int64_t> Region::get_device_durations(bool wait) const {
    const DeviceIntervals iv = get_device_intervals(wait);
    std::vector<std::int64_t> durations(iv.start_times.size());
    for (std::size_t i = 0; i < durations.size(); ++i) durations[i] = iv.end_times[i] - iv.start_times[i];
    return durations;
}

Stats Region::device_stats(bool wait) const { return detail::compute_stats(get_device_durations(wait)); }

}  // namespace scope_profiler
