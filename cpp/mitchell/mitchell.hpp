// Mitchell log-multiplication on the CPU: the seam the bindings call.
//
// Plain structs of raw pointers, sizes and strides (in elements, int64); no
// Python, no numpy.  Callers validate shapes and dtypes before calling.
#pragma once

#include <cstdint>

#include "../core/dtype.hpp"

namespace logsketch::mitchell {

enum class BinaryOp : int { multiply = 0, divide = 1 };

// out = a (op) b over an ndim-dimensional index space `shape`.  Strides may be
// 0 (broadcast) or negative; `out` may be exactly `a` or `b` (in place) but
// must not otherwise overlap them.
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

void binary(const BinaryParams& p);

// C[t] = mitchell_matmul(A[t], B[t]) for t in [0, batch): A[t] is m x k at
// a + a_offsets[t] with strides (a_rs, a_cs), B[t] is k x n, C[t] is m x n.
// Accumulates in float32 for float16/float32 and in float64 for float64.  C
// must not overlap A or B.
struct MatmulParams {
    Dtype dtype;
    bool compensated;
    std::int64_t batch, m, n, k;
    const void* a;
    const std::int64_t* a_offsets;
    std::int64_t a_rs, a_cs;
    const void* b;
    const std::int64_t* b_offsets;
    std::int64_t b_rs, b_cs;
    void* c;
    const std::int64_t* c_offsets;
    std::int64_t c_rs, c_cs;
};

void matmul(const MatmulParams& p);

}  // namespace logsketch::mitchell
