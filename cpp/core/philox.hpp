// Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as
// easy as 1, 2, 3", SC 2011) and the mapping every random matrix in logsketch
// is built from.  Header-only; compiles as CUDA device code too.
//
// The mapping (the contract that CPU and GPU implementations share, bit for bit):
//
//   key      (k0, k1) = (seed mod 2^32, seed >> 32) for a 64-bit seed
//   counter  (c0, c1, c2, c3) = (q mod 2^32, q >> 32, row, tag): q is the block
//            index of 4 consecutive columns (q = column >> 2), row a row of the
//            matrix (< 2^32), tag the stream (each family fixes its tags)
//   output   x0..x3 = Philox4x32-10(counter, key): the words of columns 4q..4q+3
//   uniform  open(x) = ((x >> 8) + 1) * 2^-24, in [2^-24, 1], exact in float32
//   normal   Box-Muller on a word pair (a, b), computed in float32 with IEEE
//            +, -, *, / and sqrt only (no fma, no libm), in the order written
//            in box_muller() below; gives (r cos t, r sin t) with
//            r = sqrt(-2 ln open(a)) and t = 2 pi ((b >> 8) * 2^-24).
//
// Why no libm: glibc and CUDA round log/sin/cos differently, so the same seed
// would give different matrices.  ln and sincos here are short polynomials on
// exactly reduced arguments: log_unit() and sincos_octant() below, accurate to
// a few float32 ulps (|z - z_exact| < 3e-7 * max(1, |z|), measured over 2^20
// draws in tests/test_jl_random.py).  The smallest uniform, 2^-24, caps |z| at
// sqrt(-2 ln 2^-24) = 5.77, a tail of probability 8e-9.
//
// Compile users of this header without floating-point contraction
// (-ffp-contract=off; nvcc: -fmad=false) so a*b+c stays two roundings.
//
// Everything is a template over a lane type L, so the same code runs on
// scalars (ScalarLanes, here) and on SIMD vectors (cpp/simd/lanes.hpp):
// L::U holds uint32 lanes, L::F float lanes.  All of it has internal linkage:
// per-ISA translation units each keep their own copy (no ODR merging of code
// built with different target flags).
#pragma once

#include <cstdint>
#include <cstring>

#include "host_device.hpp"

namespace logsketch::philox {
namespace {

constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // multipliers
constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // key schedule (Weyl)

struct Key {
    std::uint32_t k0, k1;
};

LOGSKETCH_HD inline Key key_from_seed(std::uint64_t seed) {
    return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}

// One lane: plain uint32/float, on the host or a CUDA thread.
struct ScalarLanes {
    using U = std::uint32_t;
    using F = float;
    LOGSKETCH_HD static U splat(std::uint32_t v) { return v; }
    LOGSKETCH_HD static void mulhilo(std::uint32_t m, U x, U& hi, U& lo) {
        const std::uint64_t p = static_cast<std::uint64_t>(m) * x;
        hi = static_cast<U>(p >> 32);
        lo = static_cast<U>(p);
    }
    LOGSKETCH_HD static F as_float(U x) {
#if defined(__CUDA_ARCH__)
        return __uint_as_float(x);
#else
        F f;
        std::memcpy(&f, &x, sizeof f);
        return f;
#endif
    }
    LOGSKETCH_HD static U as_uint(F x) {
#if defined(__CUDA_ARCH__)
        return __float_as_uint(x);
#else
        U u;
        std::memcpy(&u, &x, sizeof u);
        return u;
#endif
    }
    LOGSKETCH_HD static F to_float(U x) { return static_cast<F>(x); }  // exact below 2^24
    LOGSKETCH_HD static F sqrt(F x) {
#if defined(__CUDA_ARCH__)
        return __fsqrt_rn(x);
#else
        return __builtin_sqrtf(x);
#endif
    }
};

// Philox4x32-10 on the counter words (c0, c1, c2, c3), in place.
template <class L>
LOGSKETCH_HD void philox4x32_10(typename L::U& c0, typename L::U& c1, typename L::U& c2, typename L::U& c3,
                                Key key) {
    using U = typename L::U;
    std::uint32_t k0 = key.k0, k1 = key.k1;
    for (int round = 0; round < 10; ++round) {
        U hi0, lo0, hi1, lo1;
        L::mulhilo(kM0, c0, hi0, lo0);
        L::mulhilo(kM1, c2, hi1, lo1);
        const U n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
        k0 += kW0;
        k1 += kW1;
    }
}

// The four words of (row, block q, tag); q >> 32 must be 0 unless L::U can hold it.
template <class L>
struct Block4 {
    typename L::U x0, x1, x2, x3;
};

template <class L>
LOGSKETCH_HD Block4<L> block(Key key, typename L::U q_lo, std::uint32_t q_hi, typename L::U row, std::uint32_t tag) {
    typename L::U c0 = q_lo, c1 = L::splat(q_hi), c2 = row, c3 = L::splat(tag);
    philox4x32_10<L>(c0, c1, c2, c3, key);
    return {c0, c1, c2, c3};
}

// Uniform in [2^-24, 1], exact: ((x >> 8) + 1) * 2^-24.
template <class L>
LOGSKETCH_HD typename L::F uniform_open(typename L::U x) {
    return L::to_float((x >> 8) + 1u) * 0x1p-24f;
}

// ln(u) for u in [2^-24, 1] (normal floats).  u = 2^e m with m in
// [sqrt(1/2), sqrt(2)) taken from the bits (exact); ln m = 2 atanh(s),
// s = (m-1)/(m+1), |s| <= 0.1716, by its series to s^9 (truncation 4e-10);
// e ln 2 with ln 2 split in two (Cody-Waite) so e*LN2_HI is exact.  The
// constants are float32 roundings of 2/3, 2/5, 2/7, 2/9, ln 2 and the rest of
// ln 2 (hex-float literals: exact).
template <class L>
LOGSKETCH_HD typename L::F log_unit(typename L::F u) {
    using U = typename L::U;
    using F = typename L::F;
    const U bits = L::as_uint(u);
    const U mant = bits & 0x007FFFFFu;
    const U adj = (mant + (0x00800000u - 0x003504F3u)) >> 23;  // 1 when m >= sqrt(2) (0x3FB504F3)
    const F m = L::as_float(mant | ((127u - adj) << 23));      // in [sqrt(1/2), sqrt(2))
    const F e = L::to_float((bits >> 23) + adj) - 127.0f;
    const F s = (m - 1.0f) / (m + 1.0f);
    const F z = s * s;
    const F r = z * (0x1.555556p-1f + z * (0x1.99999ap-2f + z * (0x1.24924ap-2f + z * 0x1.c71c72p-3f)));
    const F ln_m = (s + s) + s * r;
    return e * 0x1.62e4p-1f + (e * 0x1.7f7d1cp-20f + ln_m);
}

// (cos t, sin t) for t = 2 pi (b >> 8) 2^-24.  The top 3 bits pick the octant
// o and the next 21 the offset; the angle within the octant (mirrored in odd
// octants so it lies in [0, pi/4]) is an exact integer times pi/4 * 2^-21,
// whose sine and cosine come from Taylor polynomials to a^9 and a^10
// (truncation below 2e-9; coefficients: float32 roundings of +-1/n!); the
// octant swaps and negates them exactly.
template <class L>
LOGSKETCH_HD void sincos_octant(typename L::U b, typename L::F& c, typename L::F& s) {
    using U = typename L::U;
    using F = typename L::F;
    const U octant = b >> 29;
    const U offset = (b >> 8) & 0x001FFFFFu;
    const U odd = octant & 1u;
    const U tau = offset + odd * (0x00200000u - offset - offset);  // odd: 2^21 - offset
    const F a = L::to_float(tau) * 0x1.921fb6p-22f;  // float32(pi/4) * 2^-21
    const F a2 = a * a;
    const F sa = a + a * (a2 * (-0x1.555556p-3f + a2 * (0x1.111112p-7f + a2 * (-0x1.a01a02p-13f + a2 * 0x1.71de3ap-19f))));
    const F ca = 1.0f + a2 * (-0.5f + a2 * (0x1.555556p-5f + a2 * (-0x1.6c16c2p-10f +
                                                       a2 * (0x1.a01a02p-16f + a2 * -0x1.27e4fcp-22f))));
    // Within the quadrant: (cos, sin) = odd ? (sa, ca) : (ca, sa); then rotate
    // by the quadrant q: swap when q is odd, negate cos for q in {1, 2} and sin
    // for q in {2, 3}.  Bit operations only, so every step is exact.
    const U quadrant = octant >> 1;
    const U swap = (0u - (odd ^ (quadrant & 1u))) & (L::as_uint(sa) ^ L::as_uint(ca));
    const U cos_sign = ((quadrant ^ (quadrant >> 1)) & 1u) << 31;
    const U sin_sign = (quadrant >> 1) << 31;
    c = L::as_float((L::as_uint(ca) ^ swap) ^ cos_sign);
    s = L::as_float((L::as_uint(sa) ^ swap) ^ sin_sign);
}

// Two standard normals from two words (Box-Muller): (r cos t, r sin t).
template <class L>
LOGSKETCH_HD void box_muller(typename L::U a, typename L::U b, typename L::F& z_cos, typename L::F& z_sin) {
    using F = typename L::F;
    const F r = L::sqrt(log_unit<L>(uniform_open<L>(a)) * -2.0f);
    F c, s;
    sincos_octant<L>(b, c, s);
    z_cos = r * c;
    z_sin = r * s;
}

}  // namespace
}  // namespace logsketch::philox
