// Randomized SVD on CUDA devices: the seam the bindings call.
//
// A plain struct of raw device pointers and sizes (elements, int64) and a
// stream; no Python.  The algorithm and its conventions are those of
// logsketch.randomized_svd (python/logsketch/_rsvd_gpu.py documents them):
// M = A or A^T (p x q), Omega = R^T for the JL matrix R (l x q) of cuda/jl,
// n_iter normalized power iterations, an orthonormal basis Q of M Q, the
// SVD of the small B = Q^T M, then A's U (m x k), S (k) and Vt (k x n).
//
// Callers validate first (1 <= k <= l <= min(m, n), n_iter >= 0, m, n and lda
// below 2^31 because cuBLAS/cuSOLVER take int sizes); randomized_svd throws
// std::invalid_argument for what it cannot take and std::runtime_error for
// CUDA, cuBLAS and cuSOLVER errors, including an SVD that did not converge.
//
// Everything is enqueued on `stream` on the current device, and the call
// synchronises that stream: once per Cholesky QR (to read potrf's info and
// decide on the shift) and once at the end (to check every cuSOLVER info
// value before returning).  Scratch memory is allocated in stream order
// (cudaMallocAsync) and freed before returning.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "../../cpp/core/dtype.hpp"

#include "../jl/jl_cuda.hpp"

namespace logsketch::rsvd::gpu {

using logsketch::Dtype;  // supported here: float32, float64
enum class Normalizer : int { none = 0, lu = 1, qr = 2, cholqr = 3 };

struct Params {
    Dtype dtype;
    // A, m x n: element (i, j) at a[i * lda + j] when a_row_major (lda >= n),
    // else at a[i + j * lda] (lda >= m).  Only read.
    std::int64_t m, n;
    const void* a;
    std::int64_t lda;
    bool a_row_major;
    std::int64_t k, l, n_iter;
    Normalizer normalizer;
    bool transpose, flip_sign;
    // Omega's R: the JL matrix of this kind with l rows and q = (transpose ? m : n)
    // columns (density: sparse only; srht_rows: the l sampled Hadamard rows, srht only).
    jl::gpu::Kind sketch;
    std::uint64_t seed;
    double density;
    const std::int64_t* srht_rows;
    // Outputs, C-contiguous, of A's dtype, not overlapping A or each other:
    // u (m x k), s (k), vt (k x n).
    void* u;
    void* s;
    void* vt;
};

void randomized_svd(const Params& p, cudaStream_t stream);

}  // namespace logsketch::rsvd::gpu
