// Device-side Mitchell arithmetic shared by the CUDA kernels.
//
// The float16 and float32 layouts and constants are those of the CPU kernels
// (cpp/mitchell/mitchell_formats.hpp, one source of truth); bfloat16 is added
// here in the same shape.  The element functions mirror mul_one/div_one of
// cpp/mitchell/mitchell_scalar.hpp select for select, in 32-bit unsigned
// arithmetic with the kOffset shift, so every format gives the reference's bits.
#pragma once

#include <cstdint>

#include "../../cpp/mitchell/mitchell_formats.hpp"

namespace logsketch::mitchell::gpu {

struct BFloat16Format {
    using Bits = std::uint16_t;
    using Wide = std::uint32_t;
    static constexpr int kMantissaBits = 7;
    static constexpr Wide kSign = 0x8000u;
    static constexpr Wide kMag = 0x7FFFu;
    static constexpr Wide kInf = 0x7F80u;
    static constexpr Wide kMinNormal = 0x0080u;
    static constexpr Wide kOne = 0x3F80u;
    static constexpr Wide kQuietNan = 0x7FC0u;
    static constexpr Wide kMulComp = 7u;
    static constexpr Wide kDivComp = 7u;
};

static_assert(sizeof(Float16Format::Wide) == 4 && sizeof(Float32Format::Wide) == 4,
              "the device code computes every format in 32-bit words");

// One Mitchell product, every case (see mul_one in mitchell_scalar.hpp).  With
// lo/hi the smaller/larger magnitude: a zero operand is lo < min normal, an
// inf operand hi == inf, a NaN operand hi > inf.
template <class F>
__device__ __forceinline__ std::uint32_t mitchell_mul_bits(std::uint32_t ua, std::uint32_t ub, std::uint32_t addend) {
    constexpr std::uint32_t off = kOffset<F>;
    const std::uint32_t sign = (ua ^ ub) & F::kSign;
    const std::uint32_t A = ua & F::kMag, B = ub & F::kMag;
    const std::uint32_t lo = min(A, B), hi = max(A, B);
    const std::uint32_t t = A + B + addend;
    std::uint32_t mag = min(t - off, F::kInf);
    mag = t < off + F::kMinNormal ? 0u : mag;
    mag = lo < F::kMinNormal ? 0u : mag;
    mag = hi >= F::kInf ? F::kInf : mag;
    const bool nan = (hi > F::kInf) | ((hi == F::kInf) & (lo < F::kMinNormal));
    return nan ? F::kQuietNan : (sign | mag);
}

// One Mitchell quotient, every case (see div_one in mitchell_scalar.hpp).
template <class F>
__device__ __forceinline__ std::uint32_t mitchell_div_bits(std::uint32_t ua, std::uint32_t ub, std::uint32_t addend) {
    constexpr std::uint32_t off = kOffset<F>;
    const std::uint32_t sign = (ua ^ ub) & F::kSign;
    const std::uint32_t A = ua & F::kMag, B = ub & F::kMag;
    const bool a_zero = A < F::kMinNormal, b_zero = B < F::kMinNormal;
    const bool a_inf = A == F::kInf, b_inf = B == F::kInf;
    const bool nan = (A > F::kInf) | (B > F::kInf) | (a_zero & b_zero) | (a_inf & b_inf);
    const std::uint32_t t = A - B + addend;
    std::uint32_t mag = min(t - off, F::kInf);
    mag = t < off + F::kMinNormal ? 0u : mag;
    mag = (a_zero | b_inf) ? 0u : mag;
    mag = (a_inf | b_zero) ? F::kInf : mag;
    return nan ? F::kQuietNan : (sign | mag);
}

template <class F, bool kDivide>
__device__ __forceinline__ std::uint32_t mitchell_bits(std::uint32_t ua, std::uint32_t ub, std::uint32_t addend) {
    if constexpr (kDivide) return mitchell_div_bits<F>(ua, ub, addend);
    else return mitchell_mul_bits<F>(ua, ub, addend);
}

}  // namespace logsketch::mitchell::gpu
