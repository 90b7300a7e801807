// The x86 forms of the lane operations GCC/Clang vector extensions lack, for
// units compiled with AVX2 or AVX-512 flags (lanes.hpp includes this only there).
#pragma once

#include <immintrin.h>

namespace logsketch::simd::x86 {
namespace {

// a * b + c in one rounding, for 256- and 512-bit float and double vectors.
template <class V>
inline V fmadd(V a, V b, V c) {
    if constexpr (sizeof(V) == 64 && sizeof(a[0]) == 4) {
        return _mm512_fmadd_ps(a, b, c);
    } else if constexpr (sizeof(V) == 64) {
        return _mm512_fmadd_pd(a, b, c);
    } else if constexpr (sizeof(a[0]) == 4) {
        return _mm256_fmadd_ps(a, b, c);
    } else {
        return _mm256_fmadd_pd(a, b, c);
    }
}

// Lane-wise square root of a float vector of 4, 8 or 16 lanes.
template <class F>
inline F sqrt(F x) {
    // The masked form: GCC 12's _mm512_sqrt_ps warns of an uninitialized operand.
    if constexpr (sizeof(F) == 64) return _mm512_maskz_sqrt_ps(static_cast<__mmask16>(0xFFFF), x);
    else if constexpr (sizeof(F) == 32) return _mm256_sqrt_ps(x);
    else return _mm_sqrt_ps(x);
}

}  // namespace
}  // namespace logsketch::simd::x86
