// Turning cuBLAS and cuSOLVER status codes into C++ exceptions with the call site.
//
// Host-only, like cuda_check.cuh.  A failed status is a std::runtime_error
// (RuntimeError in Python) naming the call; argument errors are the callers'
// to throw as std::invalid_argument before any library call.
#pragma once

#include <cublas_v2.h>
#include <cusolverDn.h>

#include <stdexcept>
#include <string>

namespace logsketch::gpu {

// cuSOLVER has no status-to-string function; these are cusolver_common.h's names.
inline const char* cusolver_status_name(cusolverStatus_t s) {
    switch (s) {
        case CUSOLVER_STATUS_SUCCESS: return "CUSOLVER_STATUS_SUCCESS";
        case CUSOLVER_STATUS_NOT_INITIALIZED: return "CUSOLVER_STATUS_NOT_INITIALIZED";
        case CUSOLVER_STATUS_ALLOC_FAILED: return "CUSOLVER_STATUS_ALLOC_FAILED";
        case CUSOLVER_STATUS_INVALID_VALUE: return "CUSOLVER_STATUS_INVALID_VALUE";
        case CUSOLVER_STATUS_ARCH_MISMATCH: return "CUSOLVER_STATUS_ARCH_MISMATCH";
        case CUSOLVER_STATUS_EXECUTION_FAILED: return "CUSOLVER_STATUS_EXECUTION_FAILED";
        case CUSOLVER_STATUS_INTERNAL_ERROR: return "CUSOLVER_STATUS_INTERNAL_ERROR";
        case CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED: return "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
        case CUSOLVER_STATUS_NOT_SUPPORTED: return "CUSOLVER_STATUS_NOT_SUPPORTED";
        default: return "unknown cuSOLVER status";
    }
}

inline void check_cublas(cublasStatus_t s, const char* what, const char* file, int line) {
    if (s != CUBLAS_STATUS_SUCCESS) {
        throw std::runtime_error(std::string("cuBLAS error ") + cublasGetStatusName(s) + " (" +
                                 cublasGetStatusString(s) + ") in " + what + " at " + file + ":" +
                                 std::to_string(line));
    }
}

inline void check_cusolver(cusolverStatus_t s, const char* what, const char* file, int line) {
    if (s != CUSOLVER_STATUS_SUCCESS) {
        throw std::runtime_error(std::string("cuSOLVER error ") + cusolver_status_name(s) + " (" +
                                 std::to_string(static_cast<int>(s)) + ") in " + what + " at " + file + ":" +
                                 std::to_string(line));
    }
}

}  // namespace logsketch::gpu

#define LOGSKETCH_CUBLAS_CHECK(expr) ::logsketch::gpu::check_cublas((expr), #expr, __FILE__, __LINE__)
#define LOGSKETCH_CUSOLVER_CHECK(expr) ::logsketch::gpu::check_cusolver((expr), #expr, __FILE__, __LINE__)
