// JL random projection on CUDA devices: the seam the bindings call.
//
// Plain structs of raw device pointers, sizes and strides (in elements, int64)
// and a stream; no Python.  The random matrix R (k x d) is the CPU's, bit for
// bit (cpp/core/jl_random.hpp over cpp/core/philox.hpp, compiled here as
// device code with -fmad=false).  Callers validate as for the CPU (cpp/jl/jl.hpp):
// k and d in [1, 2^32), density in (0, 1] with sparse_half(density) >= 1,
// srht k <= the padded d; these entry points throw std::invalid_argument for
// what the kernels cannot take (jl_check.hpp: a sparse density outside (0, 1],
// srht without its rows; srht with a padded d above kMaxSrhtOrder) and
// std::runtime_error for CUDA errors.  Everything is enqueued on `stream` on
// the current device; nothing synchronises.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "../../cpp/core/dtype.hpp"

namespace logsketch::jl::gpu {

using logsketch::Dtype;  // supported here: float32, float64
enum class Kind : int { gaussian = 0, sparse = 1, srht = 2 };

// The largest padded order n of the srht kind: one row's transform lives in
// shared memory (2^14 float64 = 128 KiB, within sm_80's 163 KiB per block).
constexpr std::int64_t kMaxSrhtOrder = std::int64_t(1) << 14;

// What defines R.  srht_rows: the k sampled rows s_0..s_{k-1} of the Hadamard
// matrix (int64, device memory; the CPU's srht_sample), srht only.
struct Matrix {
    Kind kind;
    std::int64_t k, d;
    std::uint64_t seed;
    double density;  // sparse only
    const std::int64_t* srht_rows;
};

// R itself, k x d, C-contiguous, dense for every kind (the sparse kind's zeros
// included: the GPU has no CSR output).
void components(const Matrix& r, Dtype dtype, void* out, cudaStream_t stream);

// y = X R^T: X is n x d with element (i, j) at x[i * rs + j] (contiguous rows),
// y is n x k, C-contiguous, of X's dtype, and must not overlap X.
struct ProjectParams {
    Dtype dtype;
    std::int64_t n;
    const void* x;
    std::int64_t rs;
    void* y;
};

void project(const Matrix& r, const ProjectParams& p, cudaStream_t stream);

}  // namespace logsketch::jl::gpu
