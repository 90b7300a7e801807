// Make a device current for a scope and restore the previous one after.
//
// The runtime's current device is per host thread and shared with every other
// runtime in the process (PyTorch, CuPy), so the bindings switch to the
// arrays' device only for the duration of a call.
#pragma once

#include <cuda_runtime_api.h>

#include "cuda_check.cuh"

namespace logsketch::gpu {

class DeviceGuard {
  public:
    explicit DeviceGuard(int device) {
        LOGSKETCH_CUDA_CHECK(cudaGetDevice(&previous_));
        if (device != previous_) {
            LOGSKETCH_CUDA_CHECK(cudaSetDevice(device));
            switched_ = true;
        }
    }
    ~DeviceGuard() {
        if (switched_) cudaSetDevice(previous_);  // best effort: destructors must not throw
    }
    DeviceGuard(const DeviceGuard&) = delete;
    DeviceGuard& operator=(const DeviceGuard&) = delete;

  private:
    int previous_ = 0;
    bool switched_ = false;
};

}  // namespace logsketch::gpu
