// The mask and the per-row scale of the attention forward kernel
// (attention_fwd_kernel.cuh).  Row i sees the keys j < n_i; n_i covers the
// key length, kv_lengths, varlen and causality at once, and also sets the
// row's scale lambda_i in entropy mode.
#pragma once

#include <cstdint>

#include "attention_fwd.cuh"
#include "attention_fwd_softmax.cuh"

namespace logsketch::attention::gpu {
namespace fwd_detail {

// Keys row i sees: j < n_i.  Causal rows are aligned to the end of the keys.
template <bool Causal>
__device__ __forceinline__ int visible_keys(int i, int lq, int lk) {
    if constexpr (Causal) {
        const long long n = static_cast<long long>(i) + 1 + lk - lq;
        return static_cast<int>(n < 0 ? 0 : (n > lk ? lk : n));
    } else {
        (void)i;
        (void)lq;
        return lk;
    }
}

// lambda_i * log2(e) for a row that sees n keys.  n = 0 gives -inf (entropy
// without a floor), harmless: every key of such a row is masked.
__device__ __forceinline__ float row_coef(const FwdArgs& a, int n) {
    if (!a.entropy) return a.coef_const;
    const float f = fmaxf(logf(static_cast<float>(n)) * a.inv_ln_base, a.min_scale);
    return f * a.log2e_rsqrt_d;
}

// Scale the tile of keys k0.. by the rows' coefficients and, when need_mask
// (block-uniform: the tile reaches past the block's first row's n), set the
// keys a row does not see to -inf.  s[n][e] is row g + 8 (e / 2), key
// k0 + 8n + 2 t4 + e % 2.
__device__ __forceinline__ void scale_and_mask(float (&s)[kBlockN / 8][4], const float (&coef)[2],
                                               const int (&n_row)[2], int k0, int t4, bool need_mask) {
    constexpr int kSN = kBlockN / 8;
#pragma unroll
    for (int n = 0; n < kSN; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            float x = s[n][e] * coef[e / 2];
            if (need_mask && k0 + 8 * n + 2 * t4 + e % 2 >= n_row[e / 2]) x = kNegInf;
            s[n][e] = x;
        }
    }
}

}  // namespace fwd_detail
}  // namespace logsketch::attention::gpu
