#include "output.hpp"

#include <exception>
#include <filesystem>
#include <iostream>
#include <string>

#include "device_backend.hpp"
#include "diagnostics.hpp"
#include "flusher.hpp"
#include "h5_writer.hpp"
#include "tick_clock.hpp"

namespace scope_profiler::detail {

namespace {

// A region's intervals still in memory: host ones not flushed yet, and every device one.
h5::RegionColumns columns_in_memory(const Region& region) {
    HostIntervals host = region.get_intervals();
    DeviceIntervals device = region.get_device_intervals(false);
    h5::RegionColumns c;
    c.name = region.name();
    c.start_times = std::move(host.start_times);
    c.end_times = std::move(host.end_times);
    c.thread_ids = std::move(host.thread_ids);
    c.device_start_times = std::move(device.start_times);
    c.device_end_times = std::move(device.end_times);
    c.device_stream_ids = std::move(device.stream_ids);
    c.device_host_fallback = std::move(device.host_fallback);
    return c;
}

h5::Metadata session_metadata(const Job& job, const SessionEnd& end) {
    h5::Metadata metadata = h5::collect_metadata(job.size);
    metadata.text.emplace_back("ended_by", end.ended_by);
    for (auto& entry : device_metadata()) metadata.text.push_back(std::move(entry));
    // What scopes read (Config::clock); the times in the file are steady_clock ns either way.
    const TickClock& clock = TickClock::instance();
    if (clock.active()) {
        const TickCalibration c = clock.calibration();
        metadata.text.emplace_back("time_source", "tsc");
        metadata.text.emplace_back("tsc_calibration",
                                   std::to_string(c.ns_per_tick) + " ns per tick, " + std::to_string(c.points) +
                                       " points, widest " + std::to_string(c.widest_point_ns) + " ns, " +
                                       std::to_string(c.refused) + " refused");
    } else {
        metadata.text.emplace_back("time_source", "steady_clock");
    }
    return metadata;
}

void report(const std::exception& e, const std::string& consequence) {
    log(LogLevel::error, std::string(e.what()) + "; " + consequence);
}

// Appends what is in memory to this rank's file and closes it. False (reported) on failure.
bool complete_rank_file(Flusher& flusher, const std::vector<const Region*>& regions) {
    std::string path;
    try {
        h5::RankFile* file = flusher.rank_file(/*open=*/true);
        path = file->path();
        for (const Region* region : regions) file->append(columns_in_memory(*region));
        file->close();
        return true;
    } catch (const std::exception& e) {
        std::error_code ignored;
        if (path.empty())
            report(e, "the recorded data stays in memory (the queries still answer)");
        else if (!std::filesystem::exists(path, ignored))
            report(e, "the rank file " + path + " is gone (was its directory removed?), and "
                      "with it the intervals flushed during the run; the others stay in memory "
                      "(the queries still answer)");
        else
            report(e, "the intervals flushed during the run are in " + path +
                          ", the others stay in memory (the queries still answer)");
        return false;
    }
}

/// After a failed merge: which rank files are still there to read.
std::string what_remains_of(const std::vector<std::pair<int, std::string>>& files) {
    std::vector<std::string> kept;
    std::error_code ignored;
    for (const auto& [rank, file] : files)
        if (std::filesystem::exists(file, ignored)) kept.push_back(file);
    if (kept.size() == files.size()) return "the rank files are kept beside it";
    if (kept.empty())
        return "the rank files are gone too (was their directory removed?): what they held is "
               "lost, what is in memory stays (the queries still answer)";
    std::string list;
    for (const std::string& file : kept) list += (list.empty() ? "" : ", ") + file;
    return "of the rank files, only " + list + " remain";
}

}  // namespace

bool write_session_file(const Config& config, const Job& job,
                        const std::vector<const Region*>& regions, const SessionEnd& end) {
    Flusher& flusher = Flusher::instance();
    flusher.drain();  // every handed-off batch on disk (or back in memory, when it failed)

    if (!job.mpi && flusher.rank_file(/*open=*/false) == nullptr) {
        // Nothing went to disk during the run: one file, straight from memory.
        try {
            std::vector<h5::RegionColumns> columns;
            columns.reserve(regions.size());
            for (const Region* region : regions) columns.push_back(columns_in_memory(*region));
            h5::write_merged(config.file_path, session_metadata(job, end), {{0, std::move(columns)}});
            return true;
        } catch (const std::exception& e) {
            report(e, "the recorded data stays in memory (the queries still answer)");
            return false;
        }
    }

    const std::string own_file = rank_file_path(config.file_path, job.rank);
    if (!end.collective && job.mpi) {
        const bool complete = complete_rank_file(flusher, regions);
        flusher.release_rank_file();
        if (complete) {
            log(LogLevel::info, end.ended_by + ": rank " + std::to_string(job.rank) + "'s intervals are in " +
                                    own_file +
                                    "; the ranks' files are not merged after a signal (other ranks may not "
                                    "have it); `scope-profiler report` reads them");
        }
        return false;
    }
    if (!job_can_communicate(job)) {
        complete_rank_file(flusher, regions);
        flusher.release_rank_file();
        log(LogLevel::error, "MPI was finalized before ProfileManager::finalize(), so the ranks cannot merge "
                             "their files: rank " +
                                 std::to_string(job.rank) + "'s intervals are in " + own_file +
                                 " (call finalize() before MPI_Finalize())");
        return false;
    }
    const bool ready = complete_rank_file(flusher, regions);
    flusher.release_rank_file();
    const std::vector<int> ready_ranks = gather_ready(job, ready);  // collective under MPI
    bool written = false;
    if (job.rank == 0 && !ready_ranks.empty()) {
        if (static_cast<int>(ready_ranks.size()) < job.size) {
            log(LogLevel::error, std::to_string(job.size - static_cast<int>(ready_ranks.size())) + " of " +
                                     std::to_string(job.size) +
                                     " ranks could not complete their files (reported by those ranks); " +
                                     config.file_path + " holds the other ranks");
        }
        std::vector<std::pair<int, std::string>> files;
        for (const int rank : ready_ranks) files.emplace_back(rank, rank_file_path(config.file_path, rank));
        try {
            h5::merge_rank_files(config.file_path, session_metadata(job, end), files);
            written = true;
        } catch (const std::exception& e) {
            report(e, what_remains_of(files));
        }
    }
    return broadcast_outcome(job, written);  // collective under MPI
}

}  // namespace scope_profiler::detail
