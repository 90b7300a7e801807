// Split-KV: merging the splits' partial rows.
//
// Each split s wrote its row normalised over its own keys, O_s, and
// lse_s = log sum over its keys of e^(lambda s) (-inf when it saw none).  The
// full row is sum_s w_s O_s / sum_s w_s with w_s = e^(lse_s - max lse), and
// its lse is max lse + log sum w_s; a row no split saw stays zeros with
// lse = -inf.  One thread per 4 dims of a row: it reads the row's lse values
// (num_splits floats, L1-resident across the row's threads) and its float4 of
// every split.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>

#include "../runtime/cuda_check.cuh"
#include "attention_fwd.cuh"

namespace logsketch::attention::gpu {
namespace {

constexpr int kCombineThreads = 256;

__device__ __forceinline__ void store4(__half* p, float4 v) {
    const __half2 lo = __floats2half2_rn(v.x, v.y), hi = __floats2half2_rn(v.z, v.w);
    uint2 u;
    u.x = *reinterpret_cast<const std::uint32_t*>(&lo);
    u.y = *reinterpret_cast<const std::uint32_t*>(&hi);
    *reinterpret_cast<uint2*>(p) = u;
}

__device__ __forceinline__ void store4(__nv_bfloat16* p, float4 v) {
    const __nv_bfloat162 lo = __floats2bfloat162_rn(v.x, v.y), hi = __floats2bfloat162_rn(v.z, v.w);
    uint2 u;
    u.x = *reinterpret_cast<const std::uint32_t*>(&lo);
    u.y = *reinterpret_cast<const std::uint32_t*>(&hi);
    *reinterpret_cast<uint2*>(p) = u;
}

template <class T>
__global__ void __launch_bounds__(kCombineThreads) attention_combine_kernel(const CombineArgs a) {
    const float neg_inf = -__builtin_huge_valf();
    const int quads = a.head_dim / 4;
    const std::int64_t total = a.batches * a.heads_q * a.rows_per_head * quads;
    for (std::int64_t idx = static_cast<std::int64_t>(blockIdx.x) * kCombineThreads + threadIdx.x; idx < total;
         idx += static_cast<std::int64_t>(gridDim.x) * kCombineThreads) {
        const int c = static_cast<int>(idx % quads);
        std::int64_t rest = idx / quads;
        const std::int64_t r = rest % a.rows_per_head;
        rest /= a.rows_per_head;
        const std::int64_t h = rest % a.heads_q, b = rest / a.heads_q;
        const std::int64_t wrow = b * a.ws_b + h * a.ws_h + r;

        float m = neg_inf;
        for (int s = 0; s < a.num_splits; ++s) m = fmaxf(m, a.ws_lse[s * a.ws_rows + wrow]);
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        float sum = 0.f;
        if (m != neg_inf) {
            for (int s = 0; s < a.num_splits; ++s) {
                const std::int64_t srow = s * a.ws_rows + wrow;
                const float w = expf(a.ws_lse[srow] - m);  // 0 for a split that saw nothing
                const float4 o = *reinterpret_cast<const float4*>(a.ws_o + srow * a.head_dim + 4 * c);
                sum += w;
                acc.x += w * o.x;
                acc.y += w * o.y;
                acc.z += w * o.z;
                acc.w += w * o.w;
            }
        }
        const float inv = sum > 0.f ? 1.f / sum : 0.f;  // sum >= 1 whenever m is finite
        acc.x *= inv;
        acc.y *= inv;
        acc.z *= inv;
        acc.w *= inv;
        store4(static_cast<T*>(a.out) + b * a.o_sb + h * a.o_sh + r * a.o_sr + 4 * c, acc);
        if (c == 0 && a.lse != nullptr) {
            a.lse[b * a.l_sb + h * a.l_sh + r * a.l_sr] = m == neg_inf ? neg_inf : m + logf(sum);
        }
    }
}

}  // namespace

template <class T>
void run_combine(const CombineArgs& a, cudaStream_t stream) {
    const std::int64_t work = a.batches * a.heads_q * a.rows_per_head * (a.head_dim / 4);
    if (work == 0) return;
    // A grid-stride loop: 2^16 blocks of 256 threads cover any decode-sized call in one pass.
    const auto blocks = static_cast<unsigned>(
        std::clamp<std::int64_t>((work + kCombineThreads - 1) / kCombineThreads, 1, std::int64_t(1) << 16));
    attention_combine_kernel<T><<<blocks, kCombineThreads, 0, stream>>>(a);
    LOGSKETCH_CUDA_CHECK_LAUNCH("attention_combine_kernel");
}

template void run_combine<__half>(const CombineArgs&, cudaStream_t);
template void run_combine<__nv_bfloat16>(const CombineArgs&, cudaStream_t);

}  // namespace logsketch::attention::gpu
