// The tensor-core pieces of the attention forward kernel
// (attention_fwd_kernel.cuh): the mma.sync and ldmatrix wrappers, the cp.async
// tile loads, and the two GEMMs of a key tile, S = Q K_t^T and O += P V_t.
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
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "attention_fwd.cuh"

namespace logsketch::attention::gpu {
namespace fwd_detail {

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

// Q's A fragments of this warp's rows warp*16..+15, dims 16kk..+15: lanes 0-15
// address rows 0-15 at dim 16kk (matrices 0: a0, 1: a1), lanes 16-31 rows
// 0-15 at dim 16kk+8 (matrices 2: a2, 3: a3).
template <class T, int D>
__device__ __forceinline__ void load_q_fragments(std::uint32_t (&qf)[D / 16][4], const T* sQ, int warp, int lane) {
    constexpr int kStride = D + kSmemPad;
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
template <class T, int D>
__device__ __forceinline__ void qk_tile(float (&s)[kBlockN / 8][4], const std::uint32_t (&qf)[D / 16][4], const T* sK,
                                        int lane) {
    constexpr int kStride = D + kSmemPad;
    constexpr int kSN = kBlockN / 8;
    using M = Mma<T>;
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
}

// O += P V_t.  P's A fragment for keys 16kk..+15 is S's accumulators of
// column tiles 2kk (a0 = c0 c1, a1 = c2 c3) and 2kk+1 (a2, a3).
// B(k = key, n = dim) = V[key][dim]: ldmatrix.trans on V rows.  For keys
// 16kk..+15, dims 16dp..+15: matrix 0 = keys +0..7, dims +0..7 (b0 of dim
// tile 2dp), 1 = keys +8..15, dims +0..7 (b1 of 2dp), 2 = keys +0..7, dims
// +8..15 (b0 of 2dp+1), 3 = keys +8..15, dims +8..15 (b1 of 2dp+1).
template <class T, int D>
__device__ __forceinline__ void pv_tile(float (&acc_o)[D / 8][4], const float (&s)[kBlockN / 8][4], const T* sV,
                                        int lane) {
    constexpr int kStride = D + kSmemPad;
    using M = Mma<T>;
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
}

}  // namespace fwd_detail
}  // namespace logsketch::attention::gpu
