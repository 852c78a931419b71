#pragma once
// The file's layout (docs/file_format.md): the names of its groups, datasets and attributes,
// for the writer (core/h5_*.cpp) and the reader (tools/profile_file.cpp) alike.
//
//   metadata/                          (merged file only) one attribute per metadata pair
//   rank<N>/                           attribute clock_offset_ns (int64; 0 for rank 0, and without MPI)
//   rank<N>/regions/<escaped name>/    attribute name (the original bytes), and the datasets
//       start_times, end_times (int64), thread_ids (int32)               one per host interval
//       device_start_times, device_end_times, device_streams (int64),
//       device_host_fallback (uint8)                                     one per device interval
// The root carries no attribute, as in the Python library's files, whose writer writes
// metadata and rank<N>/regions/<name>/{start_times,end_times} only, names unescaped.

#include <array>
#include <string>

namespace scope_profiler::format {

inline constexpr const char* kMetadataGroup = "metadata";
inline constexpr const char* kRankGroupPrefix = "rank";
inline constexpr const char* kRegionsGroup = "regions";

/// Attribute of rank<N>: what to add to the rank's times to put them on rank 0's clock.
inline constexpr const char* kClockOffsetAttribute = "clock_offset_ns";
/// Attribute of a region's group: the region's name, exactly (written by this library only).
inline constexpr const char* kNameAttribute = "name";

// The datasets of a region, in the order of RegionColumns (core/h5_writer.hpp).
inline constexpr const char* kStartTimes = "start_times";
inline constexpr const char* kEndTimes = "end_times";
inline constexpr const char* kThreadIds = "thread_ids";
inline constexpr const char* kDeviceStartTimes = "device_start_times";
inline constexpr const char* kDeviceEndTimes = "device_end_times";
/// One id per CUDA stream (the API's DeviceIntervals::stream_ids).
inline constexpr const char* kDeviceStreams = "device_streams";
inline constexpr const char* kDeviceHostFallback = "device_host_fallback";

/// Every dataset of a region: three host columns, then four device columns.
inline constexpr std::size_t kHostColumns = 3;
inline constexpr std::array<const char*, 7> kColumnNames = {
    kStartTimes, kEndTimes, kThreadIds, kDeviceStartTimes, kDeviceEndTimes, kDeviceStreams,
    kDeviceHostFallback};

/// "rank<N>".
inline std::string rank_group_name(int rank) { return kRankGroupPrefix + std::to_string(rank); }

}  // namespace scope_profiler::format
