// CPUID checks of the x86 levels; false on every other processor.
#pragma once

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <cpuid.h>
#define LOGSKETCH_X86_CPUID 1
#endif

namespace logsketch::simd::x86 {

#ifdef LOGSKETCH_X86_CPUID
inline unsigned long long xgetbv0() {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<unsigned long long>(edx) << 32) | eax;
}

// The OS saves the register state of `mask` (XCR0 bits), and CPUID says so.
inline bool os_saves(unsigned long long mask) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
    return (xgetbv0() & mask) == mask;
}

inline unsigned leaf7_ebx() {
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) ? b : 0;
}

// AVX2 + FMA + F16C with ymm state saved.
inline bool has_avx2_fma_f16c() {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    const bool fma = c & (1u << 12), f16c = c & (1u << 29);
    return fma && f16c && (leaf7_ebx() & (1u << 5)) && os_saves(0x6);
}

// AVX-512 F + DQ + BW + VL with zmm state saved.
inline bool has_avx512_f_bw_dq_vl() {
    const unsigned b = leaf7_ebx();
    const bool all = (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 30)) && (b & (1u << 31));
    return all && os_saves(0xE6);
}
#else
inline bool has_avx2_fma_f16c() { return false; }
inline bool has_avx512_f_bw_dq_vl() { return false; }
#endif

}  // namespace logsketch::simd::x86
