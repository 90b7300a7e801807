// The small kernels of the randomized SVD, around cuBLAS/cuSOLVER: host
// launchers enqueued on `stream`, nothing synchronises.  Matrices are
// column-major with the given leading dimension unless said otherwise;
// sizes are in elements.  T is float or double.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace logsketch::rsvd::gpu {

// pl (rows x l, ld rows) = P L from getrf's in-place factorization `lu`
// (rows x l, ld rows, rows >= l) and its 1-based pivots: L unit
// lower-trapezoidal (the strict lower part of lu, ones on the diagonal), and
// row i of L lands in row perm[i] of pl, where perm is the identity with the
// interchanges i <-> ipiv[i] - 1 applied for i = 0 .. l-1 in order (so
// A = P L U: scipy.linalg.lu(A, permute_l=True)[0]).  perm: rows ints of scratch.
template <class T>
void lu_to_pl(const T* lu, std::int64_t rows, std::int64_t l, const int* ipiv, int* perm, T* pl, cudaStream_t stream);

// G (l x l, ld l) += c * trace(G) * I, reading the trace before writing:
// the Cholesky QR shift.
template <class T>
void add_trace_shift(T* g, std::int64_t l, T c, cudaStream_t stream);

// out[0] = max |G_ij - delta_ij| over the upper triangle (i <= j) of G
// (l x l, ld l; the triangle syrk wrote), NaN counted as +inf so that a NaN
// never passes a "<= tolerance" test.
template <class T>
void identity_error(const T* g, std::int64_t l, T* out, cudaStream_t stream);

// dst (l x l, ld l) = the upper triangle of src (ld lds), zeros below.
template <class T>
void upper_triangle(const T* src, std::int64_t lds, std::int64_t l, T* dst, cudaStream_t stream);

// svd_flip with U deciding, on C-contiguous U (m x k) and Vt (k x n): for
// each column j of U, i = the index of the largest |U[i, j]| (the first on
// ties; a NaN counts as largest, as in numpy's argmax); if U[i, j] < 0,
// negate column j of U and row j of Vt.
template <class T>
void flip_signs(T* u, std::int64_t m, std::int64_t k, T* vt, std::int64_t n, cudaStream_t stream);

// Folds one cuSOLVER info value into a sticky record: when first[0] is still
// 0 and *info is negative (or positive and !allow_positive), first = {*info, site}.
void record_info(const int* info, int* first, int site, bool allow_positive, cudaStream_t stream);

}  // namespace logsketch::rsvd::gpu
