// IEEE binary16 <-> float32 without F16C, for the scalar level and the driver
// (which converts only a tile's query rows and outputs).  Round to nearest
// even, NaN kept quiet, as numpy's astype(np.float16).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace logsketch::attention {

inline float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu;
    const std::uint32_t mant = h & 0x3ffu;
    std::uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp == 0) {
        const float f = static_cast<float>(mant) * 0x1p-24f;  // subnormal (or zero): exact
        return sign ? -f : f;
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline std::uint16_t float_to_half(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) return sign | 0x7e00u | static_cast<std::uint16_t>((x >> 13) & 0x3ffu);  // quiet NaN
    if (x >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to inf
    if (x < 0x38800000u) {                        // below 2^-14: a subnormal half, in units of 2^-24
        float a;
        std::memcpy(&a, &x, sizeof a);
        return sign | static_cast<std::uint16_t>(std::nearbyint(a * 0x1p24f));  // exact scaling, then RNE
    }
    return sign | static_cast<std::uint16_t>((x - 0x38000000u + 0xfffu + ((x >> 13) & 1u)) >> 13);
}

// ln 2 and its inverse: the kernels work in base 2 (exp2), lse is natural.
constexpr double kLog2e = 1.4426950408889634074;
constexpr double kLn2 = 0.69314718055994530942;

// A stored element (uint16_t: binary16 bits) as the working type T, and back.
template <class T, class In>
inline T widen(In x) {
    if constexpr (std::is_same_v<In, std::uint16_t>) return half_to_float(x);
    else return static_cast<T>(x);
}

template <class In, class T>
inline In narrow(T x) {
    if constexpr (std::is_same_v<In, std::uint16_t>) return float_to_half(static_cast<float>(x));
    else return static_cast<In>(x);
}

}  // namespace logsketch::attention
