// Vector types for the per-ISA translation units, written once with GCC/Clang
// vector extensions and compiled per SIMD level (the unit's target flags pick
// the instructions).  Width 1 is the plain scalar type, so one template serves
// the scalar level too.  Internal linkage throughout: see philox.hpp.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "philox.hpp"

namespace logsketch::simd {
namespace {

template <class T, int W>
struct VecOf {
    typedef T type __attribute__((vector_size(sizeof(T) * W)));
};
template <class T>
struct VecOf<T, 1> {
    using type = T;
};
template <class T, int W>
using Vec = typename VecOf<T, W>::type;

// Lanes of T in a vector of `bytes` bytes (1 for the scalar level, bytes = 0).
template <class T, int bytes>
constexpr int lanes_of() {
    return bytes >= static_cast<int>(sizeof(T)) ? bytes / static_cast<int>(sizeof(T)) : 1;
}

template <class V>
inline V load(const void* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <class V>
inline void store(void* p, const V& v) {
    std::memcpy(p, &v, sizeof v);
}

// Same-size reinterpretation (a bit cast) between vector or scalar types.
template <class To, class From>
inline To bit_cast(const From& x) {
    static_assert(sizeof(To) == sizeof(From));
    To y;
    std::memcpy(&y, &x, sizeof y);
    return y;
}

// Every lane x.  x - 0 is x exactly (-0.0 included, unlike 0 + x), so the
// compiler folds the subtraction away and emits a plain broadcast.
template <class V, class T>
inline V splat(T x) {
    return x - V{};
}

// a * b + c in one rounding where the level has FMA; the scalar level rounds twice.
template <class V>
inline V fmadd(V a, V b, V c) {
    if constexpr (std::is_floating_point_v<V>) {
#ifdef __FMA__
        return std::fma(a, b, c);
#else
        return a * b + c;
#endif
    } else if constexpr (sizeof(V) == 64 && sizeof(a[0]) == 4) {
        return _mm512_fmadd_ps(a, b, c);
    } else if constexpr (sizeof(V) == 64) {
        return _mm512_fmadd_pd(a, b, c);
    } else if constexpr (sizeof(a[0]) == 4) {
        return _mm256_fmadd_ps(a, b, c);
    } else {
        return _mm256_fmadd_pd(a, b, c);
    }
}

// Lane i holds i: the offsets of consecutive rows or columns.
template <class V, int W>
inline V iota() {
    if constexpr (W == 1) {
        return V{};
    } else {
        V v{};
        for (int i = 0; i < W; ++i) v[i] = i;
        return v;
    }
}

// Philox lanes (philox.hpp's L): W uint32 and float lanes in one vector.
template <int W>
struct VecLanes {
    using U = Vec<std::uint32_t, W>;
    using F = Vec<float, W>;
    using I = Vec<std::int32_t, W>;
    using U64 = Vec<std::uint64_t, W>;
    static U splat(std::uint32_t v) { return U{} + v; }
    static void mulhilo(std::uint32_t m, U x, U& hi, U& lo) {
        const U64 p = __builtin_convertvector(x, U64) * static_cast<std::uint64_t>(m);
        hi = __builtin_convertvector(p >> 32, U);
        lo = __builtin_convertvector(p, U);
    }
    static F as_float(U x) { return (F)x; }
    static U as_uint(F x) { return (U)x; }
    // Signed conversion: exact for the values used (< 2^24) and one
    // instruction on AVX2, which lacks the unsigned one.
    static F to_float(U x) { return __builtin_convertvector((I)x, F); }
    static F sqrt(F x) {
        // The masked form: GCC 12's _mm512_sqrt_ps warns of an uninitialized operand.
        if constexpr (W == 16) return _mm512_maskz_sqrt_ps(static_cast<__mmask16>(0xFFFF), x);
        else if constexpr (W == 8) return _mm256_sqrt_ps(x);
        else return _mm_sqrt_ps(x);
    }
};

template <int W>
using Lanes = std::conditional_t<W == 1, philox::ScalarLanes, VecLanes<W>>;

}  // namespace
}  // namespace logsketch::simd
