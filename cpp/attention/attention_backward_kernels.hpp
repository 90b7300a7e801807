// The per-SIMD-level attention backward kernel, as a table: it comes from
// attention_backward_kernels.cpp, compiled once per level; the driver
// (attention_backward.cpp) picks the active level's.
#pragma once

#include <cstdint>

#include "../runtime/dispatch.hpp"

namespace logsketch::attention {

// One (batch entry, kv head) over the keys [kb, ke): its `rows` query rows
// (the group's heads one after the other), prepared by the driver in padded
// row-major T buffers whose widths dp, dvp are multiples of `lanes`, padding 0.
// The kernel writes, for the keys j in [kb, ke) (row j - kb of dk and dv):
//   dv_j = sum_r P_rj dout_r,  dk_j = sum_r dS_rj qs_r,
// and adds dq_r += sum_j dS_rj k_j over those keys, where
// P_rj = exp2(qs_r . k_j - lse2_r) for j < n[r], else 0, and
// dS_rj = P_rj (dout_r . v_j - delta_r).  qs_r = lambda_r log2(e) q_r, so the
// driver scales dk by ln(2) and dq_r by lambda_r.
template <class T>
struct BackwardTask {
    std::int64_t rows, d, dv, dp, dvp;
    const T* qs;              // rows x dp
    const T* dout;            // rows x dvp
    const T* lse2;            // rows: lse_r log2(e)
    const T* delta;           // rows: dout_r . out_r
    const std::int64_t* n;    // keys row r sees: j < n[r]
    const void* k;            // key 0 of this (batch, kv head); row j at k + j * k_rs
    const void* v;
    std::int64_t k_rs, v_rs;
    bool half;                // k and v are float16 (T is then float)
    std::int64_t kb, ke;
    T* dq;                    // rows x dp, accumulated
    T* dk;                    // (ke - kb) x dp, written
    T* dv_;                   // (ke - kb) x dvp, written
};

template <class T>
struct BackwardKernels {
    int lanes;      // dp, dvp: multiples of this
    int key_block;  // keys per step; split points are multiples of it
    void (*run)(const BackwardTask<T>& t);
};

LOGSKETCH_DECLARE_PER_ISA(BackwardKernels<float> backward_kernels32();
                          BackwardKernels<double> backward_kernels64();)

template <class T>
BackwardKernels<T> active_backward_kernels() {
    if constexpr (sizeof(T) == 4) return LOGSKETCH_ACTIVE(backward_kernels32)();
    else return LOGSKETCH_ACTIVE(backward_kernels64)();
}

}  // namespace logsketch::attention
