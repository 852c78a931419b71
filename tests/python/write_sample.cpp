// Writes a merged file with known data, and the same data as JSON for
// read_like_scope_profiler.py to compare against what h5py reads.
//   scope_profiler_h5_write_sample <file.h5> <expected.json>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "format/names.hpp"
#include "h5_writer.hpp"

namespace h5 = scope_profiler::detail::h5;

namespace {

h5::RegionColumns region(std::string name, std::int64_t first, int host, int device) {
    h5::RegionColumns r;
    r.name = std::move(name);
    for (int i = 0; i < host; ++i) {
        r.start_times.push_back(first + 1000 * i);
        r.end_times.push_back(first + 1000 * i + 10 * (i + 1));
        r.thread_ids.push_back(i % 3);
    }
    for (int i = 0; i < device; ++i) {
        r.device_start_times.push_back(first + 500 + 1000 * i);
        r.device_end_times.push_back(first + 520 + 1000 * i);
        r.device_stream_ids.push_back(7);
        r.device_host_fallback.push_back(0);
    }
    return r;
}

/// Escaped names are valid UTF-8 without control bytes: only '"' and '\' need escaping.
std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

template <typename T>
std::string json_array(const std::vector<T>& values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i)
        out += (i ? ", " : "") + std::to_string(values[i]);
    return out + "]";
}

std::string hex(const std::string& bytes) {
    std::string out;
    char buffer[3];
    for (unsigned char c : bytes) {
        std::snprintf(buffer, sizeof buffer, "%02x", c);
        out += buffer;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <file.h5> <expected.json>\n", argv[0]);
        return 2;
    }
    const std::vector<std::pair<int, std::vector<h5::RegionColumns>>> ranks = {
        {0,
         {region("solver", 1'000'000, 5, 2), region("a/b", 2'000'000, 3, 0),
          region("ünï", 3'000'000, 2, 1), region("\xff\xfe", 4'000'000, 1, 0),
          region("100%", 5'000'000, 4, 0), region("never_called", 0, 0, 0)}},
        {1, {region("solver", 1'500'000, 4, 4), region(".", 6'000'000, 1, 0)}},
    };
    h5::Metadata metadata = h5::collect_metadata(2);
    metadata.text.emplace_back("gpu_name", "none (sample)");
    try {
        h5::write_merged(argv[1], metadata, ranks);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }

    std::ofstream json(argv[2]);
    json << "{\n  \"ranks\": {";
    for (std::size_t k = 0; k < ranks.size(); ++k) {
        const auto& [rank, regions] = ranks[k];
        json << (k ? "," : "") << "\n    \"" << rank << "\": {";
        for (std::size_t i = 0; i < regions.size(); ++i) {
            const h5::RegionColumns& r = regions[i];
            json << (i ? "," : "") << "\n      " << json_string(scope_profiler::format::escape_name(r.name)) << ": {"
                 << "\"name_hex\": \"" << hex(r.name) << "\", "
                 << "\"start_times\": " << json_array(r.start_times) << ", "
                 << "\"end_times\": " << json_array(r.end_times) << ", "
                 << "\"device_start_times\": " << json_array(r.device_start_times) << "}";
        }
        json << "\n    }";
    }
    json << "\n  }\n}\n";
    return json ? 0 : 1;
}
