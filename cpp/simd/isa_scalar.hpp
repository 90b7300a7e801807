// The scalar level: the portable baseline, one lane, on every processor.
#pragma once

namespace logsketch::simd::scalar {

struct Traits {
    static constexpr int vec_bytes = 0;  // one lane of the plain scalar type
    static bool supported() { return true; }

    // One lane: 4 x 4 register tiles.
    struct MitchellGemm { static constexpr int mv32 = 4, nr32 = 4, mv64 = 4, nr64 = 4; };
    struct JlGemm { static constexpr int mr32 = 4, nv32 = 4, mr64 = 4, nv64 = 4; };
    struct JlGather { static constexpr int nv = 4; };
    struct Attention {
        static constexpr int qv32 = 4, mr32 = 4, mc32 = 4, qv64 = 4, mr64 = 4, mc64 = 4;
        static constexpr int bn = 64, decode_rows = 4, decode_bn = 64;
    };
};

}  // namespace logsketch::simd::scalar
