#include "hdf5_objects.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>

#include "format/hdf5.hpp"
#include "profile_file.hpp"

namespace scope_profiler::cli::hdf5_objects {

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
    throw InputError(path + ": " + problem);
}

/// Fails with the problem and HDF5's reason for the call that just failed.
[[noreturn]] void fail_hdf5(const std::string& path, const std::string& problem) {
    const std::string reason = format::hdf5_reason();
    fail(path, reason.empty() ? problem : problem + " (HDF5: " + reason + ")");
}

Hid open_group(const std::string& path, hid_t location, const std::string& name) {
    Hid group(H5Gopen2(location, name.c_str(), H5P_DEFAULT), H5Gclose);
    if (!group.valid()) fail_hdf5(path, "cannot open the group " + name);
    return group;
}

bool link_exists(const std::string& path, hid_t location, const std::string& name) {
    const htri_t exists = H5Lexists(location, name.c_str(), H5P_DEFAULT);
    if (exists < 0) fail_hdf5(path, "cannot look up " + name);
    return exists > 0;
}

/// The names of a group's links: in creation order where the file tracks it, else by name.
std::vector<std::string> link_names(const std::string& path, hid_t group, const std::string& what) {
    std::vector<std::string> names;
    auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
    };
    hsize_t index = 0;
    if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &index, collect, &names) >= 0) return names;
    H5Eclear2(H5E_DEFAULT);
    names.clear();
    index = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect, &names) < 0) {
        fail_hdf5(path, "cannot list " + what);
    }
    return names;
}

/// A dataset must store what it declares. HDF5 lets a chunked dataset declare any extent and
/// returns fill values for chunks never written: a damaged or crafted file of a few KB can
/// declare 10^12 intervals, which the command would then allocate and read for ever. Without
/// compression every declared byte must be stored; with it, at most 1000 declared bytes per
/// stored byte (increasing times compress a few times at most). Nothing may claim more storage
/// than the file has.
void check_stored(const std::string& path, hid_t file, hid_t dataset, const std::string& object,
                  std::uint64_t length, std::size_t element_size) {
    if (length == 0) return;
    hsize_t file_size = 0;
    if (H5Fget_filesize(file, &file_size) < 0) fail_hdf5(path, "cannot read the file's size");
    const std::uint64_t stored = H5Dget_storage_size(dataset);
    Hid plist(H5Dget_create_plist(dataset), H5Pclose);
    if (!plist.valid()) fail_hdf5(path, "cannot read the storage of " + object);
    const int filters = H5Pget_nfilters(plist.get());
    const std::uint64_t ratio = filters > 0 ? 1000 : 1;
    const bool declared_too_much =
        element_size == 0 || length > std::numeric_limits<std::uint64_t>::max() / element_size / ratio ||
        length * element_size > stored * ratio;
    if (stored > file_size) {
        fail(path, object + " claims " + std::to_string(stored) + " bytes of storage in a file of " +
                       std::to_string(file_size) + ": the file is truncated or damaged");
    }
    if (declared_too_much) {
        fail(path, object + " declares " + std::to_string(length) + " elements but stores " + std::to_string(stored) +
                       " bytes" + (filters > 0 ? " compressed" : "") + ": the file is damaged");
    }
}

/// The length of a 1-D integer dataset `group/name`; -1 when absent (and not required).
std::int64_t dataset_length(const std::string& path, hid_t file, hid_t group, const std::string& group_path,
                            const char* name, bool required) {
    const std::string object = group_path + "/" + name;
    if (!link_exists(path, group, name)) {
        if (required) fail(path, object + " is missing");
        return -1;
    }
    Hid dataset(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) fail_hdf5(path, "cannot open the dataset " + object);
    Hid type(H5Dget_type(dataset.get()), H5Tclose);
    if (!type.valid()) fail_hdf5(path, "cannot read the type of " + object);
    if (H5Tget_class(type.get()) != H5T_INTEGER) fail(path, object + " does not hold integers");
    Hid space(H5Dget_space(dataset.get()), H5Sclose);
    if (!space.valid()) fail_hdf5(path, "cannot read the shape of " + object);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank != 1) fail(path, object + " is not one-dimensional");
    hsize_t length = 0;
    if (H5Sget_simple_extent_dims(space.get(), &length, nullptr) < 0) {
        fail_hdf5(path, "cannot read the shape of " + object);
    }
    check_stored(path, file, dataset.get(), object, length, H5Tget_size(type.get()));
    return static_cast<std::int64_t>(length);
}

/// The text of a string attribute's elements, exactly (fixed-length strings lose their padding).
std::vector<std::string> read_strings(const std::string& path, hid_t attribute, hid_t type,
                                      std::size_t elements, const std::string& what) {
    std::vector<std::string> values;
    if (H5Tis_variable_str(type) > 0) {
        Hid memory(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory.get(), H5T_VARIABLE);
        H5Tset_cset(memory.get(), H5Tget_cset(type));
        std::vector<char*> texts(elements, nullptr);
        if (H5Aread(attribute, memory.get(), texts.data()) < 0) fail_hdf5(path, "cannot read " + what);
        for (char* text : texts) {
            values.emplace_back(text != nullptr ? text : "");
            H5free_memory(text);
        }
        return values;
    }
    const std::size_t size = H5Tget_size(type);
    std::string bytes(size * elements, '\0');
    if (size > 0 && H5Aread(attribute, type, bytes.data()) < 0) fail_hdf5(path, "cannot read " + what);
    const H5T_str_t pad = H5Tget_strpad(type);
    for (std::size_t i = 0; i < elements; ++i) {
        std::string value = bytes.substr(i * size, size);
        if (pad == H5T_STR_NULLTERM) {
            value.resize(std::strlen(value.c_str()));
        } else {
            const char padding = pad == H5T_STR_SPACEPAD ? ' ' : '\0';
            while (!value.empty() && value.back() == padding) value.pop_back();
        }
        values.push_back(std::move(value));
    }
    return values;
}

std::string number_text(double value) {
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value);
    return std::string(text, result.ptr);
}

/// An attribute as text: strings as they are, numbers in decimal, arrays joined with ", ".
/// Types that have no sensible text (compounds, references) give "". With `number`, says
/// whether it is one integer or one finite float, whose text is then a JSON number too.
std::string attribute_text(const std::string& path, hid_t location, const char* name,
                           const std::string& what, bool* number) {
    Hid attribute(H5Aopen(location, name, H5P_DEFAULT), H5Aclose);
    if (!attribute.valid()) fail_hdf5(path, "cannot open " + what);
    Hid type(H5Aget_type(attribute.get()), H5Tclose);
    Hid space(H5Aget_space(attribute.get()), H5Sclose);
    if (!type.valid() || !space.valid()) fail_hdf5(path, "cannot read the type of " + what);
    const hssize_t points = H5Sget_simple_extent_npoints(space.get());
    if (points < 0) fail_hdf5(path, "cannot read the shape of " + what);
    const auto elements = static_cast<std::size_t>(points);
    // Its elements must fit in what it stores (each takes a byte at least, a fixed-size one its
    // size): a damaged header can declare 2^40 of them, which would be allocated here.
    const hsize_t stored = H5Aget_storage_size(attribute.get());
    const std::size_t element_size = H5Tis_variable_str(type.get()) > 0 ? 1 : std::max<std::size_t>(H5Tget_size(type.get()), 1);
    if (elements > stored / element_size) {
        fail(path, what + " declares " + std::to_string(elements) + " elements but stores " + std::to_string(stored) +
                       " bytes: the file is damaged");
    }
    std::vector<std::string> values;
    switch (H5Tget_class(type.get())) {
        case H5T_STRING:
            values = read_strings(path, attribute.get(), type.get(), elements, what);
            break;
        case H5T_INTEGER: {
            const bool is_signed = H5Tget_sign(type.get()) != H5T_SGN_NONE;
            std::vector<std::int64_t> numbers(elements);
            if (elements > 0 &&
                H5Aread(attribute.get(), is_signed ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64, numbers.data()) < 0) {
                fail_hdf5(path, "cannot read " + what);
            }
            for (const auto n : numbers) {
                values.push_back(is_signed ? std::to_string(n) : std::to_string(static_cast<std::uint64_t>(n)));
            }
            break;
        }
        case H5T_FLOAT: {
            std::vector<double> numbers(elements);
            if (elements > 0 && H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, numbers.data()) < 0) {
                fail_hdf5(path, "cannot read " + what);
            }
            for (const double n : numbers) values.push_back(number_text(n));
            break;
        }
        default:
            break;
    }
    std::string text;
    for (std::size_t i = 0; i < values.size(); ++i) text += (i > 0 ? ", " : "") + values[i];
    if (number != nullptr) {
        const H5T_class_t type_class = H5Tget_class(type.get());
        // to_chars writes a finite double as JSON writes numbers; "inf" and "nan" stay text.
        *number = values.size() == 1 && (type_class == H5T_INTEGER ||
                                         (type_class == H5T_FLOAT && text.find_first_of("in") == std::string::npos));
    }
    return text;
}

}  // namespace scope_profiler::cli::hdf5_objects
