#pragma once
// The reader's HDF5 objects (tools/profile_file.cpp): groups, links, datasets and attributes
// of a file the command cannot trust. Every failing call becomes an InputError naming the
// file, the object and HDF5's innermost reason; declared sizes are checked against what the
// file stores before anything is allocated. (The writer's counterpart is core/h5_objects.hpp;
// both take handles and error text from format/hdf5.hpp.)

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "format/hdf5.hpp"

namespace scope_profiler::cli::hdf5_objects {

using format::Hid;

/// Throws InputError("<path>: <problem>").
[[noreturn]] void fail(const std::string& path, const std::string& problem);

/// Fails with the problem and HDF5's reason for the call that just failed.
[[noreturn]] void fail_hdf5(const std::string& path, const std::string& problem);

/// The group `name` under location (fails when it cannot be opened).
Hid open_group(const std::string& path, hid_t location, const std::string& name);
/// Whether location has a link `name`.
bool link_exists(const std::string& path, hid_t location, const std::string& name);

/// The names of a group's links: in creation order where the file tracks it, else by name.
std::vector<std::string> link_names(const std::string& path, hid_t group, const std::string& what);

/// A dataset must store what it declares. HDF5 lets a chunked dataset declare any extent and
/// returns fill values for chunks never written: a damaged or crafted file of a few KB can
/// declare 10^12 intervals, which the command would then allocate and read for ever. Without
/// compression every declared byte must be stored; with it, at most 1000 declared bytes per
/// stored byte (increasing times compress a few times at most). Nothing may claim more storage
/// than the file has.
void check_stored(const std::string& path, hid_t file, hid_t dataset, const std::string& object,
                  std::uint64_t length, std::size_t element_size);

/// The length of a 1-D integer dataset `group/name`; -1 when absent (and not required).
std::int64_t dataset_length(const std::string& path, hid_t file, hid_t group, const std::string& group_path,
                            const char* name, bool required);

/// The text of a string attribute's elements, exactly (fixed-length strings lose their padding).
std::vector<std::string> read_strings(const std::string& path, hid_t attribute, hid_t type,
                                      std::size_t elements, const std::string& what);

/// A float as the shortest decimal text that reads back as the same double.
std::string number_text(double value);

/// An attribute as text: strings as they are, numbers in decimal, arrays joined with ", ".
/// Types that have no sensible text (compounds, references) give "". With `number`, says
/// whether it is one integer or one finite float, whose text is then a JSON number too.
std::string attribute_text(const std::string& path, hid_t location, const char* name,
                           const std::string& what, bool* number = nullptr);

}  // namespace scope_profiler::cli::hdf5_objects
