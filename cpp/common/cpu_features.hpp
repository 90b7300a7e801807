// Which SIMD level the CPU kernels run at: detected once by CPUID, overridable.
#pragma once

#include <string>

namespace logsketch {

enum class SimdLevel : int { scalar = 0, avx2 = 1, avx512 = 2 };

// The best level this CPU and OS support (AVX2 means AVX2+FMA+F16C; AVX-512
// means F+BW+DQ+VL with the OS saving zmm state).
SimdLevel detected_simd_level();

// The level kernels dispatch to now: the detected one, or the override from
// LOGSKETCH_SIMD / set_simd_level.
SimdLevel active_simd_level();

// Throws std::invalid_argument if the CPU lacks `level`.
void set_simd_level(SimdLevel level);

// "scalar" | "avx2" | "avx512" <-> SimdLevel; throws std::invalid_argument on
// an unknown name.
SimdLevel parse_simd_level(const std::string& name);
const char* simd_level_name(SimdLevel level);

}  // namespace logsketch
