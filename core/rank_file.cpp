// RankFile (h5_writer.hpp): one rank's file during a run, appended to through its twin.

#include <hdf5.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include "diagnostics.hpp"
#include "format/durable_file.hpp"
#include "format/names.hpp"
#include "format/schema.hpp"
#include "h5_objects.hpp"
#include "name_swap.hpp"

namespace scope_profiler::detail::h5 {

namespace {

struct RegionHandles {
    Hid group;
    std::array<Hid, kColumns> datasets;
    std::array<hsize_t, kColumns> sizes{};   // elements the file holds after the last flush
    std::array<hsize_t, kColumns> chunks{};  // chunk length of each dataset
};

/// The chunk lengths of a new region's datasets, from its first chunk's host or device
/// intervals: a region with few device intervals does not allocate 65536-element chunks for
/// them.
std::array<hsize_t, kColumns> first_chunks(const RegionColumns& chunk) {
    std::array<hsize_t, kColumns> lengths{};
    const hsize_t host = chunk_for(chunk.start_times.size());
    const hsize_t device = chunk_for(chunk.device_start_times.size());
    for (std::size_t c = 0; c < kColumns; ++c) lengths[c] = c < 3 ? host : device;
    return lengths;
}

/// One HDF5 file holding the group rank<N>/regions, appended to. A rank file is two of them
/// (RankFile::Impl): the user's name and its twin.
struct RankCopy {
    Hid file;
    Hid regions;
    Hid lcpl;
    int fd = -1;
    std::uint64_t link_bytes = 0;  // the names in the regions group: its heap grows by doubling
    std::map<std::string, RegionHandles> by_name;

    /// Creates (truncates) the file at `at` with its groups, and flushes it.
    void create(const std::string& at, int rank, std::int64_t clock_offset_ns,
                const std::string& what);
    RegionHandles& region_for(const RegionColumns& chunk, const std::string& what);
    void reserve(std::uint64_t bytes, const std::string& what);
    /// Appends and flushes; on failure the copy is as the last append left it, and throws.
    void append(const RegionColumns& chunk, const std::string& what);
    void close(const std::string& what);
    [[nodiscard]] bool is_open() const noexcept { return static_cast<bool>(file); }
};

void RankCopy::create(const std::string& at, int rank, std::int64_t clock_offset_ns,
                      const std::string& what) {
    Hid fapl = file_access(what);
    file = SP_H5_OPEN(what, H5Fcreate(at.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                      H5Fclose);
    lcpl = link_creation(what);
    Hid rank_group = create_group(file.get(), format::rank_group_name(rank), lcpl.get(), what);
    write_number_attribute(rank_group.get(), format::kClockOffsetAttribute, clock_offset_ns, what);
    regions = create_group(rank_group.get(), format::kRegionsGroup, lcpl.get(), what);
    SP_H5_CHECK(what, H5Fflush(file.get(), H5F_SCOPE_GLOBAL));
    void* handle = nullptr;
    SP_H5_CHECK(what, H5Fget_vfd_handle(file.get(), fapl.get(), &handle));
    fd = *static_cast<int*>(handle);
}

RegionHandles& RankCopy::region_for(const RegionColumns& chunk, const std::string& what) {
    if (auto it = by_name.find(chunk.name); it != by_name.end()) return it->second;
    const std::string link = format::escape_name(chunk.name);
    // A failed earlier attempt may have left part of the region: open what exists.
    RegionHandles region;
    if (SP_H5_CHECK(what, H5Lexists(regions.get(), link.c_str(), H5P_DEFAULT)) > 0)
        region.group = SP_H5_OPEN(what, H5Gopen2(regions.get(), link.c_str(), H5P_DEFAULT),
                                  H5Gclose);
    else
        region.group = create_region_group(regions.get(), chunk.name, lcpl.get(), what);
    if (SP_H5_CHECK(what, H5Aexists(region.group.get(), format::kNameAttribute)) == 0)
        write_name_attribute(region.group.get(), chunk.name, what);
    const auto columns = columns_of(chunk);
    const auto chunk_lengths = first_chunks(chunk);
    for (std::size_t c = 0; c < kColumns; ++c) {
        const hsize_t chunk_length = chunk_lengths[c];
        if (SP_H5_CHECK(what, H5Lexists(region.group.get(), columns[c].name, H5P_DEFAULT)) > 0) {
            region.datasets[c] = SP_H5_OPEN(
                what, H5Dopen2(region.group.get(), columns[c].name, H5P_DEFAULT), H5Dclose);
            Hid dcpl = SP_H5_OPEN(what, H5Dget_create_plist(region.datasets[c].get()), H5Pclose);
            hsize_t existing = 0;
            SP_H5_CHECK(what, H5Pget_chunk(dcpl.get(), 1, &existing));
            region.chunks[c] = existing;
        } else {
            region.datasets[c] =
                create_dataset(region.group.get(), columns[c], chunk_length, lcpl.get(), what);
            region.chunks[c] = chunk_length;
        }
    }
    link_bytes += link.size() + 8;
    return by_name.emplace(chunk.name, std::move(region)).first->second;
}

void RankCopy::reserve(std::uint64_t bytes, const std::string& what) {
    // HDF5 allocates new space at the end of its allocated space (EOA), which after a flush is
    // the end of the file.
    haddr_t allocated = 0;
    SP_H5_CHECK(what, H5Fget_eoa(file.get(), &allocated));
    constexpr const char* kNothingLost =
        "nothing was written, and the file still holds every interval appended before";
    format::check_size_limit(allocated, bytes, lead(what), kNothingLost);
    format::reserve_blocks(fd, allocated, bytes, lead(what), kNothingLost);
}

void RankCopy::append(const RegionColumns& chunk, const std::string& what) {
    const auto columns = columns_of(chunk);
    // Room first, before a new region's group is created: a full disk leaves the file as the
    // last append left it. Room for the new chunks (allocated whole), the chunk index, and for
    // a new region its object headers and the regions group's name heap, which doubles.
    const auto known = by_name.find(chunk.name);
    const bool new_region = known == by_name.end();
    const std::array<hsize_t, kColumns> held = new_region ? std::array<hsize_t, kColumns>{}
                                                          : known->second.sizes;
    const std::array<hsize_t, kColumns> chunk_lengths =
        new_region ? first_chunks(chunk) : known->second.chunks;
    std::uint64_t bytes = 256 * 1024;
    if (new_region) bytes += 2 * link_bytes + 64 * 1024 + 3 * chunk.name.size();
    for (std::size_t c = 0; c < kColumns; ++c) {
        if (columns[c].size == 0) continue;
        const hsize_t length = chunk_lengths[c];
        const hsize_t before = (held[c] + length - 1) / length;
        const hsize_t after = (held[c] + columns[c].size + length - 1) / length;
        bytes += (after - before) * (length * columns[c].element_size + 64) + 4096;
    }
    reserve(bytes, what);
    RegionHandles& region = region_for(chunk, what);

    std::array<hsize_t, kColumns> sizes = region.sizes;
    try {
        for (std::size_t c = 0; c < kColumns; ++c) {
            write_at(region.datasets[c].get(), columns[c], region.sizes[c], what);
            sizes[c] += columns[c].size;
        }
        SP_H5_CHECK(what, H5Fflush(file.get(), H5F_SCOPE_GLOBAL));
    } catch (...) {
        // Back to what the last flush wrote; a retry writes the same elements again.
        for (std::size_t c = 0; c < kColumns; ++c)
            if (columns[c].size != 0) H5Dset_extent(region.datasets[c].get(), &region.sizes[c]);
        H5Eclear2(H5E_DEFAULT);
        format::release_blocks(fd);
        throw;
    }
    region.sizes = sizes;
    format::release_blocks(fd);
}

void RankCopy::close(const std::string& what) {
    if (!file) return;
    // Every append flushed its data: closing the datasets and groups writes nothing.
    by_name.clear();
    regions.reset();
    lcpl.reset();
    fd = -1;
    SP_H5_CLOSE(what, file);
}

/// The ways a new rank file tries to swap names, in order (set by tests).
std::optional<std::vector<SwapMethod>>& forced_swap_methods() {
    static std::optional<std::vector<SwapMethod>> methods;
    return methods;
}

}  // namespace

void force_swap_methods(std::optional<std::vector<SwapMethod>> methods) {
    Hdf5Access access;
    forced_swap_methods() = std::move(methods);
}

std::string twin_path(const std::string& path) { return path + ".twin"; }

// A kill in the middle of an HDF5 flush can leave the file's metadata half written (HDF5
// without SWMR does not order its metadata writes): a region's datasets would no longer read.
// So the file under the user's name is never written. Each append goes to the twin first;
// once the twin is flushed, the two names are swapped (atomically), and the file that was
// the user's, now the twin, catches up with the same chunk. A kill at any moment leaves under
// the user's name a file as complete as the last append that reached its swap.
struct RankFile::Impl {
    std::string path;
    std::string what;  // "cannot write <path>"
    std::array<RankCopy, 2> copies;
    std::size_t official = 0;  // copies[official] is at path, the other one at twin_path(path)
    std::optional<SwapMethod> swap;  // none: no twin (closed), copies[official] is written in place

    RankCopy& twin() { return copies[1 - official]; }
    /// Closes and removes the twin, and says why on stderr, once: the rank file is written in
    /// place from now on.
    void drop_twin(const std::string& why) noexcept;
};

void RankFile::Impl::drop_twin(const std::string& why) noexcept {
    swap.reset();
    try {
        twin().close(what);
    } catch (...) {  // NOLINT(bugprone-empty-catch): the file is removed below
    }
    H5Eclear2(H5E_DEFAULT);
    std::error_code ignored;
    std::filesystem::remove(twin_path(path), ignored);
    // A rank file that is gone (its directory removed) is said so where it is missed, once,
    // at finalize(): no word here about how it would have been written.
    if (!std::filesystem::exists(path, ignored)) return;
    log(LogLevel::warning, path + ": " + why +
                               "; the rank file is written in place from now on (a process killed while it is "
                               "being written can leave a region unreadable)");
}

RankFile::RankFile(const std::string& path, int rank, std::int64_t clock_offset_ns)
    : impl_(std::make_unique<Impl>()) {
    Hdf5Access access;
    if (rank < 0)
        throw std::invalid_argument("scope_profiler: rank " + std::to_string(rank) +
                                    " is negative");
    Impl& f = *impl_;
    f.path = path;
    f.what = "cannot write " + path;
    const std::string what = "cannot create " + path;
    const std::string twin = twin_path(path);
    // Made under a temporary name and renamed once its groups are on disk: a process killed
    // at any moment leaves either no rank file or one that opens.
    const std::string creating = format::temporary_path(path);
    try {
        f.copies[0].create(creating, rank, clock_offset_ns, what);
        f.copies[1].create(twin, rank, clock_offset_ns, what);
        // The first swap, between two files that hold the same, finds what this file system
        // can do.
        std::string failed;
        const std::vector<SwapMethod> methods =
            forced_swap_methods().value_or(std::vector{SwapMethod::exchange, SwapMethod::link});
        for (const SwapMethod method : methods) {
            const SwapResult result = swap_names(creating, twin, method);
            if (result.swapped) f.official = 1 - f.official;
            if (result.error == 0) {
                f.swap = method;
                break;
            }
            if (result.swapped) {  // the twin is left under its third name
                std::error_code ignored;
                std::filesystem::rename(third_name(twin), twin, ignored);
            }
            failed += std::string(failed.empty() ? "" : ", ") + describe(method) + ": " +
                      std::strerror(result.error);
        }
        format::refuse_non_regular(path, lead(what));
        std::filesystem::rename(creating, path);
        if (!f.swap) {
            f.drop_twin("this file system cannot swap two files' names (" +
                        (failed.empty() ? std::string("no way tried") : failed) + ")");
        }
    } catch (...) {
        impl_.reset();
        std::error_code ignored;
        std::filesystem::remove(creating, ignored);
        std::filesystem::remove(twin, ignored);
        throw;
    }
}

RankFile::~RankFile() {
    try {
        close();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor reports nothing
    }
}

const std::string& RankFile::path() const noexcept { return impl_->path; }
bool RankFile::is_open() const noexcept { return impl_->copies[impl_->official].is_open(); }
bool RankFile::has_twin() const noexcept { return impl_->swap.has_value(); }

void RankFile::append(const RegionColumns& chunk) {
    Hdf5Access access;
    validate(chunk);
    Impl& f = *impl_;
    if (!f.copies[f.official].is_open())
        throw std::runtime_error("scope_profiler: cannot append to " + f.path +
                                 ": the file is closed");
    if (!f.swap) {
        f.copies[f.official].append(chunk, f.what);
        return;
    }
    // A failure here leaves the user's file as it was, and the twin as the last append left it.
    f.twin().append(chunk, f.what);
    const SwapResult swapped = swap_names(f.path, twin_path(f.path), *f.swap);
    if (!swapped.swapped) {
        // The user's file lacks the chunk the twin holds: it gets it in place.
        f.drop_twin(std::string("swapping it with its twin failed (") + describe(*f.swap) +
                    ": " + std::strerror(swapped.error) + ")");
        f.copies[f.official].append(chunk, f.what);
        return;
    }
    f.official = 1 - f.official;
    if (swapped.error != 0) {
        f.drop_twin(std::string("its twin lost its name (") + describe(*f.swap) + ": " +
                    std::strerror(swapped.error) + ")");
        std::error_code ignored;
        std::filesystem::remove(third_name(twin_path(f.path)), ignored);
        return;
    }
    try {
        f.twin().append(chunk, f.what);  // the user's file until the swap: it catches up
    } catch (const std::exception& e) {
        f.drop_twin(std::string("its twin could not catch up (") + e.what() + ")");
    }
}

void RankFile::close() {
    Hdf5Access access;
    Impl& f = *impl_;
    if (!f.copies[f.official].is_open()) return;
    if (f.swap) {
        try {
            f.twin().close(f.what);
        } catch (...) {  // NOLINT(bugprone-empty-catch): a duplicate, removed below
        }
        H5Eclear2(H5E_DEFAULT);
        f.swap.reset();
        std::error_code ignored;
        std::filesystem::remove(twin_path(f.path), ignored);
    }
    f.copies[f.official].close("cannot close " + f.path);
}

}  // namespace scope_profiler::detail::h5
