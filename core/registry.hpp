#pragma once
// The registry: every region ever named (permanent, by id and by name), the current session
// (configuration, regions in first-use order) and the threads that record. Internal to core/.
// Defined in registry.cpp (regions, recorders, threads) and session.cpp (setup(), finalize()
// and the session's accessors).

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "job.hpp"
#include "scope_profiler/config.hpp"
#include "scope_profiler/detail/runtime.hpp"
#include "scope_profiler/profile_manager.hpp"
#include "scope_profiler/region.hpp"

namespace scope_profiler::detail {

/// The metadata key `ended_by`: how the session ended (a signal's name otherwise).
inline constexpr std::string_view kEndedByFinalize = "finalize()";
inline constexpr std::string_view kEndedByExit = "exit without finalize()";

class Registry {
public:
    /// The process-wide registry. Never destroyed: threads may record until the very end.
    static Registry& instance();

    /// The region named `name`, created if new. Look-ups take no lock.
    Region& get_or_create(std::string_view name);
    /// The region named `name` if it was ever created, else nullptr. Takes no lock.
    Region* find(std::string_view name) const noexcept;

    /// Lists `region` in the current session if it is not listed yet.
    void activate(Region& region);
    bool listed(const Region& region) const noexcept {
        return RegionAccess::session(region).load(std::memory_order_relaxed) ==
               session_.load(std::memory_order_relaxed);
    }

    /// A recorder for `region` on the calling thread, owned by the region; nullptr without memory.
    ThreadRecorder* attach(Region& region, std::int32_t thread_index, bool timed) noexcept;

    void setup(const Config& config);
    /// Ends the session and writes its file; `ended_by` goes to the file's metadata.
    void finalize(bool verbose, std::string_view ended_by = kEndedByFinalize);
    /// finalize() for a termination signal (on the signal watcher's thread): no collective call
    /// under MPI (this rank's file is completed and kept); nothing when no session is active.
    void finalize_on_signal(int signo);
    Config config() const;
    bool active() const;
    RegionList regions() const;

    void add_thread(ThreadCache* cache);
    void remove_thread(ThreadCache* cache) noexcept;

private:
    struct Table;
    Registry();
    Region* find_in(const Table& table, std::string_view name, std::uint64_t hash) const noexcept;
    void insert(Table& table, Region* region) noexcept;
    void report_open_scopes() const;
    void setup_locked(const Config& config, const Job& job);
    /// True when it ended the session.
    bool finalize_locked(bool verbose, std::string_view ended_by, bool collective,
                         bool quiet_when_done);

    std::mutex setup_mutex_;    // held through setup_locked(), taken before mutex_
    mutable std::mutex mutex_;  // guards everything below that is not atomic
    std::atomic<Table*> table_{nullptr};
    std::vector<std::unique_ptr<Table>> tables_;  // the live one and the ones it replaced
    std::vector<std::unique_ptr<Region>> regions_;  // every region ever created, by id
    std::vector<Region*> listed_;                   // the session's regions, first-use order
    std::atomic<std::uint64_t> session_{1};
    Config config_;
    Job job_;  // this process in the job (rank 0 of 1 without MPI), found at setup()
    bool set_up_ = false;
    bool finalized_ = false;
    std::int32_t next_thread_index_ = 0;
    /// The previous sessions' recorders, where no barrier could prove that no thread still
    /// holds one (core/quiescence.hpp): kept, never freed.
    std::vector<std::unique_ptr<ThreadRecorder>> retired_;

    /// True once no thread holds a recorder of a session ended before the call (a thread that
    /// reads the session state from now on sees the ended one's successor); false where that
    /// cannot be known. Takes threads_mutex_ only, for moments: call it without mutex_, which a
    /// thread holding a recorder may be waiting for.
    bool wait_until_no_thread_holds_a_recorder() const noexcept;

    mutable std::mutex threads_mutex_;  // guards threads_; taken after mutex_, never before
    std::vector<ThreadCache*> threads_;
};

}  // namespace scope_profiler::detail
