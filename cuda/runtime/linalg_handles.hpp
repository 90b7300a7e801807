// cuBLAS and cuSOLVER handles: created lazily, one pool per device, reused.
//
// A handle is not safe to use from two threads at once (cublasSetStream and
// the library's internal workspace are per handle), so a call leases a pair
// from its device's pool for its duration: a pool grows to the number of
// threads that ever ran a call at the same time.  Creating a pair allocates
// device memory and costs milliseconds, hence the reuse.
//
// A lease sets both handles to the caller's stream.  Its destructor
// synchronises that stream before it returns the pair, so work still queued
// from one call never shares a handle's workspace with the next caller's
// stream (the callers here synchronise at the end anyway, to read cuSOLVER's
// info values; this covers the paths that leave by an exception).
//
// Handles are never destroyed: the pools live until the process exits, and
// destroying handles from static destructors races with the CUDA runtime's
// own teardown (PyTorch keeps its handles the same way).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

namespace logsketch::gpu {

struct LinalgHandles {
    cublasHandle_t blas = nullptr;
    cusolverDnHandle_t solver = nullptr;
};

class LinalgLease {
  public:
    // Leases a pair for the current device (the caller's DeviceGuard has set it)
    // and points both at `stream`.  Throws std::runtime_error on failure.
    explicit LinalgLease(cudaStream_t stream);
    ~LinalgLease();
    LinalgLease(const LinalgLease&) = delete;
    LinalgLease& operator=(const LinalgLease&) = delete;

    cublasHandle_t blas() const { return handles_.blas; }
    cusolverDnHandle_t solver() const { return handles_.solver; }

  private:
    int device_ = 0;
    cudaStream_t stream_ = nullptr;
    LinalgHandles handles_;
};

}  // namespace logsketch::gpu
