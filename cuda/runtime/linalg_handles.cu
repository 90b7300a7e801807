// The per-device pools of cuBLAS/cuSOLVER handle pairs (linalg_handles.hpp).
#include <map>
#include <mutex>
#include <vector>

#include "cuda_check.cuh"
#include "linalg_check.hpp"
#include "linalg_handles.hpp"

namespace logsketch::gpu {
namespace {

struct Pools {
    std::mutex mutex;
    std::map<int, std::vector<LinalgHandles>> free;  // idle pairs by device
};

// Leaked on purpose: see linalg_handles.hpp on destruction at exit.
Pools& pools() {
    static Pools* p = new Pools();
    return *p;
}

LinalgHandles create_pair() {
    LinalgHandles h;
    LOGSKETCH_CUBLAS_CHECK(cublasCreate(&h.blas));
    // Full float32 arithmetic (no TF32) and host-side alpha/beta: cuBLAS's
    // defaults, stated so that nothing a caller changed on another handle applies.
    cublasStatus_t st = cublasSetMathMode(h.blas, CUBLAS_DEFAULT_MATH);
    if (st == CUBLAS_STATUS_SUCCESS) st = cublasSetPointerMode(h.blas, CUBLAS_POINTER_MODE_HOST);
    if (st != CUBLAS_STATUS_SUCCESS) {
        cublasDestroy(h.blas);
        LOGSKETCH_CUBLAS_CHECK(st);
    }
    const cusolverStatus_t sst = cusolverDnCreate(&h.solver);
    if (sst != CUSOLVER_STATUS_SUCCESS) {
        cublasDestroy(h.blas);
        LOGSKETCH_CUSOLVER_CHECK(sst);
    }
    return h;
}

// Never throws (destructors call it): a pair that cannot be stored is leaked.
void give_back(int device, const LinalgHandles& h) noexcept {
    try {
        Pools& p = pools();
        std::lock_guard<std::mutex> lock(p.mutex);
        p.free[device].push_back(h);
    } catch (...) {
    }
}

}  // namespace

LinalgLease::LinalgLease(cudaStream_t stream) : stream_(stream) {
    LOGSKETCH_CUDA_CHECK(cudaGetDevice(&device_));
    {
        Pools& p = pools();
        std::lock_guard<std::mutex> lock(p.mutex);
        auto& idle = p.free[device_];
        if (!idle.empty()) {
            handles_ = idle.back();
            idle.pop_back();
        }
    }
    if (handles_.blas == nullptr) handles_ = create_pair();  // outside the lock: slow, and may throw
    const cublasStatus_t st = cublasSetStream(handles_.blas, stream_);
    const cusolverStatus_t sst = st == CUBLAS_STATUS_SUCCESS ? cusolverDnSetStream(handles_.solver, stream_)
                                                             : CUSOLVER_STATUS_SUCCESS;
    if (st != CUBLAS_STATUS_SUCCESS || sst != CUSOLVER_STATUS_SUCCESS) {
        give_back(device_, handles_);  // the pair itself is fine; the stream was refused
        LOGSKETCH_CUBLAS_CHECK(st);
        LOGSKETCH_CUSOLVER_CHECK(sst);
    }
}

LinalgLease::~LinalgLease() {
    // Best effort: an error here is the stream's, already reported (or about
    // to be) by the call that owns it; destructors must not throw.
    if (cudaStreamSynchronize(stream_) != cudaSuccess) cudaGetLastError();
    give_back(device_, handles_);
}

}  // namespace logsketch::gpu
