// Device memory owned by a scope and ordered on a stream.
//
// cudaMallocAsync/cudaFreeAsync take the memory from the device's default
// pool in stream order, so a buffer is reused only after the work queued
// before its free has run; that needs no synchronisation and does not stall
// other streams (unlike cudaFree).  Devices without memory pools
// (cudaDevAttrMemoryPoolsSupported = 0: some virtualised GPUs) get plain
// cudaMalloc, and the destructor synchronises the stream before cudaFree.
// Host-only, so binding files may include it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "cuda_check.cuh"

namespace logsketch::gpu {

class StreamBuffer {
  public:
    StreamBuffer() = default;
    StreamBuffer(std::size_t bytes, cudaStream_t stream) : stream_(stream) {
        if (bytes == 0) return;
        int device = 0, pools = 0;
        LOGSKETCH_CUDA_CHECK(cudaGetDevice(&device));
        LOGSKETCH_CUDA_CHECK(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device));
        async_ = pools != 0;
        if (async_) LOGSKETCH_CUDA_CHECK(cudaMallocAsync(&ptr_, bytes, stream_));
        else LOGSKETCH_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
    }
    ~StreamBuffer() { release(); }
    StreamBuffer(const StreamBuffer&) = delete;
    StreamBuffer& operator=(const StreamBuffer&) = delete;
    StreamBuffer(StreamBuffer&& o) noexcept : ptr_(o.ptr_), stream_(o.stream_), async_(o.async_) { o.ptr_ = nullptr; }
    StreamBuffer& operator=(StreamBuffer&& o) noexcept {
        if (this != &o) {
            release();
            ptr_ = o.ptr_;
            stream_ = o.stream_;
            async_ = o.async_;
            o.ptr_ = nullptr;
        }
        return *this;
    }

    template <class T>
    T* as() const {
        return static_cast<T*>(ptr_);
    }

  private:
    // Best effort, never throws: a failure here means the context is already
    // broken, which the owning call reports through its own checks.
    void release() noexcept {
        if (ptr_ == nullptr) return;
        cudaError_t err;
        if (async_) {
            err = cudaFreeAsync(ptr_, stream_);
        } else {
            err = cudaStreamSynchronize(stream_);
            const cudaError_t free_err = cudaFree(ptr_);
            if (err == cudaSuccess) err = free_err;
        }
        if (err != cudaSuccess) cudaGetLastError();
        ptr_ = nullptr;
    }

    void* ptr_ = nullptr;
    cudaStream_t stream_ = nullptr;
    bool async_ = false;
};

}  // namespace logsketch::gpu
