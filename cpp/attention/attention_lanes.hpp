// Lane helpers shared by the attention kernel units (forward and backward),
// compiled per SIMD level with them: the float bit layouts, exp2 over lanes
// and the run-time to compile-time count dispatch.  Include after
// simd/unit.hpp and simd/lanes.hpp.
#pragma once

#include <cstdint>
#include <type_traits>

#include "../simd/lanes.hpp"

namespace logsketch::attention::LOGSKETCH_ISA {
namespace {

using namespace logsketch::simd;

template <class T>
struct FloatBits;
template <>
struct FloatBits<float> {
    using U = std::uint32_t;
    using I = std::int32_t;
    static constexpr int mantissa = 23;
    static constexpr int bias = 127;
};
template <>
struct FloatBits<double> {
    using U = std::uint64_t;
    using I = std::int64_t;
    static constexpr int mantissa = 52;
    static constexpr int bias = 1023;
};

template <class V>
inline V vmax(V a, V b) {
    return a > b ? a : b;  // a NaN b wins: NaN scores reach the sum either way
}

// ln(2)^k / k!, the Taylor coefficients of 2^f.
constexpr double exp2_taylor(int k) {
    double c = 1;
    for (int i = 1; i <= k; ++i) c *= 0.6931471805599453094 / i;
    return c;
}

// 2^x lane-wise, x <= 0 in every use (scores minus their running maximum in
// the forward, minus the row's lse in the backward).
// x = r + f with r = round(x) (the 1.5 * 2^mantissa trick, which also leaves
// r's integer in the low bits) and |f| <= 1/2; 2^f from a polynomial, 2^r
// built in the exponent field.  float: Cephes exp2f's degree-6 minimax
// polynomial, ~2 ulp; double: Taylor to degree 13, |error| < 2^-53 relative
// on |f| <= 1/2.  x below -bias (and -inf) gives exactly 0 (exponent field
// 0), NaN gives NaN.
template <class T, int W>
inline Vec<T, W> exp2v(Vec<T, W> x) {
    using V = Vec<T, W>;
    using B = FloatBits<T>;
    using U = Vec<typename B::U, W>;
    const V lo = splat<V>(T(-B::bias)), hi = splat<V>(T(B::bias + 1));
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    const V magic = splat<V>(T(1.5) * T(typename B::U(1) << B::mantissa));
    const V t = x + magic;
    const V f = x - (t - magic);
    V p;
    if constexpr (sizeof(T) == 4) {
        p = splat<V>(1.535336188319500e-4f);
        p = fmadd(p, f, splat<V>(1.339887440266574e-3f));
        p = fmadd(p, f, splat<V>(9.618437357674640e-3f));
        p = fmadd(p, f, splat<V>(5.550332471162809e-2f));
        p = fmadd(p, f, splat<V>(2.402264791363012e-1f));
        p = fmadd(p, f, splat<V>(6.931472028550421e-1f));
        p = fmadd(p, f, splat<V>(1.0f));
    } else {
        p = splat<V>(exp2_taylor(13));
#pragma GCC unroll 13
        for (int k = 12; k >= 0; --k) p = fmadd(p, f, splat<V>(exp2_taylor(k)));
    }
    const U n = bit_cast<U>(t) - bit_cast<U>(magic) + typename B::U(B::bias);
    return p * bit_cast<V>(n << B::mantissa);
}


// f(std::integral_constant<int, r>) for a run-time r in [1, R].
template <int R, class F>
inline void with_count(int r, F&& f) {
    if constexpr (R >= 1) {
        if (r == R) f(std::integral_constant<int, R>{});
        else with_count<R - 1>(r, f);
    }
}


}  // namespace
}  // namespace logsketch::attention::LOGSKETCH_ISA
