// Bit layouts and constants of the formats Mitchell arithmetic is defined on.
//
// The definition (python/logsketch/reference.py, README) works on the IEEE bit
// patterns: with A = bits(|a|), B = bits(|b|), the product's magnitude is
// A + B - bits(1.0), the quotient's A - B + bits(1.0), clamped to 0 below the
// smallest normal and to inf at or above inf's pattern.  The compensation
// constants come from bench/derive_compensation.py (mean relative error zero over
// uniform mantissas).
#pragma once

#include <cstdint>

namespace logsketch::mitchell {

struct Float16Format {
    using Bits = std::uint16_t;
    using Wide = std::uint32_t;  // 16-bit sums can wrap: compute in 32 bits
    static constexpr int kMantissaBits = 10;
    static constexpr Wide kSign = 0x8000u;
    static constexpr Wide kMag = 0x7FFFu;
    static constexpr Wide kInf = 0x7C00u;
    static constexpr Wide kMinNormal = 0x0400u;
    static constexpr Wide kOne = 0x3C00u;
    static constexpr Wide kQuietNan = 0x7E00u;
    static constexpr Wide kMulComp = 58u;
    static constexpr Wide kDivComp = 59u;
};

struct Float32Format {
    using Bits = std::uint32_t;
    using Wide = std::uint32_t;  // the offset below keeps every sum inside 32 bits
    static constexpr int kMantissaBits = 23;
    static constexpr Wide kSign = 0x80000000u;
    static constexpr Wide kMag = 0x7FFFFFFFu;
    static constexpr Wide kInf = 0x7F800000u;
    static constexpr Wide kMinNormal = 0x00800000u;
    static constexpr Wide kOne = 0x3F800000u;
    static constexpr Wide kQuietNan = 0x7FC00000u;
    static constexpr Wide kMulComp = 474990u;
    static constexpr Wide kDivComp = 486498u;
};

struct Float64Format {
    using Bits = std::uint64_t;
    using Wide = std::uint64_t;
    static constexpr int kMantissaBits = 52;
    static constexpr Wide kSign = 0x8000000000000000ull;
    static constexpr Wide kMag = 0x7FFFFFFFFFFFFFFFull;
    static constexpr Wide kInf = 0x7FF0000000000000ull;
    static constexpr Wide kMinNormal = 0x0010000000000000ull;
    static constexpr Wide kOne = 0x3FF0000000000000ull;
    static constexpr Wide kQuietNan = 0x7FF8000000000000ull;
    static constexpr Wide kMulComp = 255008540773892ull;
    static constexpr Wide kDivComp = 261186771493313ull;
};

// The sums are computed as unsigned integers shifted up by kOffset = 2^(w-2):
// for normal operands, A + B - kOne + kOffset and A - B + kOne + kOffset never
// wrap, and the representable results are exactly [kOffset + kMinNormal,
// kOffset + kInf).  Below is underflow (result 0), above overflow (result inf),
// so one unsigned compare and one unsigned min classify every normal sum.
template <class F>
inline constexpr typename F::Wide kOffset = typename F::Wide(1) << (sizeof(typename F::Bits) * 8 - 2);

// The per-format addend that turns A + B into the shifted Mitchell sum.
template <class F>
static constexpr typename F::Wide mul_addend(bool compensated) {
    return kOffset<F> - F::kOne + (compensated ? F::kMulComp : 0);
}
template <class F>
static constexpr typename F::Wide div_addend(bool compensated) {
    return kOffset<F> + F::kOne - (compensated ? F::kDivComp : 0);
}

}  // namespace logsketch::mitchell
