// Mitchell log-multiplication on CUDA devices: the seam the bindings call.
//
// Plain structs of raw device pointers, sizes and strides (in elements, int64)
// and a stream; no Python.  Callers validate dtypes and shapes; these entry
// points throw std::invalid_argument for what the kernels cannot take (more
// dimensions than kMaxDims after merging) and std::runtime_error for CUDA
// errors.  Everything is enqueued on `stream` on the current device; nothing
// synchronises.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "../../cpp/core/dtype.hpp"

namespace logsketch::mitchell::gpu {

using logsketch::Dtype;  // supported here: float16, bfloat16, float32
enum class BinaryOp : int { multiply = 0, divide = 1 };

// The most dimensions an index space may have once unit dimensions are dropped
// and dimensions contiguous in every operand are merged.
constexpr int kMaxDims = 8;

// out = a (op) b over an ndim-dimensional index space `shape` (host arrays).
// Strides may be 0 (broadcast) or negative; `out` may be exactly `a` or `b`
// (same pointer and strides) but must not otherwise overlap them.
struct BinaryParams {
    Dtype dtype;
    BinaryOp op;
    bool compensated;
    std::int64_t ndim;
    const std::int64_t* shape;
    const void* a;
    const std::int64_t* a_strides;
    const void* b;
    const std::int64_t* b_strides;
    void* out;
    const std::int64_t* out_strides;
};

void binary(const BinaryParams& p, cudaStream_t stream);

// C[t] = mitchell_matmul(A[t], B[t]) over the batch index t of shape
// batch_shape (batch_ndim dimensions; host arrays): A[t] is m x k at
// a + sum_d t_d * a_batch_strides[d] with strides (a_rs, a_cs), B[t] is k x n,
// C[t] is m x n.  Products are summed in increasing k from +0 in float32 and
// rounded to the dtype once, NaN results as the quiet NaN (bit-identical to
// logsketch.reference).  C must not overlap A or B.
struct MatmulParams {
    Dtype dtype;
    bool compensated;
    std::int64_t m, n, k;
    std::int64_t batch_ndim;
    const std::int64_t* batch_shape;
    const void* a;
    const std::int64_t* a_batch_strides;
    std::int64_t a_rs, a_cs;
    const void* b;
    const std::int64_t* b_batch_strides;
    std::int64_t b_rs, b_cs;
    void* c;
    const std::int64_t* c_batch_strides;
    std::int64_t c_rs, c_cs;
};

void matmul(const MatmulParams& p, cudaStream_t stream);

}  // namespace logsketch::mitchell::gpu
