// The real CUDA backend (cuda/cuda_backend.cpp) under injected faults, on the simulated runtime:
// every CUDA call the backend makes, failed once in turn; a sticky error mid-run; no device; a
// capture invalidated mid-scope. What must hold every time: no crash and no hang, every host
// interval kept, every device scope either resolved (timed or marked as host fallback) or
// counted as lost, one warning per kind, and finalize() writes the file with what was measured.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <scope_profiler/cuda_sim.hpp>
#include <scope_profiler/scope_profiler.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>


#include "device_backend.hpp"
#include "h5_read.hpp"
#include "sim_session.hpp"
#include "stream_gate.hpp"

namespace sp = scope_profiler;
namespace sim = scope_profiler::cuda_sim;

namespace {

constexpr int kSteps = 4;
constexpr std::int64_t kKernelNs = 20'000;

// What one run of the scenario left behind.
struct Outcome {
    std::uint64_t host_calls = 0;      // "step" and the device regions' calls
    std::uint64_t device_calls = 0;    // device scopes that exited
    std::uint64_t device_resolved = 0; // device intervals recorded (timed or host fallback)
    std::uint64_t device_timed = 0;    // ... of which timed by the (simulated) GPU
    std::uint64_t device_lost = 0;     // counted as lost to a failed CUDA call
    std::size_t file_host_intervals = 0;    // in the file finalize() wrote
    std::size_t file_device_intervals = 0;
    bool file_written = false;
    std::string stderr_text;
};

// The scenario every fault is injected into: a host region around device scopes on a
// non-blocking stream and on the legacy default stream, a query that does not wait midway and
// one that waits at the end, and finalize() writing the file. The backend is made anew (on the
// first device scope), so the calls made at its creation are part of it. `profiling` false runs
// the same CUDA work without the profiler, to tell the test's own CUDA calls from the backend's.
Outcome run_scenario(const std::string& file, bool profiling = true) {
    sp::detail::set_device_backend(nullptr);
    sp::Config config;
    config.flush_to_disk = false;
    config.file_path = file;
    config.profiling_activated = profiling;
    sp::ProfileManager::setup(config);

    testing::internal::CaptureStderr();
    cudaStream_t stream = nullptr;
    (void)cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
    for (int i = 0; i < kSteps; ++i) {
        auto step = sp::ProfileManager::profile_region("step");
        {
            auto d = sp::ProfileManager::profile_region("on_stream", stream);
            sim::launch_kernel(stream, kKernelNs);
        }
        {
            auto d = sp::ProfileManager::profile_region("on_legacy", nullptr);
            sim::launch_kernel(nullptr, kKernelNs / 4);
        }
        if (i == kSteps / 2) {
            // A query that does not wait, once the streams are idle: its cudaEventQuery calls
            // then do not depend on how fast this machine is (the loop below counts on that).
            (void)cudaStreamSynchronize(stream);
            (void)cudaStreamSynchronize(nullptr);
            if (profiling) (void)sp::ProfileManager::get_region("on_stream")->get_device_durations();
        }
    }

    Outcome out;
    if (profiling) {
        for (const char* name : {"step", "on_stream", "on_legacy"}) {
            const sp::Region* region = sp::ProfileManager::get_region(name);
            if (region == nullptr) continue;
            out.host_calls += region->num_calls();
            out.device_calls += region->num_device_calls();
            const sp::DeviceIntervals iv = region->get_device_intervals(/*wait=*/true);
            out.device_resolved += iv.start_times.size();
            for (std::uint8_t fallback : iv.host_fallback) out.device_timed += fallback == 0 ? 1 : 0;
        }
        out.device_lost = sp::detail::device_intervals_failed();
    }
    std::filesystem::remove(file);
    testing::internal::CaptureStdout();  // the summary
    sp::ProfileManager::finalize();
    (void)testing::internal::GetCapturedStdout();
    (void)cudaStreamDestroy(stream);
    out.stderr_text = testing::internal::GetCapturedStderr();

    if (profiling && std::filesystem::exists(file)) {
        out.file_written = true;
        const h5_read::Layout layout = h5_read::read_layout(file);
        for (const auto& [name, columns] : layout.at(0)) {
            out.file_host_intervals += columns.start_times.size();
            out.file_device_intervals += columns.device_start_times.size();
        }
        std::filesystem::remove(file);
    }
    return out;
}

// The invariants of a run, whatever failed in it.
void expect_nothing_lost(const Outcome& out) {
    EXPECT_EQ(out.host_calls, 3u * kSteps) << "a host interval was lost";
    EXPECT_EQ(out.device_calls, 2u * kSteps);
    EXPECT_EQ(out.device_resolved + out.device_lost, out.device_calls)
        << "a device scope was neither resolved nor counted as lost";
    EXPECT_TRUE(out.file_written) << "finalize() wrote no file";
    EXPECT_EQ(out.file_host_intervals, 3u * kSteps);
    EXPECT_EQ(out.file_device_intervals, out.device_resolved);
}

std::vector<std::string> warning_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.find("scope_profiler: warning: ") != std::string::npos) lines.push_back(line);
    }
    return lines;
}

using CudaSimFaults = SimSessionTest;

TEST_F(CudaSimFaults, TheScenarioRunsCleanWithoutFaults) {
    const Outcome out = run_scenario(sim_temp_file("clean"));
    expect_nothing_lost(out);
    EXPECT_EQ(out.device_timed, 2u * kSteps) << "every device scope timed on the simulated GPU";
    EXPECT_EQ(out.device_lost, 0u);
    EXPECT_TRUE(warning_lines(out.stderr_text).empty()) << out.stderr_text;
}

// The loop over the backend's call sites: the calls the scenario makes with the profiler minus
// those it makes without it are the backend's; each of them fails once, in turn.
TEST_F(CudaSimFaults, EveryCallTheBackendMakesFailedOnceInTurn) {
    (void)run_scenario(sim_temp_file("own"), /*profiling=*/false);
    std::map<std::string, std::uint64_t> own;
    for (const auto& [function, count] : sim::calls()) own[function] = count;
    sim::reset();
    (void)run_scenario(sim_temp_file("all"));
    std::map<std::string, std::uint64_t> backend;
    for (const auto& [function, count] : sim::calls()) {
        if (own.count(function) == 0 && function != "cudaGetLastError") backend[function] = count;
    }
    // The calls a device scope's life needs, at the least: if one is missing, the loop below
    // would not be testing what it claims to.
    for (const char* needed : {"cudaGetDeviceCount", "cudaStreamIsCapturing", "cudaStreamGetId",
                               "cudaEventCreate", "cudaEventRecord", "cudaEventQuery",
                               "cudaEventElapsedTime", "cudaStreamCreateWithPriority",
                               "cudaThreadExchangeStreamCaptureMode"}) {
        EXPECT_EQ(backend.count(needed), 1u) << needed << " was not called by the backend";
    }

    std::map<std::string, int> warnings;  // over the whole loop
    int fired = 0;
    for (const auto& [function, count] : backend) {
        // The nth call of `function` fails, for nth = 1, 2, ... until a run makes fewer calls of
        // it than nth: how many there are can depend on the machine's load (an anchor whose
        // record call was preempted is recorded again), so the count of the run above is a
        // guide, not the bound.
        std::uint64_t reached = 0;
        for (std::uint64_t nth = 1; nth <= 4 * count + 8; ++nth) {
            SCOPED_TRACE(function + " call " + std::to_string(nth));
            sim::reset();
            sim::fail_call(function, nth, cudaErrorLaunchFailure);
            const Outcome out = run_scenario(sim_temp_file("fault"));
            if (sim::call_count(function) < nth) break;  // no nth call in this run: done
            reached = nth;
            ++fired;
            expect_nothing_lost(out);
            std::map<std::string, int> said;  // one warning per kind in a session
            for (const std::string& line : warning_lines(out.stderr_text)) {
                EXPECT_EQ(++said[line], 1) << "said more than once: " << line;
                ++warnings[line];
            }
            if (HasFailure()) return;  // the first broken call site is enough to read
        }
        EXPECT_GE(reached, std::min<std::uint64_t>(count, 1)) << function << ": no call of it failed";
    }
    std::printf("[ info ] %d faults injected and reached, over the %zu functions the backend calls\n",
                fired, backend.size());
    EXPECT_FALSE(warnings.empty()) << "no failure was ever reported";
}

// A sticky error (an illegal address in a kernel) in the middle of the run: every later call
// fails. The scopes before it keep their intervals; the rest fall back or are counted lost.
TEST_F(CudaSimFaults, AStickyErrorMidRunLosesNoHostIntervalAndDoesNotHang) {
    const std::string file = sim_temp_file("sticky");
    sp::detail::set_device_backend(nullptr);
    sp::Config config;
    config.flush_to_disk = false;
    config.file_path = file;
    sp::ProfileManager::setup(config);
    testing::internal::CaptureStderr();
    cudaStream_t stream = nullptr;
    ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
    constexpr int kScopes = 40;
    for (int i = 0; i < kScopes; ++i) {
        if (i == kScopes / 2) {
            ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
            (void)sp::ProfileManager::get_region("kernel")->get_device_durations(true);
            sim::set_sticky_error(cudaErrorIllegalAddress);
        }
        auto host = sp::ProfileManager::profile_region("host");
        auto d = sp::ProfileManager::profile_region("kernel", stream);
        sim::launch_kernel(stream, kKernelNs);
    }
    const sp::Region* kernel = sp::ProfileManager::get_region("kernel");
    const sp::DeviceIntervals iv = kernel->get_device_intervals(/*wait=*/true);  // must not hang
    const std::uint64_t lost = sp::detail::device_intervals_failed();
    testing::internal::CaptureStdout();
    sp::ProfileManager::finalize();
    (void)testing::internal::GetCapturedStdout();
    const std::string said = testing::internal::GetCapturedStderr();
    sim::set_sticky_error(0);
    (void)cudaStreamDestroy(stream);

    EXPECT_EQ(sp::ProfileManager::get_region("host")->num_calls(), static_cast<std::uint64_t>(kScopes));
    EXPECT_EQ(kernel->num_calls(), static_cast<std::uint64_t>(kScopes));
    EXPECT_EQ(iv.start_times.size() + lost, static_cast<std::size_t>(kScopes));
    std::size_t timed = 0;
    for (std::uint8_t fallback : iv.host_fallback) timed += fallback == 0 ? 1 : 0;
    EXPECT_EQ(timed, static_cast<std::size_t>(kScopes / 2)) << "the scopes before the error were timed";
    std::set<std::string> distinct;
    const std::vector<std::string> lines = warning_lines(said);
    for (const std::string& line : lines) EXPECT_TRUE(distinct.insert(line).second) << "said twice: " << line;
    EXPECT_FALSE(lines.empty()) << "the error was not reported";
    EXPECT_LE(lines.size(), 8u) << said;
    ASSERT_TRUE(std::filesystem::exists(file));
    const h5_read::Layout layout = h5_read::read_layout(file);
    EXPECT_EQ(layout.at(0).at("host").start_times.size(), static_cast<std::size_t>(kScopes));
    EXPECT_EQ(layout.at(0).at("kernel").device_start_times.size(), iv.start_times.size());
    std::filesystem::remove(file);
}

// No driver, or a driver without a device: device scopes are timed on the host, marked, and the
// reason is said once.
TEST_F(CudaSimFaults, NoDeviceFallsBackToHostTimingAndSaysWhyOnce) {
    for (const cudaError_t error : {cudaErrorInsufficientDriver, cudaErrorNoDevice}) {
        SCOPED_TRACE(cudaGetErrorName(error));
        sim::reset();
        sim::set_no_device(error);
        sp::detail::set_device_backend(nullptr);
        start_session();
        testing::internal::CaptureStderr();
        for (int i = 0; i < 10; ++i) {
            auto d = sp::ProfileManager::profile_region("no_device", nullptr);
        }
        const sp::DeviceIntervals iv = sp::ProfileManager::get_region("no_device")->get_device_intervals(true);
        const std::string said = testing::internal::GetCapturedStderr();
        sim::set_no_device(0);
        ASSERT_EQ(iv.host_fallback.size(), 10u);
        for (std::uint8_t fallback : iv.host_fallback) EXPECT_EQ(fallback, 1);
        const std::string reason = cudaGetErrorString(error);
        EXPECT_NE(said.find("no usable CUDA device"), std::string::npos) << said;
        EXPECT_EQ(said.find("no usable CUDA device"), said.rfind("no usable CUDA device")) << said;
    }
}

// A capture invalidated while a scope is open on the capturing stream: the scope only emitted
// NVTX, so nothing of ours is in the graph, and nothing breaks when the capture fails.
TEST_F(CudaSimFaults, ACaptureInvalidatedMidScopeBreaksNothing) {
    start_session();
    cudaStream_t stream = nullptr;
    ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
    ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), cudaSuccess);
    {
        auto d = sp::ProfileManager::profile_region("captured", stream);
        sim::launch_kernel(stream, kKernelNs);
        sim::invalidate_capture(stream);
    }
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    EXPECT_EQ(cudaStreamIsCapturing(stream, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated);
    cudaGraph_t graph = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(stream, &graph), cudaErrorStreamCaptureInvalidated);
    (void)cudaGetLastError();
    EXPECT_EQ(graph, nullptr);
    const sp::Region* region = sp::ProfileManager::get_region("captured");
    EXPECT_EQ(region->num_calls(), 1u);
    EXPECT_EQ(region->num_device_calls(), 0u) << "a captured scope records no events";
    // The stream is usable again, and so is the scope. A gate holds the stream while the scope is
    // recorded, so the host's gaps between the calls are not in the interval.
    {
        StreamGate gate(stream);
        ASSERT_EQ(gate.made(), cudaSuccess);
        auto d = sp::ProfileManager::profile_region("after", stream);
        sim::launch_kernel(stream, kKernelNs);
    }
    const sp::DeviceIntervals iv = sp::ProfileManager::get_region("after")->get_device_intervals(true);
    ASSERT_EQ(iv.start_times.size(), 1u);
    EXPECT_EQ(iv.host_fallback[0], 0);
    EXPECT_EQ(iv.end_times[0] - iv.start_times[0], kKernelNs);
    EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

// A capture that begins on the stream while a scope is open there: the end event is not
// recorded (it would join the graph); the interval is counted as lost and the capture stays valid.
TEST_F(CudaSimFaults, ACaptureBegunInsideAScopeStaysValid) {
    start_session();
    cudaStream_t stream = nullptr;
    ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
    {
        auto d = sp::ProfileManager::profile_region("straddles", stream);
        ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), cudaSuccess);
        sim::launch_kernel(stream, kKernelNs);
    }
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    EXPECT_EQ(cudaStreamIsCapturing(stream, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusActive);
    cudaGraph_t graph = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
    std::size_t nodes = 0;
    EXPECT_EQ(cudaGraphGetNodes(graph, nullptr, &nodes), cudaSuccess);
    EXPECT_EQ(nodes, 1u) << "only the kernel";
    const sp::Region* region = sp::ProfileManager::get_region("straddles");
    EXPECT_TRUE(region->get_device_durations(true).empty());
    EXPECT_EQ(sp::detail::device_intervals_failed(), 1u);
    EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
    EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

// Another thread captures in global mode while this one resolves device intervals: the
// backend's queries run in relaxed capture mode, so they do not invalidate that capture.
TEST_F(CudaSimFaults, ResolvingWhileAnotherThreadCapturesGloballyKeepsTheCapture) {
    start_session();
    cudaStream_t timed = nullptr, captured = nullptr;
    ASSERT_EQ(cudaStreamCreateWithFlags(&timed, cudaStreamNonBlocking), cudaSuccess);
    ASSERT_EQ(cudaStreamCreateWithFlags(&captured, cudaStreamNonBlocking), cudaSuccess);
    {
        StreamGate gate(timed);  // as above
        ASSERT_EQ(gate.made(), cudaSuccess);
        auto d = sp::ProfileManager::profile_region("timed", timed);
        sim::launch_kernel(timed, kKernelNs);
    }
    // The capturing thread begins, waits while this one resolves, then checks and ends its
    // capture (a global-mode capture must end on the thread that began it).
    std::atomic<int> phase{0};
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    cudaError_t began = cudaSuccess, ended = cudaSuccess;
    std::thread capturer([&] {
        began = cudaStreamBeginCapture(captured, cudaStreamCaptureModeGlobal);
        phase = 1;
        while (phase.load() != 2) std::this_thread::yield();
        (void)cudaStreamIsCapturing(captured, &status);
        cudaGraph_t graph = nullptr;
        ended = cudaStreamEndCapture(captured, &graph);
        if (graph != nullptr) (void)cudaGraphDestroy(graph);
    });
    while (phase.load() != 1) std::this_thread::yield();
    // An unprotected query from this (global-mode) thread would now invalidate that capture.
    const std::vector<std::int64_t> done = sp::ProfileManager::get_region("timed")->get_device_durations(true);
    phase = 2;
    capturer.join();
    ASSERT_EQ(began, cudaSuccess);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0], kKernelNs);
    EXPECT_EQ(status, cudaStreamCaptureStatusActive) << "resolving invalidated another thread's capture";
    EXPECT_EQ(ended, cudaSuccess);
    EXPECT_EQ(cudaStreamDestroy(timed), cudaSuccess);
    EXPECT_EQ(cudaStreamDestroy(captured), cudaSuccess);
}

}  // namespace
