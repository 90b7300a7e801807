// The attention forward kernel, FlashAttention-2 style, on mma.sync tensor cores.
//
// Included only by the generated instantiation files
// instantiations/attention_fwd_hdim<D>_<dtype>_<causal>.cu.
//
// One block: kBlockM = 64 query rows of one (batch, query head), 4 warps, each
// warp owning 16 rows (one m16 row block of the MMA) for the whole kernel.
// The block walks its key tiles (kBlockN = 64 keys) in increasing order:
//
//   S = Q K_t^T        mma.m16n8k16, Q fragments kept in registers, K from shared memory
//   S *= coef_i        per row: lambda_i * log2(e), so that exp2 gives e^(lambda s)
//   mask               keys j >= n_i -> -inf, only in tiles that reach past the
//                      first row's n (a block-uniform test); n_i covers the key
//                      length, kv_lengths, varlen and causality at once
//   online softmax     running max m_i and sum l_i per row in registers
//   O += P V_t         P converted to the input dtype in registers (the S
//                      accumulator's layout is the A operand's), V via ldmatrix.trans
//
// Tiles past the last row's n (above the causal diagonal, past kv_lengths) are
// never visited.  Shared memory: Q (64 rows), K (64) and V (64), each row
// padded by 8 halves.  Loads are cp.async (16 bytes, zero-filled past the
// valid rows) in the FlashAttention-2 order, so every load overlaps a GEMM:
//
//   [Q, K_0] ... then for each tile t:  issue V_t | wait K_t | S = Q K_t^T, softmax
//                                       | sync | issue K_{t+1} | wait V_t | O += P V_t | sync
//
// The pieces: attention_fwd_mma.cuh (loads, S = Q K_t^T, O += P V_t, with the
// fragment layouts), attention_fwd_mask.cuh (n_i, lambda_i, the mask) and
// attention_fwd_softmax.cuh (the online softmax); this file places the block
// and writes its rows.
//
// Registers and spills (ptxas -v) are recorded at the top of attention_launch.cu.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "../runtime/cuda_check.cuh"
#include "attention_fwd.cuh"
#include "attention_fwd_mask.cuh"
#include "attention_fwd_mma.cuh"
#include "attention_fwd_softmax.cuh"

namespace logsketch::attention::gpu {
namespace fwd_detail {

// What one block works on: (batch b, query head h, key split, query tile qt)
// and its sequence's packed offsets and lengths.
struct BlockWork {
    std::int64_t b;
    int h, split, qt;
    std::int64_t q_off, k_off;
    int lq, lk;
};

// Block -> (batch, head, split, query tile); the query tile varies fastest
// so neighbouring blocks share K/V in L2.  Causal: heaviest tiles first.
template <bool Causal>
__device__ __forceinline__ BlockWork locate_block(const FwdArgs& a) {
    BlockWork w;
    std::int64_t bid = blockIdx.x;
    w.qt = static_cast<int>(bid % a.n_qtiles);
    bid /= a.n_qtiles;
    w.split = static_cast<int>(bid % a.num_splits);
    bid /= a.num_splits;
    w.h = static_cast<int>(bid % a.heads_q);
    w.b = bid / a.heads_q;
    if constexpr (Causal) w.qt = a.n_qtiles - 1 - w.qt;

    w.q_off = 0, w.k_off = 0;
    w.lq = a.seq_q, w.lk = a.seq_k;
    if (a.cu_q != nullptr) {
        w.q_off = a.cu_q[w.b];
        w.lq = a.cu_q[w.b + 1] - a.cu_q[w.b];
        w.k_off = a.cu_k[w.b];
        w.lk = a.cu_k[w.b + 1] - a.cu_k[w.b];
    }
    if (a.kv_lengths != nullptr) w.lk = min(max(a.kv_lengths[w.b], 0), w.lk);
    return w;
}

// Epilogue: this thread's two rows (row0 and row0 + 8), those below lq,
// normalised, into out and lse (one split) or the split's workspace rows.
template <class T, int D>
__device__ __forceinline__ void write_rows(const FwdArgs& a, const BlockWork& w, int row0, int t4,
                                           const float (&acc_o)[D / 8][4], const float (&m_run)[2],
                                           const float (&l_run)[2]) {
    constexpr int kON = D / 8;
    using M = Mma<T>;
    const std::int64_t b = w.b;
    const int h = w.h;
    float l_row[2];
    quad_row_sums(l_row, l_run);
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const int row = row0 + 8 * r;
        if (row >= w.lq) continue;
        // l == 0: nothing visible (n_i = 0, or an empty split): zeros and lse = -inf.
        const float l = l_row[r];
        const float inv = l == 0.f ? 0.f : 1.f / l;
        const float lse = l == 0.f ? kNegInf : (m_run[r] + log2f(l)) * kLn2;
        const std::int64_t prow = w.q_off + row;
        if (a.num_splits == 1) {
            T* const o = static_cast<T*>(a.out) + b * a.o_sb + h * a.o_sh + prow * a.o_sr;
#pragma unroll
            for (int n = 0; n < kON; ++n) {
                *reinterpret_cast<std::uint32_t*>(o + 8 * n + 2 * t4) =
                    M::pack(acc_o[n][2 * r] * inv, acc_o[n][2 * r + 1] * inv);
            }
            if (t4 == 0 && a.lse != nullptr) a.lse[b * a.l_sb + h * a.l_sh + prow * a.l_sr] = lse;
        } else {
            const std::int64_t wrow = w.split * a.ws_rows + b * a.ws_b + h * a.ws_h + prow;
            float* const o = a.ws_o + wrow * D;
#pragma unroll
            for (int n = 0; n < kON; ++n) {
                *reinterpret_cast<float2*>(o + 8 * n + 2 * t4) =
                    make_float2(acc_o[n][2 * r] * inv, acc_o[n][2 * r + 1] * inv);
            }
            if (t4 == 0) a.ws_lse[wrow] = lse;
        }
    }
}

}  // namespace fwd_detail

template <class T, int D, bool Causal>
__global__ void __launch_bounds__(kThreads) attention_fwd_kernel(const FwdArgs a) {
    using namespace fwd_detail;
    static_assert(D % 16 == 0 && D >= 32 && D <= 128, "head dims 32..128 in steps of 16");
    constexpr int kStride = D + kSmemPad;  // halves per shared row
    constexpr int kSN = kBlockN / 8;       // 8-key column tiles of S
    constexpr int kON = D / 8;             // 8-dim column tiles of O

    extern __shared__ __align__(16) unsigned char smem_raw[];
    T* const sQ = reinterpret_cast<T*>(smem_raw);
    T* const sK = sQ + kBlockM * kStride;
    T* const sV = sK + kBlockN * kStride;

    const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
    const int g = lane / 4, t4 = lane % 4;

    const BlockWork w = locate_block<Causal>(a);
    const int lq = w.lq, lk = w.lk;
    const int q0 = w.qt * kBlockM;
    if (q0 >= lq) return;  // block-uniform: a varlen sequence shorter than the grid's longest

    const int hk = w.h / a.group;
    const T* const qg = static_cast<const T*>(a.q) + w.b * a.q_sb + w.h * a.q_sh + w.q_off * a.q_sr;
    const T* const kg = static_cast<const T*>(a.k) + w.b * a.k_sb + hk * a.k_sh + w.k_off * a.k_sr;
    const T* const vg = static_cast<const T*>(a.v) + w.b * a.v_sb + hk * a.v_sh + w.k_off * a.v_sr;

    // n_i is non-decreasing in i: the block's first row sees the fewest keys,
    // its last (valid) row the most.
    const int n_min = visible_keys<Causal>(q0, lq, lk);
    const int n_max = visible_keys<Causal>(min(q0 + kBlockM, lq) - 1, lq, lk);
    const int n_tiles = static_cast<int>((static_cast<std::int64_t>(n_max) + kBlockN - 1) / kBlockN);
    const int t_begin = w.split * a.tiles_per_split;
    const int t_end = static_cast<int>(min(static_cast<std::int64_t>(t_begin) + a.tiles_per_split,
                                           static_cast<std::int64_t>(n_tiles)));

    // This thread's two rows (block-relative row warp*16 + g, and 8 below).
    const int row0 = q0 + warp * 16 + g;
    const int n_row[2] = {visible_keys<Causal>(row0, lq, lk), visible_keys<Causal>(row0 + 8, lq, lk)};
    const float coef[2] = {row_coef(a, n_row[0]), row_coef(a, n_row[1])};

    float acc_o[kON][4];
#pragma unroll
    for (int n = 0; n < kON; ++n) acc_o[n][0] = acc_o[n][1] = acc_o[n][2] = acc_o[n][3] = 0.f;
    float m_run[2] = {kNegInf, kNegInf};  // running max of the scaled scores (log2 units)
    float l_run[2] = {0.f, 0.f};          // this thread's share of the running sum (its 2 columns per tile)

    if (t_begin < t_end) {  // block-uniform
        load_tile<T, D, kBlockM>(sQ, qg, a.q_sr, q0, lq);
        load_tile<T, D, kBlockN>(sK, kg, a.k_sr, t_begin * kBlockN, lk);
        cp_async_commit();  // group: Q, K_begin

        std::uint32_t qf[D / 16][4];  // Q's A fragments, 16 dims each
        for (int t = t_begin; t < t_end; ++t) {
            const int k0 = t * kBlockN;
            load_tile<T, D, kBlockN>(sV, vg, a.v_sr, k0, lk);
            cp_async_commit();  // group: V_t
            cp_async_wait<1>();  // everything but V_t has landed: K_t (and Q)
            __syncthreads();

            if (t == t_begin) load_q_fragments<T, D>(qf, sQ, warp, lane);
            float s[kSN][4];
            qk_tile<T, D>(s, qf, sK, lane);
            scale_and_mask(s, coef, n_row, k0, t4, k0 + kBlockN > n_min);
            online_softmax_step<D>(s, m_run, l_run, acc_o);

            __syncthreads();  // every warp is done reading sK
            if (t + 1 < t_end) load_tile<T, D, kBlockN>(sK, kg, a.k_sr, k0 + kBlockN, lk);
            cp_async_commit();  // group: K_{t+1} (empty on the last tile)
            cp_async_wait<1>();  // V_t has landed
            __syncthreads();

            pv_tile<T, D>(acc_o, s, sV, lane);
            __syncthreads();  // every warp is done reading sV before V_{t+1} lands there
        }
    }
    write_rows<T, D>(a, w, row0, t4, acc_o, m_run, l_run);
}

template <class T, int D, bool Causal>
void run_fwd(const FwdArgs& a, std::int64_t blocks, cudaStream_t stream) {
    constexpr int kSmem = (kBlockM + 2 * kBlockN) * (D + kSmemPad) * static_cast<int>(sizeof(T));
    const auto kernel = attention_fwd_kernel<T, D, Causal>;
    if constexpr (kSmem > 48 * 1024) {
        LOGSKETCH_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem));
    }
    kernel<<<static_cast<unsigned>(blocks), kThreads, kSmem, stream>>>(a);
    LOGSKETCH_CUDA_CHECK_LAUNCH("attention_fwd_kernel");
}

}  // namespace logsketch::attention::gpu
