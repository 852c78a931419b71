#include "output.hpp"

#include <exception>
#include <iostream>

#include "device_backend.hpp"
#include "h5_writer.hpp"

namespace scope_profiler::detail {

bool write_session_file(const Config& config, const std::vector<const Region*>& regions) {
    try {
        h5::Metadata metadata = h5::collect_metadata(/*mpi_size=*/1);
        for (auto& entry : device_metadata()) metadata.text.push_back(std::move(entry));
        std::vector<h5::RegionColumns> columns;
        columns.reserve(regions.size());
        for (const Region* region : regions) {
            HostIntervals host = region->get_intervals();
            DeviceIntervals device = region->get_device_intervals(false);
            h5::RegionColumns c;
            c.name = region->name();
            c.start_times = std::move(host.start_times);
            c.end_times = std::move(host.end_times);
            c.thread_ids = std::move(host.thread_ids);
            c.device_start_times = std::move(device.start_times);
            c.device_end_times = std::move(device.end_times);
            c.device_streams = std::move(device.stream_ids);
            c.device_host_fallback = std::move(device.host_fallback);
            columns.push_back(std::move(c));
        }
        h5::write_merged(config.file_path, metadata, {{0, std::move(columns)}});
        return true;
    } catch (const std::exception& e) {
        std::cerr << "scope_profiler: error: " << e.what()
                  << "; the recorded data stays in memory (the queries still answer)\n";
        return false;
    }
}

}  // namespace scope_profiler::detail
