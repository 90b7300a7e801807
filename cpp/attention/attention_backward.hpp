// The gradients of entropy-invariant attention on the CPU: the seam the
// bindings call.
//
// Given dout = dL/dout and the forward's out and lse, computes dq, dk, dv
// flash-style: P is recomputed from the saved lse (P_ij = exp(lambda_i
// q_i.k_j - lse_i) over the keys row i sees), D_i = dout_i . out_i and
// dS = P o (dout V^T - D); then dv = P^T dout, dk_j = sum_i lambda_i dS_ij q_i,
// dq_i = lambda_i sum_j dS_ij k_j (lambda_i does not depend on q or k).  GQA:
// dk and dv of a kv head sum over the query heads of its group.  Rows that see
// no key contribute nothing (their dq is 0).  Same layout conventions and
// preconditions as attention.hpp's Problem; dq, dk, dv must not overlap the
// inputs.  Every row of dq in [0, q_len) and every key of dk, dv in
// [0, k_len) is written; keys past k_len[b] (padding) are not.  Results do
// not depend on the thread count.
#pragma once

#include <cstdint>

#include "../core/dtype.hpp"
#include "attention.hpp"

namespace logsketch::attention {

// Element (h, i, c) of batch entry b of x is x[x_off[b] + h * x_hs + i * x_rs + c],
// as in Problem; dq has q's layout description, dk k's, dv v's, dout out's.
struct BackwardProblem {
    Dtype dtype;
    std::int64_t batch, heads_q, heads_kv, d, dv;
    const void* q;
    const void* k;
    const void* v;
    const void* out;   // of dtype
    const void* dout;  // of dtype
    const void* lse;   // float32 (float16/float32 inputs) or float64
    void* dq;          // of dtype
    void* dk;
    void* dv_;
    std::int64_t q_hs, q_rs, k_hs, k_rs, v_hs, v_rs, o_hs, o_rs, do_hs, do_rs, lse_hs, lse_rs;
    std::int64_t dq_hs, dq_rs, dk_hs, dk_rs, dv_hs, dv_rs;
    const std::int64_t* q_off;
    const std::int64_t* k_off;
    const std::int64_t* v_off;
    const std::int64_t* o_off;
    const std::int64_t* do_off;
    const std::int64_t* lse_off;
    const std::int64_t* dq_off;
    const std::int64_t* dk_off;
    const std::int64_t* dv_off;
    const std::int64_t* q_len;
    const std::int64_t* k_len;
    bool causal;
    Scale scale;
};

void attention_backward(const BackwardProblem& p);

}  // namespace logsketch::attention
