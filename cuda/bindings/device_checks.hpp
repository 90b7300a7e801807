// Checks the CUDA binding files run before a kernel sees a raw pointer: the
// device exists, and a pointer is device-dereferenceable memory on it.
#pragma once

#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "../runtime/cuda_check.cuh"

namespace logsketch::bindings {

inline void check_device(int device) {
    int count = 0;
    LOGSKETCH_CUDA_CHECK(cudaGetDeviceCount(&count));
    if (device < 0 || device >= count) {
        throw pybind11::value_error("device must be in [0, " + std::to_string(count) + "); got " +
                                    std::to_string(device));
    }
}

// Runs a launch, turning the kernels' std::invalid_argument (a shape they
// cannot take) into ValueError.
template <class Launch>
void launch_checked(Launch&& launch) {
    try {
        launch();
    } catch (const std::invalid_argument& e) {
        throw pybind11::value_error(e.what());
    }
}

// Device or managed memory on `device`, or registered host memory: plain host
// memory would fault inside the kernel and poison the process's CUDA context.
// A null pointer passes only with allow_null (an empty array's data pointer).
inline void check_pointer(const char* name, std::uintptr_t ptr, int device, bool allow_null = false) {
    if (ptr == 0) {
        if (allow_null) return;
        throw pybind11::value_error(std::string(name) + " is a null pointer");
    }
    cudaPointerAttributes attr{};
    const cudaError_t err = cudaPointerGetAttributes(&attr, reinterpret_cast<const void*>(ptr));
    if (err != cudaSuccess) {
        cudaGetLastError();
        throw pybind11::value_error(std::string(name) + " is not a CUDA device pointer (" + cudaGetErrorString(err) +
                                    ")");
    }
    if (attr.type == cudaMemoryTypeUnregistered) {
        throw pybind11::value_error(std::string(name) + " points to host memory, not CUDA device memory");
    }
    if (attr.type == cudaMemoryTypeDevice && attr.device != device) {
        throw pybind11::value_error(std::string(name) + " lives on device " + std::to_string(attr.device) +
                                    ", not on device " + std::to_string(device));
    }
}

}  // namespace logsketch::bindings
