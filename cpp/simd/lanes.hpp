// Vector types for the per-ISA translation units, written once with GCC/Clang
// vector extensions and compiled per SIMD level (the unit's target flags pick
// the instructions).  Width 1 is the plain scalar type, so one template serves
// the scalar level too.  Portable: where the unit's flags enable an x86 vector
// extension, x86_lanes.hpp gives the few operations vector extensions lack;
// elsewhere they run lane by lane.  Internal linkage throughout: see philox.hpp.
#pragma once

#if defined(__AVX2__) || defined(__AVX512F__) || defined(__F16C__)
#include "x86_lanes.hpp"
#define LOGSKETCH_X86_LANES 1
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../core/philox.hpp"

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
    } else {
#ifdef LOGSKETCH_X86_LANES
        return x86::fmadd(a, b, c);
#else
        V r;
        for (int i = 0; i < static_cast<int>(sizeof(V) / sizeof(a[0])); ++i) r[i] = std::fma(a[i], b[i], c[i]);
        return r;
#endif
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
#ifdef LOGSKETCH_X86_LANES
        return x86::sqrt(x);
#else
        for (int i = 0; i < W; ++i) x[i] = std::sqrt(x[i]);
        return x;
#endif
    }
};

template <int W>
using Lanes = std::conditional_t<W == 1, philox::ScalarLanes, VecLanes<W>>;

}  // namespace
}  // namespace logsketch::simd
