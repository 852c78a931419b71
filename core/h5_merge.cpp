// The merged file (h5_writer.hpp): written from memory (write_merged) or copied from the rank
// files (merge_rank_files), through a temporary file renamed into place; check_writable.

#include <hdf5.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "format/durable_file.hpp"
#include "format/names.hpp"
#include "format/schema.hpp"
#include "h5_objects.hpp"

namespace scope_profiler::detail::h5 {
namespace {

void validate_ranks(const std::vector<int>& ranks) {
    std::set<int> seen;
    for (int rank : ranks) {
        if (rank < 0)
            throw std::invalid_argument("scope_profiler: rank " + std::to_string(rank) +
                                        " is negative");
        if (!seen.insert(rank).second)
            throw std::invalid_argument("scope_profiler: rank " + std::to_string(rank) +
                                        " is listed twice");
    }
}

/// Writes format::temporary_path(path) with body(file, lcpl), having reserved bytes for it on disk,
/// syncs it and renames it onto path. On any failure the temporary file is removed and the
/// exception rethrown.
template <typename Body>
void write_through_temporary(const std::string& path, const Metadata& metadata,
                             std::uint64_t bytes, const std::string& what,
                             const char* consequence, Body&& body) {
    format::check_size_limit(0, bytes, lead(what), consequence);
    const std::string temporary = format::temporary_path(path);
    try {
        {
            Hid fapl = file_access(what);
            Hid file = SP_H5_OPEN(
                what, H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                H5Fclose);
            void* handle = nullptr;
            SP_H5_CHECK(what, H5Fget_vfd_handle(file.get(), fapl.get(), &handle));
            format::reserve_blocks(*static_cast<int*>(handle), 0, bytes, lead(what), consequence);
            Hid lcpl = link_creation(what);
            write_metadata_group(file.get(), metadata, lcpl.get(), what);
            body(file.get(), lcpl.get());
            SP_H5_CLOSE(what, file);
        }
        format::sync_file(temporary, lead(what));
        format::rename_into_place(temporary, path, lead(what));
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw;
    }
}

}  // namespace

void write_merged(const std::string& path, const Metadata& metadata,
                  const std::vector<std::pair<int, std::vector<RegionColumns>>>& ranks) {
    Hdf5Access access;
    std::vector<int> rank_numbers;
    std::uint64_t bytes = 1024 * 1024;
    for (const auto& [rank, regions] : ranks) {
        rank_numbers.push_back(rank);
        std::set<std::string_view> names;
        for (const RegionColumns& region : regions) {
            validate(region);
            if (!names.insert(region.name).second)
                throw std::invalid_argument("scope_profiler: region " + format::quoted_name(region.name) +
                                            " is listed twice for rank " + std::to_string(rank));
            bytes += merged_bytes(region) + 16 * 1024 + 3 * region.name.size();  // and metadata
        }
    }
    validate_ranks(rank_numbers);
    const std::string what = "cannot write " + path;

    write_through_temporary(path, metadata, bytes, what, "the file was not written",
                            [&](hid_t file, hid_t lcpl) {
        for (const auto& [rank, regions] : ranks) {
            Hid rank_group = create_group(file, format::rank_group_name(rank), lcpl, what);
            write_number_attribute(rank_group.get(), format::kClockOffsetAttribute, 0, what);
            Hid regions_group = create_group(rank_group.get(), format::kRegionsGroup, lcpl, what);
            for (const RegionColumns& region : regions) {
                Hid group = create_region_group(regions_group.get(), region.name, lcpl, what);
                write_name_attribute(group.get(), region.name, what);
                for (const ColumnView& column : columns_of(region)) {
                    Hid dataset = create_dataset(group.get(), column,
                                                 chunk_for_exactly(column.size), lcpl, what);
                    write_at(dataset.get(), column, 0, what);
                    SP_H5_CLOSE(what, dataset);  // may write cached chunks
                }
            }
        }
    });
}

void merge_rank_files(const std::string& path, const Metadata& metadata,
                      const std::vector<std::pair<int, std::string>>& rank_files) {
    Hdf5Access access;
    const std::string what = "cannot write " + path;
    std::vector<int> rank_numbers;
    std::uint64_t bytes = 1024 * 1024;
    for (const auto& [rank, file] : rank_files) {
        rank_numbers.push_back(rank);
        std::error_code error;
        const auto size = std::filesystem::file_size(file, error);
        if (error)
            throw std::runtime_error(lead(what) + ": cannot read the file of rank " +
                                     std::to_string(rank) + ", " + file + " (" + error.message() +
                                     ")");
        bytes += size + size / 16;  // the copy is about as large as its source
    }
    validate_ranks(rank_numbers);

    write_through_temporary(path, metadata, bytes, what,
                            "the file was not written and the rank files were kept",
                            [&](hid_t file, hid_t lcpl) {
        Hid copy = SP_H5_OPEN(what, H5Pcreate(H5P_OBJECT_COPY), H5Pclose);
        for (const auto& [rank, rank_file] : rank_files) {
            const std::string read = "cannot read the file of rank " + std::to_string(rank) +
                                     ", " + rank_file;
            Hid fapl = file_access(read);
            Hid source = SP_H5_OPEN(read, H5Fopen(rank_file.c_str(), H5F_ACC_RDONLY, fapl.get()),
                                    H5Fclose);
            const std::string group = format::rank_group_name(rank);
            if (SP_H5_CHECK(read, H5Lexists(source.get(), group.c_str(), H5P_DEFAULT)) <= 0)
                throw std::runtime_error("scope_profiler: " + read + ": it holds no group " +
                                         group);
            SP_H5_CHECK(what, H5Ocopy(source.get(), group.c_str(), file, group.c_str(),
                                      copy.get(), lcpl));
        }
    });

    // The merged file is complete and in place: the rank files can go.
    for (const auto& [rank, rank_file] : rank_files) {
        std::error_code error;
        if (std::filesystem::equivalent(rank_file, path, error)) continue;
        std::filesystem::remove(rank_file, error);
    }
}

void check_writable(const std::string& path) {
    const std::string prefix = "scope_profiler: cannot write the profiling file '" + path + "': ";
    if (path.empty()) throw std::invalid_argument("scope_profiler: the profiling file path is empty");
    std::error_code error;
    if (const std::string is = format::not_a_regular_file(path); !is.empty())
        throw std::invalid_argument(prefix + "it is " + is + ", not a regular file");
    std::filesystem::path directory = std::filesystem::path(path).parent_path();
    if (directory.empty()) directory = ".";
    const std::string probe = path + ".probe." + std::to_string(::getpid());
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        const int reason = errno;
        std::string why;
        if (!std::filesystem::exists(directory, error))
            why = "the directory " + directory.string() + " does not exist";
        else
            why = "no file can be created in " + directory.string() + " (" +
                  std::strerror(reason) + ")";
        throw std::invalid_argument(prefix + why);
    }
    ::close(fd);
    ::unlink(probe.c_str());
}

}  // namespace scope_profiler::detail::h5
