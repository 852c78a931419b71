// ProfileFile (profile_file.hpp): HDF5's C API, with its error printing off; every failing call
// becomes an InputError naming the file, the object and HDF5's innermost reason.

#include "profile_file.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_set>

#include "format/hdf5.hpp"
#include "format/schema.hpp"
#include "hdf5_objects.hpp"
#include "read_guard.hpp"

namespace scope_profiler::cli {

namespace {

using format::Hid;
using namespace hdf5_objects;
namespace schema = format;  // the file's names: schema::kStartTimes, ...

/// Names joined with ", ", for one-line messages.
std::string joined(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
    return text;
}

/// "rank<N>" -> N; -1 for any other name.
int rank_of(const std::string& name) {
    const std::string_view prefix = schema::kRankGroupPrefix;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
    int rank = -1;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    const auto [end, error] = std::from_chars(first, last, rank);
    return error == std::errc{} && end == last && rank >= 0 ? rank : -1;
}

template <typename T>
hid_t memory_type() {
    if constexpr (std::is_same_v<T, std::int64_t>) return H5T_NATIVE_INT64;
    if constexpr (std::is_same_v<T, std::int32_t>) return H5T_NATIVE_INT32;
    if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_NATIVE_UINT8;
}

}  // namespace

struct ProfileFile::Impl {
    std::string path;
    Hid file;
    std::vector<MetadataField> metadata;
    std::vector<RankInfo> ranks;
    /// Groups named rank<something> that are not rank<N>: left out, and said so.
    std::vector<std::string> odd_rank_groups;
    /// Region groups without their datasets (read_region): left out, and said so.
    std::vector<std::string> unfinished_groups;
    /// Intervals left out (leave_out_invalid): each slice is counted on its first read only.
    std::set<std::tuple<std::string, bool, std::uint64_t>> counted_slices;
    std::uint64_t left_out = 0;
    std::string first_left_out;

    /// Drops the intervals [start, end) that no clock could have given (see kLatestNs) and
    /// counts them; `first` is the slice's first index, for the count and the message.
    template <typename Columns>
    void leave_out_invalid(const RegionInfo& region, bool device, std::uint64_t first, Columns& columns);
    /// The warnings for stderr, one line each (printed when the file is closed).
    void print_warnings() const;

    void open(ReadGuard& guard);
    void read_metadata(ReadGuard& guard);
    /// The region of a group; nullopt for a group the writer did not finish.
    std::optional<RegionInfo> read_region(hid_t regions, const std::string& link, const std::string& group_path);

    /// Elements [first, first + count) of the dataset `region.group/name` into `out`.
    template <typename T>
    void read_slice(const RegionInfo& region, const char* name, std::uint64_t first,
                    std::uint64_t count, std::vector<T>& out) const;
    [[nodiscard]] bool has_dataset(const RegionInfo& region, const char* name) const {
        const ReadGuard guard(path);
        return link_exists(path, file.get(), region.group + "/" + name);
    }
};

void ProfileFile::Impl::open(ReadGuard& guard) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) fail(path, "no such file");
    if (std::filesystem::is_directory(status)) fail(path, "is a directory, not a profiling file");
    if (!std::filesystem::is_regular_file(status))  // a FIFO would block the read for ever
        fail(path, "is not a regular file (a FIFO, a device or a socket), not a profiling file");
    if (::access(path.c_str(), R_OK) != 0) fail(path, std::strerror(errno));
    if (std::filesystem::file_size(path, error) == 0) fail(path, "the file is empty, not an HDF5 file");
    const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
    if (is_hdf5 == 0) fail(path, "not an HDF5 file");
    if (is_hdf5 < 0) fail_hdf5(path, "cannot be read as an HDF5 file");
    file = Hid(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) fail_hdf5(path, "the HDF5 file cannot be opened: it is truncated or damaged");

    for (const auto& name : link_names(path, file.get(), "the file's groups")) {
        if (name == schema::kMetadataGroup) {
            read_metadata(guard);
            continue;
        }
        const int rank = rank_of(name);
        if (rank < 0) {
            if (name.rfind(schema::kRankGroupPrefix, 0) == 0) odd_rank_groups.push_back(name);
            continue;
        }
        RankInfo info;
        info.rank = rank;
        Hid rank_group = open_group(path, file.get(), name);
        const htri_t has_offset = H5Aexists(rank_group.get(), schema::kClockOffsetAttribute);
        if (has_offset < 0) fail_hdf5(path, "cannot read the attributes of " + name);
        if (has_offset > 0) {
            const std::string text = attribute_text(path, rank_group.get(), schema::kClockOffsetAttribute,
                                                    name + " attribute clock_offset_ns");
            const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), info.clock_offset_ns);
            if (error != std::errc{} || end != text.data() + text.size()) {
                fail(path, name + " attribute clock_offset_ns is not an integer: " + text);
            }
        }
        if (link_exists(path, rank_group.get(), schema::kRegionsGroup)) {
            Hid regions = open_group(path, rank_group.get(), schema::kRegionsGroup);
            std::unordered_set<std::string> seen;
            for (const auto& link : link_names(path, regions.get(), name + "/regions")) {
                guard.progress();
                std::optional<RegionInfo> region = read_region(regions.get(), link, name + "/regions/" + link);
                if (!region) {
                    unfinished_groups.push_back(name + "/regions/" + link);
                    continue;
                }
                info.regions.push_back(std::move(*region));
                info.regions.back().clock_offset_ns = info.clock_offset_ns;
                if (!seen.insert(info.regions.back().name).second) {
                    fail(path, name + "/regions/" + link + " repeats the region name of another group");
                }
            }
        }
        ranks.push_back(std::move(info));
    }
    if (ranks.empty()) {
        const std::string odd = odd_rank_groups.empty() ? "" : " (" + joined(odd_rank_groups) + " is not one)";
        fail(path, "holds no rank<N> group" + odd + ": not a scope-profiler file");
    }
    std::sort(ranks.begin(), ranks.end(), [](const RankInfo& a, const RankInfo& b) { return a.rank < b.rank; });
    for (std::size_t i = 1; i < ranks.size(); ++i) {
        if (ranks[i].rank == ranks[i - 1].rank) {
            fail(path, "holds rank " + std::to_string(ranks[i].rank) + " twice (rank groups with leading zeros)");
        }
    }
}

void ProfileFile::Impl::read_metadata(ReadGuard& guard) {
    Hid group(H5Oopen(file.get(), schema::kMetadataGroup, H5P_DEFAULT), H5Oclose);
    if (!group.valid()) fail_hdf5(path, "cannot open metadata");
    std::vector<std::string> names;
    hsize_t index = 0;
    const herr_t listed = H5Aiterate2(
        group.get(), H5_INDEX_NAME, H5_ITER_INC, &index,
        [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
            static_cast<std::vector<std::string>*>(data)->emplace_back(name);
            return 0;
        },
        &names);
    if (listed < 0) fail_hdf5(path, "cannot list the attributes of metadata");
    for (const auto& name : names) {
        guard.progress();
        MetadataField& field = metadata.emplace_back();
        field.key = name;
        field.text = attribute_text(path, group.get(), name.c_str(), "metadata attribute " + name, &field.number);
    }
}

std::optional<RegionInfo> ProfileFile::Impl::read_region(hid_t regions, const std::string& link,
                                                         const std::string& group_path) {
    Hid group = open_group(path, regions, link);
    RegionInfo region;
    region.group = group_path;
    const htri_t has_name = H5Aexists(group.get(), schema::kNameAttribute);
    if (has_name < 0) fail_hdf5(path, "cannot read the attributes of " + group_path);
    // Our writer escapes a link name and gives every group it writes the original name in its
    // "name" attribute; the Python library escapes nothing and writes no attribute, so a link
    // without one is the name as it is ("x%41" stays "x%41").
    region.name = has_name > 0 ? attribute_text(path, group.get(), schema::kNameAttribute, group_path + " attribute name") : link;

    auto length = [&](const char* name, bool required) {
        return dataset_length(path, file.get(), group.get(), group_path, name, required);
    };
    auto expect_same = [&](std::int64_t actual, std::int64_t expected, const char* name, const char* reference) {
        if (actual >= 0 && actual != expected) {
            fail(path, group_path + ": " + name + " has " + std::to_string(actual) + " elements but " +
                           reference + " has " + std::to_string(expected));
        }
    };
    // A group whose datasets are partly missing and the rest empty is a region the writer did
    // not finish (a failure, a kill, between creating its group and its last dataset): left
    // out, with a warning. Missing beside data is damage, and refused.
    const std::int64_t host = length(schema::kStartTimes, false);
    const std::int64_t host_end = length(schema::kEndTimes, false);
    if (host < 0 || host_end < 0) {
        bool empty = host <= 0 && host_end <= 0;
        for (std::size_t c = 2; c < schema::kColumnNames.size(); ++c) {
            empty = empty && length(schema::kColumnNames[c], false) <= 0;
        }
        if (empty) return std::nullopt;
        fail(path, group_path + "/" + (host < 0 ? "start_times" : "end_times") + " is missing");
    }
    expect_same(host_end, host, "end_times", "start_times");
    const std::int64_t threads = length(schema::kThreadIds, false);
    expect_same(threads, host, "thread_ids", "start_times");
    region.host_count = static_cast<std::uint64_t>(host);
    region.has_thread_ids = threads >= 0;

    const std::int64_t device = length(schema::kDeviceStartTimes, false);
    const std::int64_t device_end = length(schema::kDeviceEndTimes, false);
    if ((device < 0) != (device_end < 0)) {
        fail(path, group_path + ": " + (device < 0 ? "device_start_times" : "device_end_times") +
                       " is missing while the other device dataset is present");
    }
    if (device >= 0) {
        expect_same(device_end, device, "device_end_times", "device_start_times");
        expect_same(length(schema::kDeviceStreams, false), device, "device_streams", "device_start_times");
        expect_same(length(schema::kDeviceHostFallback, false), device, "device_host_fallback",
                    "device_start_times");
        region.device_count = static_cast<std::uint64_t>(device);
    }
    return region;
}

template <typename T>
void ProfileFile::Impl::read_slice(const RegionInfo& region, const char* name, std::uint64_t first,
                                   std::uint64_t count, std::vector<T>& out) const {
    out.resize(count);
    if (count == 0) return;
    const ReadGuard guard(path);
    const std::string object = region.group + "/" + name;
    Hid dataset(H5Dopen2(file.get(), object.c_str(), H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) fail_hdf5(path, "cannot open the dataset " + object);
    Hid space(H5Dget_space(dataset.get()), H5Sclose);
    const hsize_t start = first;
    const hsize_t length = count;
    Hid memory(H5Screate_simple(1, &length, nullptr), H5Sclose);
    if (!space.valid() || !memory.valid() ||
        H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &length, nullptr) < 0 ||
        H5Dread(dataset.get(), memory_type<T>(), memory.get(), space.get(), H5P_DEFAULT, out.data()) < 0) {
        fail_hdf5(path, "cannot read " + object + ": the file is truncated or damaged");
    }
}

ProfileFile::ProfileFile(const std::string& path) : impl_(std::make_unique<Impl>()) {
    format::silence_errors();
    impl_->path = path;
    ReadGuard guard(path);
    try {
        impl_->open(guard);
    } catch (...) {
        impl_->file = Hid();  // closed while the guard still names the file
        throw;
    }
}

ProfileFile::~ProfileFile() {
    if (!impl_) return;
    // Not while an error is on its way out: an error is the one line a failing command prints.
    if (std::uncaught_exceptions() == 0) impl_->print_warnings();
    if (!impl_->file.valid()) return;
    try {
        const ReadGuard guard(impl_->path);
        impl_->file = Hid();
    } catch (...) {  // the guard cannot throw here: its limit was read when the file was opened
    }
}
ProfileFile::ProfileFile(ProfileFile&&) noexcept = default;
ProfileFile& ProfileFile::operator=(ProfileFile&&) noexcept = default;

const std::string& ProfileFile::path() const noexcept { return impl_->path; }

const std::vector<MetadataField>& ProfileFile::metadata() const noexcept {
    return impl_->metadata;
}

const std::vector<RankInfo>& ProfileFile::ranks() const noexcept { return impl_->ranks; }

std::vector<std::int32_t> ProfileFile::read_thread_ids(const RegionInfo& region, std::uint64_t first,
                                                       std::uint64_t count) const {
    const std::uint64_t n = first < region.host_count ? std::min(count, region.host_count - first) : 0;
    std::vector<std::int32_t> ids;
    if (region.has_thread_ids) {
        impl_->read_slice(region, schema::kThreadIds, first, n, ids);
    } else {
        ids.assign(n, 0);
    }
    return ids;
}

namespace {

/// Puts a rank's times on rank 0's clock; a time the offset would carry out of 64 bits becomes
/// -1, which leave_out_invalid() then drops.
void shift(std::vector<std::int64_t>& times, std::int64_t offset) {
    if (offset == 0) return;
    for (std::int64_t& t : times) {
        if (__builtin_add_overflow(t, offset, &t)) t = -1;
    }
}

/// Erases element i of v wherever keep[i] is false.
template <typename T>
void keep_only(std::vector<T>& v, const std::vector<bool>& keep) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (keep[i]) v[out++] = v[i];
    }
    v.resize(out);
}

}  // namespace

HostColumns ProfileFile::read_host(const RegionInfo& region, std::uint64_t first, std::uint64_t count) const {
    const std::uint64_t n = first < region.host_count ? std::min(count, region.host_count - first) : 0;
    HostColumns columns;
    impl_->read_slice(region, schema::kStartTimes, first, n, columns.start_times);
    impl_->read_slice(region, schema::kEndTimes, first, n, columns.end_times);
    columns.thread_ids = read_thread_ids(region, first, n);
    shift(columns.start_times, region.clock_offset_ns);
    shift(columns.end_times, region.clock_offset_ns);
    impl_->leave_out_invalid(region, false, first, columns);
    return columns;
}

DeviceColumns ProfileFile::read_device(const RegionInfo& region, std::uint64_t first, std::uint64_t count) const {
    const std::uint64_t n = first < region.device_count ? std::min(count, region.device_count - first) : 0;
    DeviceColumns columns;
    impl_->read_slice(region, schema::kDeviceStartTimes, first, n, columns.start_times);
    impl_->read_slice(region, schema::kDeviceEndTimes, first, n, columns.end_times);
    if (n > 0 && impl_->has_dataset(region, schema::kDeviceStreams)) {
        impl_->read_slice(region, schema::kDeviceStreams, first, n, columns.stream_ids);
    } else {
        columns.stream_ids.assign(n, 0);
    }
    if (n > 0 && impl_->has_dataset(region, schema::kDeviceHostFallback)) {
        impl_->read_slice(region, schema::kDeviceHostFallback, first, n, columns.host_fallback);
    } else {
        columns.host_fallback.assign(n, 0);
    }
    shift(columns.start_times, region.clock_offset_ns);
    shift(columns.end_times, region.clock_offset_ns);
    impl_->leave_out_invalid(region, true, first, columns);
    return columns;
}

template <typename Columns>
void ProfileFile::Impl::leave_out_invalid(const RegionInfo& region, bool device, std::uint64_t first,
                                          Columns& columns) {
    const auto valid = [](std::int64_t start, std::int64_t end) {
        return start >= 0 && end >= start && end <= kLatestNs;
    };
    const std::size_t n = columns.start_times.size();
    std::size_t i = 0;
    while (i < n && valid(columns.start_times[i], columns.end_times[i])) ++i;
    if (i == n) return;  // the common case: one pass, nothing moved
    std::vector<bool> keep(n, true);
    std::uint64_t dropped = 0;
    for (; i < n; ++i) {
        if (valid(columns.start_times[i], columns.end_times[i])) continue;
        keep[i] = false;
        ++dropped;
        if (first_left_out.empty()) {
            first_left_out = region.group + (device ? ", device" : ", host") + " interval " +
                             std::to_string(first + i) + ": start " + std::to_string(columns.start_times[i]) +
                             " ns, end " + std::to_string(columns.end_times[i]) + " ns";
        }
    }
    if (counted_slices.emplace(region.group, device, first).second) left_out += dropped;
    keep_only(columns.start_times, keep);
    keep_only(columns.end_times, keep);
    if constexpr (std::is_same_v<Columns, HostColumns>) {
        keep_only(columns.thread_ids, keep);
    } else {
        keep_only(columns.stream_ids, keep);
        keep_only(columns.host_fallback, keep);
    }
}

void ProfileFile::Impl::print_warnings() const {
    if (!odd_rank_groups.empty()) {
        std::cerr << "scope-profiler: warning: " << path << ": left out the groups " << joined(odd_rank_groups)
                  << ", which are not rank<N> (N = 0, 1, 2, ...)" << std::endl;
    }
    if (!unfinished_groups.empty()) {
        std::cerr << "scope-profiler: warning: " << path << ": left out " << joined(unfinished_groups)
                  << (unfinished_groups.size() == 1 ? ", a region group" : ", region groups")
                  << " without datasets (a write that did not finish)" << std::endl;
    }
    if (left_out > 0) {
        std::cerr << "scope-profiler: warning: " << path << ": left out " << left_out
                  << (left_out == 1 ? " interval" : " intervals")
                  << " whose times no clock gives (negative, ending before they start, or after 2^62 ns; first: "
                  << first_left_out << ")" << std::endl;
    }
}

}  // namespace scope_profiler::cli
