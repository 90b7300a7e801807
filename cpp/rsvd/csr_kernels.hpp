// Sparse x dense products of the randomized SVD, per SIMD level
// (csr_kernels.cpp, compiled once per level).
#pragma once

#include <cstdint>

#include "../runtime/dispatch.hpp"

namespace logsketch::rsvd {

// Panels (the tall sketches) are row-major with a leading dimension that is a
// multiple of kPanelAlign elements, padding columns zero, so every row is a
// whole number of vectors at every level.
constexpr std::int64_t kPanelAlign = 16;

template <class T>
struct CsrKernels {
    // For rows i in [r0, r1) and c < ld: y[i * ld + c] = sum over t in
    // [bounds[i * stride], bounds[i * stride + 1]) of
    // data[t] * x[indices[t] * ld + c], one fma per term in increasing t (two
    // roundings at the scalar level), so the bits do not depend on the row
    // split or the thread count.  accumulate: the chain starts from y's
    // values instead of zero, so consecutive ranges of a row give the bits of
    // one pass over them.
    void (*rows32)(const T* data, const std::int32_t* indices, const std::int64_t* bounds, std::int64_t stride,
                   std::int64_t r0, std::int64_t r1, const T* x, T* y, std::int64_t ld, bool accumulate);
    void (*rows64)(const T* data, const std::int64_t* indices, const std::int64_t* bounds, std::int64_t stride,
                   std::int64_t r0, std::int64_t r1, const T* x, T* y, std::int64_t ld, bool accumulate);
};

LOGSKETCH_DECLARE_PER_ISA(CsrKernels<float> csr_kernels32();
                          CsrKernels<double> csr_kernels64();)

template <class T>
CsrKernels<T> active_csr_kernels() {
    if constexpr (sizeof(T) == 4) return LOGSKETCH_ACTIVE(csr_kernels32)();
    else return LOGSKETCH_ACTIVE(csr_kernels64)();
}

}  // namespace logsketch::rsvd
