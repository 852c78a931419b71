#pragma once
// Holds a CUDA stream until released: a host function enqueued on it waits for the gate to open.
// Whatever is enqueued behind it then runs back to back, however slow the host was while
// enqueueing it (a gate kernel of fixed length is not enough on a loaded machine: the host can
// take longer than the kernel, and the stream runs dry in between).
#include <cuda_runtime_api.h>

#include <atomic>
#include <memory>
#include <thread>

class StreamGate {
public:
    explicit StreamGate(cudaStream_t stream) {
        // The host function owns a reference of its own: it may run after the gate is gone.
        auto* ref = new std::shared_ptr<std::atomic<bool>>(open_);
        made_ = cudaLaunchHostFunc(stream, &wait, ref);
        if (made_ != cudaSuccess) delete ref;
    }
    ~StreamGate() { release(); }  // never leave a stream held
    StreamGate(const StreamGate&) = delete;
    StreamGate& operator=(const StreamGate&) = delete;

    void release() { open_->store(true, std::memory_order_release); }
    cudaError_t made() const { return made_; }

private:
    static void CUDART_CB wait(void* data) {  // runs on the runtime's thread: no CUDA calls
        auto* ref = static_cast<std::shared_ptr<std::atomic<bool>>*>(data);
        while (!(*ref)->load(std::memory_order_acquire)) std::this_thread::yield();
        delete ref;
    }

    std::shared_ptr<std::atomic<bool>> open_ = std::make_shared<std::atomic<bool>>(false);
    cudaError_t made_ = cudaSuccess;
};
