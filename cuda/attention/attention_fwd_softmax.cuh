// The online softmax of the attention forward kernel (attention_fwd_kernel.cuh):
// per thread two rows (g and g + 8 of its warp's 16), each with a running max
// m (log2 units) and this thread's share l of the running sum; a row's 64
// scores of a key tile live in the 4 lanes of its quad (lanes 4g..4g+3).
// s[n][e] is row g + 8 (e / 2), column 8n + 2 t + e % 2 of the tile.
#pragma once

#include <cstdint>

#include "attention_fwd.cuh"

namespace logsketch::attention::gpu {
namespace fwd_detail {

constexpr float kNegInf = -__builtin_huge_valf();
constexpr float kLn2 = 0.693147180559945309f;

// 2^x; exp2(-inf) = +0, which is how masked scores vanish.
__device__ __forceinline__ float exp2_approx(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

// The tile's row maxima, starting from the running ones (this thread's columns only).
__device__ __forceinline__ void tile_row_max(float (&mx)[2], const float (&s)[kBlockN / 8][4],
                                             const float (&m_run)[2]) {
    constexpr int kSN = kBlockN / 8;
    mx[0] = m_run[0];
    mx[1] = m_run[1];
#pragma unroll
    for (int n = 0; n < kSN; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) mx[e / 2] = fmaxf(mx[e / 2], s[n][e]);
    }
}

// One tile's step: the quad's new maxima, s -> exp2(s - m) in place, the
// running sums and the output accumulators rescaled by exp2(m_old - m_new).
template <int D>
__device__ __forceinline__ void online_softmax_step(float (&s)[kBlockN / 8][4], float (&m_run)[2], float (&l_run)[2],
                                                    float (&acc_o)[D / 8][4]) {
    constexpr int kSN = kBlockN / 8;
    constexpr int kON = D / 8;
    float mx[2];
    tile_row_max(mx, s, m_run);
    float m_use[2], alpha[2], rsum[2] = {0.f, 0.f};
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        // A row with nothing visible yet keeps m = -inf; 0 stands in so that
        // exp2(-inf - 0) = 0 instead of NaN.
        m_use[r] = mx[r] == kNegInf ? 0.f : mx[r];
        alpha[r] = exp2_approx(m_run[r] - m_use[r]);  // 0 when m_run was -inf
        m_run[r] = mx[r];
    }
#pragma unroll
    for (int n = 0; n < kSN; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const float p = exp2_approx(s[n][e] - m_use[e / 2]);
            s[n][e] = p;
            rsum[e / 2] += p;
        }
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) l_run[r] = l_run[r] * alpha[r] + rsum[r];
#pragma unroll
    for (int n = 0; n < kON; ++n) {
        acc_o[n][0] *= alpha[0];
        acc_o[n][1] *= alpha[0];
        acc_o[n][2] *= alpha[1];
        acc_o[n][3] *= alpha[1];
    }
}

// The rows' full sums: this thread's shares added over the quad.
__device__ __forceinline__ void quad_row_sums(float (&l_row)[2], const float (&l_run)[2]) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        l_row[r] = l_run[r];
        l_row[r] += __shfl_xor_sync(0xffffffffu, l_row[r], 1);
        l_row[r] += __shfl_xor_sync(0xffffffffu, l_row[r], 2);
    }
}

}  // namespace fwd_detail
}  // namespace logsketch::attention::gpu
