// The attention forward kernel, FlashAttention-2 style, on mma.sync tensor cores.
//
// Included only by the instantiation files attention_fwd_hdim<D>_<dtype>_<causal>.cu.
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
// Fragment layouts (PTX ISA, "Matrix Fragments for mma.m16n8k16", f16/bf16
// inputs, f32 accumulators), lane = 4 g + t (g = lane / 4, t = lane % 4):
//   A (16 x 16, row-major):  a0 = (g, 2t..2t+1)  a1 = (g+8, 2t..)  a2 = (g, 8+2t..)  a3 = (g+8, 8+2t..)
//   B (16 x 8, "col"):       b0 = (k = 2t..2t+1, n = g)          b1 = (k = 8+2t.., n = g)
//   C (16 x 8, f32):         c0, c1 = (g, 2t), (g, 2t+1)         c2, c3 = (g+8, 2t), (g+8, 2t+1)
// ldmatrix.x4: lanes 8i..8i+7 give the row addresses of 8x8 matrix i, and
// register i of lane l gets matrix i's (row g, columns 2t, 2t+1); with .trans
// it gets (rows 2t, 2t+1, column g).  Each use below spells out its mapping.
//
// Bank conflicts: a shared row is (D + 8) halves = 144 or 272 bytes, i.e. 4
// banks (mod 32) past the previous row, so the 8 rows one ldmatrix phase
// reads (16 bytes each) cover all 32 banks exactly once.
//
// Registers and spills (ptxas -v) are recorded at the top of attention_launch.cu.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "../runtime/cuda_check.cuh"
#include "attention_fwd.cuh"

namespace logsketch::attention::gpu {
namespace fwd_detail {

constexpr float kNegInf = -__builtin_huge_valf();
constexpr float kLn2 = 0.693147180559945309f;

template <class T>
struct Mma;

template <>
struct Mma<__half> {
    // c += a b, one 16x8x16 tile.
    __device__ __forceinline__ static void run(float (&c)[4], const std::uint32_t (&a)[4], std::uint32_t b0,
                                               std::uint32_t b1) {
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
            "{%0, %1, %2, %3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
    // Two floats as one register of the A operand: lo in the low half (the lower column).
    __device__ __forceinline__ static std::uint32_t pack(float lo, float hi) {
        const __half2 h = __floats2half2_rn(lo, hi);
        return *reinterpret_cast<const std::uint32_t*>(&h);
    }
};

template <>
struct Mma<__nv_bfloat16> {
    __device__ __forceinline__ static void run(float (&c)[4], const std::uint32_t (&a)[4], std::uint32_t b0,
                                               std::uint32_t b1) {
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
            "{%0, %1, %2, %3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
    __device__ __forceinline__ static std::uint32_t pack(float lo, float hi) {
        const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<const std::uint32_t*>(&h);
    }
};

__device__ __forceinline__ std::uint32_t smem_u32(const void* p) {
    return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void ldsm_x4(std::uint32_t (&r)[4], std::uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

__device__ __forceinline__ void ldsm_x4_trans(std::uint32_t (&r)[4], std::uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

// 16 bytes global -> shared, asynchronously; the bytes past src_bytes (all 16
// when it is 0: nothing is read) are written as zeros.
__device__ __forceinline__ void cp_async_16(std::uint32_t dst, const void* src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes)
                 : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

// Wait until at most N of this thread's committed groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// 2^x; exp2(-inf) = +0, which is how masked scores vanish.
__device__ __forceinline__ float exp2_approx(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

// Rows [row0, row0 + Rows) of a (rows x D) matrix with row stride `stride`
// (elements; 16-byte aligned rows) into s[Rows][D + kSmemPad]; rows at or past
// `limit` become zeros (V's must: 0 * garbage could be NaN).  Every thread
// issues Rows * D / 8 / kThreads copies; thread i takes the 16-byte chunks
// i, i + kThreads, ..., so consecutive threads read consecutive global bytes.
template <class T, int D, int Rows>
__device__ __forceinline__ void load_tile(T* s, const T* g, std::int64_t stride, int row0, int limit) {
    constexpr int kChunks = D / 8;
    static_assert(Rows * kChunks % kThreads == 0, "whole chunks per thread");
#pragma unroll
    for (int it = 0; it < Rows * kChunks / kThreads; ++it) {
        const int c = static_cast<int>(threadIdx.x) + it * kThreads;
        const int r = c / kChunks, col = c % kChunks * 8;
        const bool ok = row0 + r < limit;
        const T* src = ok ? g + static_cast<std::int64_t>(row0 + r) * stride + col : g;
        cp_async_16(smem_u32(s + r * (D + kSmemPad) + col), src, ok ? 16 : 0);
    }
}

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

}  // namespace fwd_detail

template <class T, int D, bool Causal>
__global__ void __launch_bounds__(kThreads) attention_fwd_kernel(const FwdArgs a) {
    using namespace fwd_detail;
    static_assert(D % 16 == 0 && D >= 32 && D <= 128, "head dims 32..128 in steps of 16");
    constexpr int kStride = D + kSmemPad;  // halves per shared row
    constexpr int kSN = kBlockN / 8;       // 8-key column tiles of S
    constexpr int kON = D / 8;             // 8-dim column tiles of O
    using M = Mma<T>;

    extern __shared__ __align__(16) unsigned char smem_raw[];
    T* const sQ = reinterpret_cast<T*>(smem_raw);
    T* const sK = sQ + kBlockM * kStride;
    T* const sV = sK + kBlockN * kStride;

    const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
    const int g = lane / 4, t4 = lane % 4;

    // Block -> (batch, head, split, query tile); the query tile varies fastest
    // so neighbouring blocks share K/V in L2.  Causal: heaviest tiles first.
    std::int64_t bid = blockIdx.x;
    int qt = static_cast<int>(bid % a.n_qtiles);
    bid /= a.n_qtiles;
    const int split = static_cast<int>(bid % a.num_splits);
    bid /= a.num_splits;
    const int h = static_cast<int>(bid % a.heads_q);
    const std::int64_t b = bid / a.heads_q;
    if constexpr (Causal) qt = a.n_qtiles - 1 - qt;

    std::int64_t q_off = 0, k_off = 0;
    int lq = a.seq_q, lk = a.seq_k;
    if (a.cu_q != nullptr) {
        q_off = a.cu_q[b];
        lq = a.cu_q[b + 1] - a.cu_q[b];
        k_off = a.cu_k[b];
        lk = a.cu_k[b + 1] - a.cu_k[b];
    }
    if (a.kv_lengths != nullptr) lk = min(max(a.kv_lengths[b], 0), lk);
    const int q0 = qt * kBlockM;
    if (q0 >= lq) return;  // block-uniform: a varlen sequence shorter than the grid's longest

    const int hk = h / a.group;
    const T* const qg = static_cast<const T*>(a.q) + b * a.q_sb + h * a.q_sh + q_off * a.q_sr;
    const T* const kg = static_cast<const T*>(a.k) + b * a.k_sb + hk * a.k_sh + k_off * a.k_sr;
    const T* const vg = static_cast<const T*>(a.v) + b * a.v_sb + hk * a.v_sh + k_off * a.v_sr;

    // n_i is non-decreasing in i: the block's first row sees the fewest keys,
    // its last (valid) row the most.
    const int n_min = visible_keys<Causal>(q0, lq, lk);
    const int n_max = visible_keys<Causal>(min(q0 + kBlockM, lq) - 1, lq, lk);
    const int n_tiles = static_cast<int>((static_cast<std::int64_t>(n_max) + kBlockN - 1) / kBlockN);
    const int t_begin = split * a.tiles_per_split;
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

            if (t == t_begin) {
                // A fragment of rows warp*16..+15, dims 16kk..+15: lanes 0-15 address
                // rows 0-15 at dim 16kk (matrices 0: a0, 1: a1), lanes 16-31 rows
                // 0-15 at dim 16kk+8 (matrices 2: a2, 3: a3).
#pragma unroll
                for (int kk = 0; kk < D / 16; ++kk) {
                    ldsm_x4(qf[kk], smem_u32(sQ + (warp * 16 + lane % 16) * kStride + kk * 16 + lane / 16 * 8));
                }
            }

            // S = Q K_t^T.  B(k = dim, n = key) = K[key][dim]: K's rows are B's
            // columns, so plain ldmatrix on K rows gives B fragments.  For keys
            // 16np..+15 and dims 16kk..+15: matrix 0 = keys +0..7, dims +0..7 (b0 of
            // column tile 2np), 1 = keys +0..7, dims +8..15 (b1 of 2np), 2 = keys
            // +8..15, dims +0..7 (b0 of 2np+1), 3 = keys +8..15, dims +8..15 (b1 of 2np+1).
            float s[kSN][4];
#pragma unroll
            for (int n = 0; n < kSN; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
            for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
                for (int np = 0; np < kSN / 2; ++np) {
                    std::uint32_t kb[4];
                    const int key = np * 16 + lane % 8 + lane / 16 * 8;
                    const int dim = kk * 16 + lane / 8 % 2 * 8;
                    ldsm_x4(kb, smem_u32(sK + key * kStride + dim));
                    M::run(s[2 * np], qf[kk], kb[0], kb[1]);
                    M::run(s[2 * np + 1], qf[kk], kb[2], kb[3]);
                }
            }

            // Scale, mask, and the new running max.  s[n][e] is row g + 8 (e / 2),
            // key k0 + 8n + 2 t4 + e % 2.
            const bool need_mask = k0 + kBlockN > n_min;  // block-uniform
            float mx[2] = {m_run[0], m_run[1]};
#pragma unroll
            for (int n = 0; n < kSN; ++n) {
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    float x = s[n][e] * coef[e / 2];
                    if (need_mask && k0 + 8 * n + 2 * t4 + e % 2 >= n_row[e / 2]) x = kNegInf;
                    s[n][e] = x;
                    mx[e / 2] = fmaxf(mx[e / 2], x);
                }
            }
            // A row's 64 scores live in the 4 lanes of its quad (lanes 4g..4g+3).
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

            __syncthreads();  // every warp is done reading sK
            if (t + 1 < t_end) load_tile<T, D, kBlockN>(sK, kg, a.k_sr, k0 + kBlockN, lk);
            cp_async_commit();  // group: K_{t+1} (empty on the last tile)
            cp_async_wait<1>();  // V_t has landed
            __syncthreads();

            // O += P V_t.  P's A fragment for keys 16kk..+15 is S's accumulators of
            // column tiles 2kk (a0 = c0 c1, a1 = c2 c3) and 2kk+1 (a2, a3).
            // B(k = key, n = dim) = V[key][dim]: ldmatrix.trans on V rows.  For keys
            // 16kk..+15, dims 16dp..+15: matrix 0 = keys +0..7, dims +0..7 (b0 of dim
            // tile 2dp), 1 = keys +8..15, dims +0..7 (b1 of 2dp), 2 = keys +0..7, dims
            // +8..15 (b0 of 2dp+1), 3 = keys +8..15, dims +8..15 (b1 of 2dp+1).
#pragma unroll
            for (int kk = 0; kk < kBlockN / 16; ++kk) {
                const std::uint32_t pa[4] = {M::pack(s[2 * kk][0], s[2 * kk][1]), M::pack(s[2 * kk][2], s[2 * kk][3]),
                                             M::pack(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                             M::pack(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
                for (int dp = 0; dp < D / 16; ++dp) {
                    std::uint32_t vb[4];
                    const int key = kk * 16 + lane % 8 + lane / 8 % 2 * 8;
                    const int dim = dp * 16 + lane / 16 * 8;
                    ldsm_x4_trans(vb, smem_u32(sV + key * kStride + dim));
                    M::run(acc_o[2 * dp], pa, vb[0], vb[1]);
                    M::run(acc_o[2 * dp + 1], pa, vb[2], vb[3]);
                }
            }
            __syncthreads();  // every warp is done reading sV before V_{t+1} lands there
        }
    }

    // Epilogue: the quad's partial sums, then rows below lq.
    float l_row[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        l_row[r] = l_run[r];
        l_row[r] += __shfl_xor_sync(0xffffffffu, l_row[r], 1);
        l_row[r] += __shfl_xor_sync(0xffffffffu, l_row[r], 2);
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const int row = row0 + 8 * r;
        if (row >= lq) continue;
        // l == 0: nothing visible (n_i = 0, or an empty split): zeros and lse = -inf.
        const float l = l_row[r];
        const float inv = l == 0.f ? 0.f : 1.f / l;
        const float lse = l == 0.f ? kNegInf : (m_run[r] + log2f(l)) * kLn2;
        const std::int64_t prow = q_off + row;
        if (a.num_splits == 1) {
            T* const o = static_cast<T*>(a.out) + b * a.o_sb + h * a.o_sh + prow * a.o_sr;
#pragma unroll
            for (int n = 0; n < kON; ++n) {
                *reinterpret_cast<std::uint32_t*>(o + 8 * n + 2 * t4) =
                    M::pack(acc_o[n][2 * r] * inv, acc_o[n][2 * r + 1] * inv);
            }
            if (t4 == 0 && a.lse != nullptr) a.lse[b * a.l_sb + h * a.l_sh + prow * a.l_sr] = lse;
        } else {
            const std::int64_t wrow = split * a.ws_rows + b * a.ws_b + h * a.ws_h + prow;
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
