// The avx512 level: AVX-512 F/BW/DQ/VL (+ AVX2, FMA, F16C), 512-bit vectors,
// 32 zmm registers.
#pragma once

#include "x86_cpuid.hpp"

namespace logsketch::simd::avx512 {

struct Traits {
    static constexpr int vec_bytes = 64;
    static bool supported() { return x86::has_avx2_fma_f16c() && x86::has_avx512_f_bw_dq_vl(); }

    // 24 accumulators + 2 A vectors + temporaries.
    struct MitchellGemm { static constexpr int mv32 = 2, nr32 = 12, mv64 = 2, nr64 = 12; };
    // 24 accumulators + 2 Z vectors + broadcasts.
    struct JlGemm { static constexpr int mr32 = 12, nv32 = 2, mr64 = 12, nv64 = 2; };
    struct JlGather { static constexpr int nv = 2; };
    // 24 accumulators (12 keys or channels x 2 vectors of 16 query rows) + 2
    // query/probability vectors + broadcasts.  32 query rows per tile keep
    // Q^T and O^T in L1 at d = 128 (docs/tuning.md, "CPU attention tiles").
    struct Attention {
        static constexpr int qv32 = 2, mr32 = 12, mc32 = 12, qv64 = 4, mr64 = 6, mc64 = 6;
        static constexpr int bn = 64, decode_rows = 4, decode_bn = 64;
    };
};

}  // namespace logsketch::simd::avx512
