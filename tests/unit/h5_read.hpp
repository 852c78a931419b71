#pragma once
// Reading our HDF5 files back in tests, with HDF5's C API.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "format/names.hpp"
#include "h5_writer.hpp"

namespace h5_read {

using scope_profiler::detail::h5::RegionColumns;

/// An identifier closed at scope exit; a failed open fails the test at once.
class Id {
public:
    Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;
    ~Id() {
        if (id_ >= 0) close_(id_);
    }
    operator hid_t() const { return id_; }  // NOLINT(google-explicit-constructor)

private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

template <typename T>
hid_t memory_type() {
    if constexpr (std::is_same_v<T, std::int64_t>) return H5T_NATIVE_INT64;
    if constexpr (std::is_same_v<T, std::int32_t>) return H5T_NATIVE_INT32;
    if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_NATIVE_UINT8;
}

template <typename T>
inline std::vector<T> read_dataset(hid_t group, const char* name) {
    Id dataset(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose);
    if (dataset < 0) throw std::runtime_error(std::string("no dataset ") + name);
    Id space(H5Dget_space(dataset), H5Sclose);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space, &n, nullptr);
    std::vector<T> values(n);
    if (n > 0 && H5Dread(dataset, memory_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
        throw std::runtime_error(std::string("cannot read ") + name);
    return values;
}

/// The exact bytes of a fixed-length or variable-length string attribute.
inline std::string read_string_attribute(hid_t location, const char* name) {
    Id attribute(H5Aopen(location, name, H5P_DEFAULT), H5Aclose);
    if (attribute < 0) throw std::runtime_error(std::string("no attribute ") + name);
    Id type(H5Aget_type(attribute), H5Tclose);
    if (H5Tget_class(type) != H5T_STRING) throw std::runtime_error("not a string attribute");
    if (H5Tis_variable_str(type) > 0) {
        char* text = nullptr;
        H5Aread(attribute, type, &text);
        std::string value(text != nullptr ? text : "");
        H5free_memory(text);
        return value;
    }
    std::string value(H5Tget_size(type), '\0');
    H5Aread(attribute, type, value.data());
    return value;
}

inline std::int64_t read_number_attribute(hid_t location, const char* name) {
    Id attribute(H5Aopen(location, name, H5P_DEFAULT), H5Aclose);
    std::int64_t value = 0;
    H5Aread(attribute, H5T_NATIVE_INT64, &value);
    return value;
}

inline std::vector<std::string> links_of(hid_t group) {
    H5G_info_t info{};
    H5Gget_info(group, &info);
    std::vector<std::string> names;
    for (hsize_t i = 0; i < info.nlinks; ++i) {
        const ssize_t size =
            H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
        std::string name(static_cast<std::size_t>(size), '\0');
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1,
                           H5P_DEFAULT);
        names.push_back(name);
    }
    return names;
}

inline RegionColumns read_region(hid_t regions, const std::string& link) {
    Id group(H5Gopen2(regions, link.c_str(), H5P_DEFAULT), H5Gclose);
    RegionColumns r;
    r.name = read_string_attribute(group, "name");
    r.start_times = read_dataset<std::int64_t>(group, "start_times");
    r.end_times = read_dataset<std::int64_t>(group, "end_times");
    r.thread_ids = read_dataset<std::int32_t>(group, "thread_ids");
    r.device_start_times = read_dataset<std::int64_t>(group, "device_start_times");
    r.device_end_times = read_dataset<std::int64_t>(group, "device_end_times");
    r.device_stream_ids = read_dataset<std::int64_t>(group, "device_streams");
    r.device_host_fallback = read_dataset<std::uint8_t>(group, "device_host_fallback");
    return r;
}

/// rank -> (original name -> columns), checking on the way that every link name is the
/// escaped "name" attribute.
using Layout = std::map<int, std::map<std::string, RegionColumns>>;

inline Layout read_ranks(hid_t file) {
    Layout layout;
    for (const std::string& top : links_of(file)) {
        if (top == "metadata") continue;
        EXPECT_EQ(top.rfind("rank", 0), 0u) << top;
        const int rank = std::stoi(top.substr(4));
        Id regions(H5Gopen2(file, (top + "/regions").c_str(), H5P_DEFAULT), H5Gclose);
        EXPECT_GE(regions, 0) << top << " has no regions group";
        auto& by_name = layout[rank];
        for (const std::string& link : links_of(regions)) {
            RegionColumns r = read_region(regions, link);
            EXPECT_EQ(link, scope_profiler::format::escape_name(r.name));
            by_name[r.name] = std::move(r);
        }
    }
    return layout;
}

inline Layout read_layout(const std::string& path) {
    Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (file < 0) throw std::runtime_error("cannot open " + path);
    return read_ranks(file);
}

}  // namespace h5_read
