// Turning CUDA runtime errors into C++ exceptions with the call site.
//
// Host-only and free of device code, so binding files compiled by the host
// compiler include it too.  std::runtime_error reaches Python as RuntimeError
// (pybind11's default translation); argument errors use std::invalid_argument
// (ValueError) and are thrown by the callers, not here.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace logsketch::gpu {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* what, const char* file, int line) {
    throw std::runtime_error(std::string("CUDA error ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) +
                             ") in " + what + " at " + file + ":" + std::to_string(line));
}

inline void check_cuda(cudaError_t err, const char* what, const char* file, int line) {
    if (err != cudaSuccess) {
        cudaGetLastError();  // clear a non-sticky error so the next call starts clean
        throw_cuda_error(err, what, file, line);
    }
}

}  // namespace logsketch::gpu

// LOGSKETCH_CUDA_CHECK(cudaMemsetAsync(...)): throw if the call failed.
#define LOGSKETCH_CUDA_CHECK(expr) ::logsketch::gpu::check_cuda((expr), #expr, __FILE__, __LINE__)

// After kernel<<<...>>>(...): throw if the launch failed (bad configuration,
// no kernel image for this device, ...).  Errors inside the kernel surface at
// the next synchronising call, as with any CUDA library.
#define LOGSKETCH_CUDA_CHECK_LAUNCH(kernel_name) \
    ::logsketch::gpu::check_cuda(cudaGetLastError(), "launch of " kernel_name, __FILE__, __LINE__)
