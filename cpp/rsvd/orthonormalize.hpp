// Normalizers of the randomized SVD's row-major panels (rows x l, leading
// dimension ld, l <= rows): what keeps the power iterations from losing the
// small singular directions to rounding.
#pragma once

#include <cstdint>

#include "rsvd.hpp"

namespace logsketch::rsvd {

// One normalization between power-iteration products: keeps the column span,
// not necessarily orthonormal (none: unchanged; lu: P L of an LU with partial
// pivoting, scipy.linalg.lu's permute_l; qr: Householder Q; cholqr: X R^-1
// with R the Cholesky factor of X^T X; when X^T X is singular to working
// precision, a shifted pass then an unshifted one; Householder when even
// that fails).
template <class T>
void normalize(Normalizer how, T* x, std::int64_t rows, std::int64_t l, std::int64_t ld);

// An orthonormal basis of the span of X, in place: Householder QR, or for
// cholqr Cholesky QR twice (three times when the first pass needs a shift),
// kept only if orthonormal to 100 l eps (else Householder, e.g. for a
// rank-deficient X).
template <class T>
void orthonormalize(Normalizer how, T* x, std::int64_t rows, std::int64_t l, std::int64_t ld);

// X = Q R by Cholesky QR (as orthonormalize's cholqr): Q in place of X, R
// (upper triangular, row-major l x l) in r.  False if Q is not orthonormal to
// 100 l eps; X is then overwritten with a matrix of the same span.
template <class T>
bool cholqr_factor(T* x, std::int64_t rows, std::int64_t l, std::int64_t ld, T* r);

}  // namespace logsketch::rsvd
