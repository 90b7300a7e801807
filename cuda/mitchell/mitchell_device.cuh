// Device-side Mitchell arithmetic shared by the CUDA kernels.
//
// The float16 and float32 layouts and constants are those of the CPU kernels
// (cpp/mitchell/mitchell_formats.hpp, one source of truth); bfloat16 is added
// here in the same shape.  The element functions are the CPU's mul_one/div_one
// (cpp/mitchell/mitchell_scalar.hpp), compiled for the device.
#pragma once

#include <cstdint>

#include "../../cpp/core/mitchell_formats.hpp"
#include "../../cpp/core/mitchell_scalar.hpp"

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

// One Mitchell product or quotient, every case: the CPU's own definition
// (mul_one/div_one), widened to a 32-bit word.
template <class F, bool kDivide>
__device__ __forceinline__ std::uint32_t mitchell_bits(std::uint32_t ua, std::uint32_t ub, std::uint32_t addend) {
    using Bits = typename F::Bits;
    if constexpr (kDivide) return div_one<F>(static_cast<Bits>(ua), static_cast<Bits>(ub), addend);
    else return mul_one<F>(static_cast<Bits>(ua), static_cast<Bits>(ub), addend);
}

}  // namespace logsketch::mitchell::gpu
