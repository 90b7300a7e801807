// Randomized SVD (Halko, Martinsson & Tropp 2011) on the CPU: the seam the
// bindings call.
//
// Plain structs of raw pointers and sizes (int64, strides in elements); no
// Python.  Callers validate before calling: 1 <= k <= l <= min(m, n), A finite
// is checked here (std::domain_error), CSR indices in range, sorted and unique
// within each row.  The algorithm is scikit-learn's randomized_svd with the
// test matrix taken from the JL family (rsvd.cpp says each step).
#pragma once

#include <cstdint>

#include "../jl/jl.hpp"

namespace logsketch::rsvd {


enum class Normalizer : int { none = 0, lu = 1, qr = 2, cholqr = 3 };

// A, m x n, either dense (element (i, j) at a[i * rs + j * cs]; C order,
// rs = n and cs = 1, or F order, rs = 1 and cs = m) or CSR.  A CSC matrix is the CSR of its transpose: pass that with
// csr_transposed = true.
struct Matrix {
    Dtype dtype;
    std::int64_t m, n;
    bool sparse;
    // dense
    const void* a;
    std::int64_t rs, cs;
    // CSR (of A, or of A^T when csr_transposed)
    const void* data;
    const void* indices;
    const void* indptr;
    std::int64_t nnz;
    bool index64;
    bool csr_transposed;
    // Optional column means (n entries, A's dtype): factor A - 1 mean^T
    // without forming it (PCA).  nullptr for none.
    const void* mean;
};

struct Options {
    std::int64_t k;  // components returned
    std::int64_t l;  // sketch width: k + oversamples, at most min(m, n)
    int n_iter;
    Normalizer normalizer;
    bool transpose;  // factor A^T (then swap the factors back)
    bool flip_sign;  // svd_flip's U-based signs
    jl::Kind sketch;
    std::uint64_t seed;
    double density;  // sparse sketch only
};

// U: m x k, s: k, vt: k x n, all C-contiguous in A's dtype.
// Throws std::domain_error if A holds NaN or infinity, std::runtime_error if
// LAPACK fails.
void randomized_svd(const Matrix& a, const Options& opt, void* u, void* s, void* vt);

}  // namespace logsketch::rsvd
