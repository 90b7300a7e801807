// The per-SIMD-level kernels of the JL family, as tables of function pointers.
// Each table comes from a kernel unit <name>.cpp compiled once per SIMD
// level; the drivers pick the active level's (runtime/dispatch.hpp).
#pragma once

#include <cstdint>

#include "../runtime/dispatch.hpp"

namespace logsketch::jl {

// Philox words and normals (jl_random_kernels_*): jl_random.hpp's mapping.
struct RandomKernels {
    int lanes;  // rows per vector in gaussian_block and words_col
    // out[(j - j0) * ld + (c - c0)] = z(c, j), the gaussian kind's standard
    // normal, for c in [c0, c0 + nc) and j in [j0, j0 + nj); j0 % 4 == 0,
    // nc % lanes == 0; rows c >= c_end are written as 0.
    void (*gaussian_block32)(std::uint64_t seed, std::int64_t c0, std::int64_t nc, std::int64_t c_end,
                             std::int64_t j0, std::int64_t nj, float* out, std::int64_t ld);
    void (*gaussian_block64)(std::uint64_t seed, std::int64_t c0, std::int64_t nc, std::int64_t c_end,
                             std::int64_t j0, std::int64_t nj, double* out, std::int64_t ld);
    // out[4 (q - q0) + w] = word w of block (row, q, tag), q in [q0, q0 + nq).
    void (*words_row)(std::uint64_t seed, std::uint32_t tag, std::uint32_t row, std::int64_t q0, std::int64_t nq,
                      std::uint32_t* out);
    // out[w * nc + (c - c0)] = word w of block (row c, q, tag); nc % lanes == 0.
    void (*words_col)(std::uint64_t seed, std::uint32_t tag, std::int64_t q, std::int64_t c0, std::int64_t nc,
                      std::uint32_t* out);
};

// Gaussian kind (jl_gemm_kernels_*): Y = X Z^T with one fma per product.
template <class T>
struct GemmKernels {
    int mr, nr;
    // c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + s_ij, times
    // `scale` when `last`, for i < mr, j < nr, where s_ij is
    // sum_p x[i * ldx + p] * r[p * nr + j] over p in [0, kc), one fma at a
    // time in increasing p from +0.
    void (*gemm)(std::int64_t kc, const T* x, std::int64_t ldx, const T* r, T* c, std::int64_t ldc, bool accumulate,
                 bool last, T scale);
    // y[c] = (first ? 0 : y[c]) + sum_t vals[t] * rows[t][c] over t < nnz, one
    // fma at a time in increasing t, then times `scale` when `last`; c < k.
    void (*sparse_rows)(std::int64_t k, std::int64_t nnz, const T* vals, const T* const* rows, T* y, bool first,
                        bool last, T scale);
};

// Sparse kind on dense X (jl_gather_kernels_*): sums of +-x, no multiplications.
template <class T>
struct GatherKernels {
    int rows;  // rows of X per transposed block (lanes x vectors)
    // xt[j * rows + i] = x[i * rs + j * cs] for i < n_rows, j < cols; rows
    // i >= n_rows are zero.
    void (*transpose)(const T* x, std::int64_t rs, std::int64_t cs, std::int64_t n_rows, std::int64_t cols, T* xt);
    // For c < k: out[c * rows + i] = P - M, P and M the sums of xt[j * rows + i]
    // over j in idx[bounds[2c] .. bounds[2c+1]) and idx[bounds[2c+1] ..
    // bounds[2c+2]), each summed as four interleaved partial sums (t mod 4)
    // added as (s0 + s1) + (s2 + s3).
    void (*gather)(const T* xt, std::int64_t k, const std::int64_t* bounds, const std::uint32_t* idx, T* out);
};

// SRHT (fwht_kernels_*).
template <class T>
struct FwhtKernels {
    // In-place unnormalized Walsh-Hadamard transform of a[0, 2^log2n):
    // stages h = 1, 2, 4, ... in increasing order, each butterfly
    // (a, b) -> (a + b, a - b); every level gives the same bits.
    void (*fwht)(T* a, int log2n);
    // buf = the transform of x[j * cs] with its sign bit flipped where
    // flip[j] (the bits of -0.0 or 0), j < d, zero-padded to 2^log2n; the
    // same bits as copying first, then fwht.  With cs == 1, `next` (or
    // nullptr) is the row to prefetch meanwhile.
    void (*signed_fwht)(const T* x, std::int64_t cs, std::int64_t d, const T* flip, int log2n, T* buf,
                        const T* next);
    // y[c] = sum over t < nnz, in increasing t, of vals[t] negated where
    // popcount(s[c] & cols[t]) is odd (row s[c] of H), for c < k.
    void (*sampled_sum)(const T* vals, const std::uint32_t* cols, std::int64_t nnz, const std::uint32_t* s,
                        std::int64_t k, T* y);
};

LOGSKETCH_DECLARE_PER_ISA(RandomKernels random_kernels();
                          GemmKernels<float> gemm_kernels32();
                          GemmKernels<double> gemm_kernels64();
                          GatherKernels<float> gather_kernels32();
                          GatherKernels<double> gather_kernels64();
                          FwhtKernels<float> fwht_kernels32();
                          FwhtKernels<double> fwht_kernels64();)

#define LOGSKETCH_JL_ACTIVE(table) LOGSKETCH_ACTIVE(table)()

inline RandomKernels active_random_kernels() { return LOGSKETCH_JL_ACTIVE(random_kernels); }

template <class T>
GemmKernels<T> active_gemm_kernels() {
    if constexpr (sizeof(T) == 4) return LOGSKETCH_JL_ACTIVE(gemm_kernels32);
    else return LOGSKETCH_JL_ACTIVE(gemm_kernels64);
}

template <class T>
GatherKernels<T> active_gather_kernels() {
    if constexpr (sizeof(T) == 4) return LOGSKETCH_JL_ACTIVE(gather_kernels32);
    else return LOGSKETCH_JL_ACTIVE(gather_kernels64);
}

template <class T>
FwhtKernels<T> active_fwht_kernels() {
    if constexpr (sizeof(T) == 4) return LOGSKETCH_JL_ACTIVE(fwht_kernels32);
    else return LOGSKETCH_JL_ACTIVE(fwht_kernels64);
}

#undef LOGSKETCH_JL_ACTIVE

}  // namespace logsketch::jl
