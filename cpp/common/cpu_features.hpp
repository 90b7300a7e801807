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

// The kernel table of the active level, from one table getter per level (each
// compiled in its own <unit>_<isa>.cpp with that level's flags).
template <class Table>
Table kernels_for(Table (*scalar_table)(), Table (*avx2_table)(), Table (*avx512_table)()) {
    switch (active_simd_level()) {
        case SimdLevel::avx512: return avx512_table();
        case SimdLevel::avx2: return avx2_table();
        default: return scalar_table();
    }
}

}  // namespace logsketch
