#pragma once
// A device backend whose GPU is the test: pairs complete when the test says so.
#include <map>
#include <mutex>
#include <set>

#include "device_backend.hpp"

namespace fake {

namespace d = scope_profiler::detail;

inline CUstream_st* stream(std::uintptr_t id) { return reinterpret_cast<CUstream_st*>(id); }

class Backend final : public d::DeviceBackend {
public:
    struct Pair {
        CUstream_st* stream = nullptr;
        bool ended = false;
        bool complete = false;
        bool fail = false;
        bool released = false;
        std::int64_t start = 0;
        std::int64_t end = 0;
    };

    d::DeviceStart begin(CUstream_st* s, std::uint64_t& ticket) noexcept override {
        std::lock_guard lock(mutex);
        if (capturing.count(s) != 0) return d::DeviceStart::nvtx_only;
        ticket = next++;
        pairs[ticket].stream = s;
        ++begun;
        return d::DeviceStart::timed;
    }
    void end(std::uint64_t ticket, CUstream_st*) noexcept override {
        std::lock_guard lock(mutex);
        pairs[ticket].ended = true;
    }
    d::DevicePoll poll(std::uint64_t ticket, bool wait, d::DeviceTimes& out) noexcept override {
        std::lock_guard lock(mutex);
        ++polls;
        Pair& p = pairs[ticket];
        if (wait && !p.complete && !p.fail) {  // "synchronize": the GPU finishes it now
            ++waits;
            p.complete = true;
            p.start = 1000 * static_cast<std::int64_t>(ticket);
            p.end = p.start + 10;
        }
        if (p.fail) {
            p.released = true;
            return d::DevicePoll::failed;
        }
        if (!p.complete) return d::DevicePoll::pending;
        out = {p.start, p.end, static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(p.stream))};
        p.released = true;
        return d::DevicePoll::done;
    }
    void discard(std::uint64_t ticket) noexcept override {
        std::lock_guard lock(mutex);
        pairs[ticket].released = true;
        ++discarded;
    }
    std::int64_t stream_id(CUstream_st* s) noexcept override {
        return static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(s));
    }

    /// The GPU finished `ticket` at [start, end].
    void complete(std::uint64_t ticket, std::int64_t start, std::int64_t end) {
        std::lock_guard lock(mutex);
        Pair& p = pairs.at(ticket);
        p.complete = true;
        p.start = start;
        p.end = end;
    }
    void fail(std::uint64_t ticket) {
        std::lock_guard lock(mutex);
        pairs.at(ticket).fail = true;
    }
    std::size_t released_count() {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& [t, p] : pairs) n += p.released ? 1 : 0;
        return n;
    }

    std::mutex mutex;
    std::map<std::uint64_t, Pair> pairs;
    std::set<CUstream_st*> capturing;
    std::uint64_t next = 1;
    int begun = 0;
    int polls = 0;
    int waits = 0;
    int discarded = 0;
};

/// Installs a fresh fake backend for the life of the object; the default one comes back after.
class Installed {
public:
    Installed() {
        auto made = std::make_unique<Backend>();
        backend = made.get();
        d::set_device_backend(std::move(made));
    }
    ~Installed() { d::set_device_backend(nullptr); }  // the default is made again when needed
    Backend* backend;
};

}  // namespace fake
