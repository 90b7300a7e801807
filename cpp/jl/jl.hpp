// JL random projection on the CPU: the seam the bindings call.
//
// Plain structs of raw pointers, sizes and strides (in elements, int64); no
// Python, no numpy.  Callers validate before calling: k and d in [1, 2^32),
// density in (0, 1] with sparse_half(density) >= 1, srht k <= the padded d.
// The random matrix R (k x d) is jl_random.hpp's; outputs never depend on the
// thread count or on how the rows of X are split between calls.
#pragma once

#include <cstdint>
#include <vector>

#include "../core/dtype.hpp"

namespace logsketch::jl {

enum class Kind : int { gaussian = 0, sparse = 1, srht = 2 };

// What defines R.
struct Matrix {
    Kind kind;
    std::int64_t k, d;
    std::uint64_t seed;
    double density;  // sparse only
};

// Dense X, n x d: element (i, j) at x[i * rs + j * cs] (any strides).
struct DenseX {
    Dtype dtype;
    std::int64_t n;
    const void* x;
    std::int64_t rs, cs;
};

// CSR X, n x d: column indices sorted within each row, no duplicates; indices
// and indptr both int32 or both int64.
struct CsrX {
    Dtype dtype;
    std::int64_t n;
    const void* data;
    const void* indices;
    const void* indptr;
    bool index64;
};

// What every entry point asserts of R: 1 <= k, d < 2^32 (rows and column
// blocks index 32-bit counter words), a sparse density in [2^-32, 1], and for
// srht k <= d rounded up to a power of two.
bool well_formed(const Matrix& r);

// y = X R^T: n x k, C-contiguous, of X's dtype; y must not overlap X.
void project_dense(const Matrix& r, const DenseX& x, void* y);
void project_csr(const Matrix& r, const CsrX& x, void* y);

// R itself, for the dense kinds (gaussian, srht): k x d, C-contiguous.
void dense_components(const Matrix& r, Dtype dtype, void* out);

// R itself, for the sparse kind, as CSR in two passes: the nonzeros of each
// row, then (indptr from their prefix sums) the sorted columns and values.
void sparse_row_counts(const Matrix& r, std::int64_t* counts);
void sparse_fill(const Matrix& r, Dtype dtype, const std::int64_t* indptr, std::int64_t* indices, void* data);

// The SRHT's sampled rows s_0..s_{k-1} of the n x n Hadamard matrix, n a power
// of two >= k (jl_random.hpp).
std::vector<std::int64_t> srht_sample(std::uint64_t seed, std::int64_t k, std::int64_t n);

}  // namespace logsketch::jl
