// The random matrices of the JL family, on top of philox.hpp's mapping.
// Header-only and CUDA-ready, so a GPU implementation builds the same bits.
//
// R is k x d; entry (c, j) reads block (row c, q = j >> 2, tag) of philox.hpp
// and its word w = j & 3:
//   gaussian  tag 1: Box-Muller on (x0, x1) gives columns 4q (cos) and 4q+1
//             (sin), on (x2, x3) columns 4q+2 and 4q+3: a float32 z; the entry
//             is z * scale in the output dtype, scale = sqrt(1/k).
//   sparse    tag 2: with h = floor(density * 2^31 + 0.5) (in float64),
//             x_w < h gives +scale, h <= x_w < 2h gives -scale, else 0;
//             scale = sqrt(1/(density k)).
//   srht      tag 3 (signs D): column j < d is negated when bit 31 of word
//             j & 3 of block (row 0, q = j >> 2) is set.
//             tag 4 (sampled rows of H): Fisher-Yates on [0, n), n = d rounded
//             up to a power of two: step t = 0..k-1 reads block (row 0, q = t),
//             w = x0 + 2^32 x1, swaps position t with t + floor(w (n - t) / 2^64).
//             Row c of R is sqrt(1/k) * H[s_c, j] * D_j with s_c the value left
//             at position c and H[a, b] = (-1)^popcount(a & b).
// Scales are computed in float64 and rounded once to the output dtype.
#pragma once

#include <cmath>
#include <cstdint>

#include "philox.hpp"

namespace logsketch::jl::random {
namespace {

constexpr std::uint32_t kTagGaussian = 1;
constexpr std::uint32_t kTagSparse = 2;
constexpr std::uint32_t kTagSrhtSign = 3;
constexpr std::uint32_t kTagSrhtSample = 4;

// h of the sparse kind for density in (0, 1]; 0 when density < 2^-32.
inline std::uint32_t sparse_half(double density) {
    return static_cast<std::uint32_t>(std::floor(density * 2147483648.0 + 0.5));
}

// +1, -1 or 0 for a word of the sparse kind (no 64-bit compare needed: h <= 2^31).
LOGSKETCH_HD inline int sparse_sign(std::uint32_t x, std::uint32_t half) {
    if (x < half) return 1;
    return x - half < half ? -1 : 0;
}

inline double gaussian_scale(std::int64_t k) { return std::sqrt(1.0 / static_cast<double>(k)); }
inline double sparse_scale(std::int64_t k, double density) {
    return std::sqrt(1.0 / (density * static_cast<double>(k)));
}
inline double srht_scale(std::int64_t k) { return std::sqrt(1.0 / static_cast<double>(k)); }

}  // namespace
}  // namespace logsketch::jl::random
