// The avx2 level: AVX2 + FMA + F16C, 256-bit vectors, 16 ymm registers.
#pragma once

#include "x86_cpuid.hpp"

namespace logsketch::simd::avx2 {

struct Traits {
    static constexpr int vec_bytes = 32;
    static bool supported() { return x86::has_avx2_fma_f16c(); }

    // 12 accumulators + 2 A vectors.
    struct MitchellGemm { static constexpr int mv32 = 2, nr32 = 6, mv64 = 2, nr64 = 6; };
    // 12 accumulators + 2 Z vectors + a broadcast.
    struct JlGemm { static constexpr int mr32 = 6, nv32 = 2, mr64 = 6, nv64 = 2; };
    struct JlGather { static constexpr int nv = 2; };
    // 12 accumulators (6 keys or channels x 2 vectors of 8 query rows) + 2
    // query/probability vectors + a broadcast.
    struct Attention {
        static constexpr int qv32 = 2, mr32 = 6, mc32 = 6, qv64 = 2, mr64 = 6, mc64 = 6;
        static constexpr int bn = 64, decode_rows = 4, decode_bn = 64;
    };
};

}  // namespace logsketch::simd::avx2
