#include "cpu_features.hpp"

#include <atomic>
#include <stdexcept>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define LOGSKETCH_X86 1
#endif

namespace logsketch {
namespace {

#ifdef LOGSKETCH_X86
unsigned long long xgetbv0() {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

SimdLevel detect() {
#ifdef LOGSKETCH_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return SimdLevel::scalar;
    const bool osxsave = c & (1u << 27), fma = c & (1u << 12), f16c = c & (1u << 29);
    if (!osxsave) return SimdLevel::scalar;
    const unsigned long long xcr0 = xgetbv0();
    const bool ymm_state = (xcr0 & 0x6) == 0x6;
    const bool zmm_state = (xcr0 & 0xE6) == 0xE6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return SimdLevel::scalar;
    const bool avx2 = b & (1u << 5);
    const bool avx512 = (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 30)) && (b & (1u << 31));
    if (avx2 && fma && f16c && ymm_state) {
        return avx512 && zmm_state ? SimdLevel::avx512 : SimdLevel::avx2;
    }
#endif
    return SimdLevel::scalar;
}

std::atomic<int>& active() {
    static std::atomic<int> level{static_cast<int>(detected_simd_level())};
    return level;
}

}  // namespace

SimdLevel detected_simd_level() {
    static const SimdLevel level = detect();
    return level;
}

SimdLevel active_simd_level() { return static_cast<SimdLevel>(active().load(std::memory_order_relaxed)); }

void set_simd_level(SimdLevel level) {
    if (static_cast<int>(level) > static_cast<int>(detected_simd_level())) {
        throw std::invalid_argument(std::string("SIMD level '") + simd_level_name(level) +
                                    "' is not supported by this CPU (best: '" +
                                    simd_level_name(detected_simd_level()) + "')");
    }
    active().store(static_cast<int>(level), std::memory_order_relaxed);
}

SimdLevel parse_simd_level(const std::string& name) {
    if (name == "scalar") return SimdLevel::scalar;
    if (name == "avx2") return SimdLevel::avx2;
    if (name == "avx512") return SimdLevel::avx512;
    throw std::invalid_argument("unknown SIMD level '" + name + "'; expected 'scalar', 'avx2' or 'avx512'");
}

const char* simd_level_name(SimdLevel level) {
    switch (level) {
        case SimdLevel::avx2: return "avx2";
        case SimdLevel::avx512: return "avx512";
        default: return "scalar";
    }
}

}  // namespace logsketch
