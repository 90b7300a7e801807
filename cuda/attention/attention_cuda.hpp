// Entropy-invariant attention on CUDA devices: the seam the bindings call.
//
// out_i = softmax(lambda_i * q_i K^T) V for every query row i, where n_i is the
// number of keys row i sees and lambda_i is a constant, or
// max(log(n_i) / log(base), min_scale) / sqrt(d) ("entropy").  The kernels are
// FlashAttention-2-style (cuda/attention/attention_fwd_kernel.cuh); this
// header is plain C++: raw device pointers, sizes and strides in elements
// (int64), and a stream.
//
// Layouts.  Dense: q (batch, heads_q, seq_q, d), k and v (batch, heads_kv,
// seq_k, d), out (batch, heads_q, seq_q, d), lse (batch, heads_q, seq_q).
// Varlen (cu_seqlens_q non-null): q (total_q, heads_q, d), k and v (total_k,
// heads_kv, d), out (total_q, heads_q, d), lse (heads_q, total_q); sequence b
// owns rows [cu_seqlens_q[b], cu_seqlens_q[b+1]) of q and likewise of k/v.
// Each operand is described by three strides (batch, head, row); the last
// dimension is contiguous.  In varlen mode the batch strides are ignored and
// a row index is the packed one.
//
// What the kernels rely on, checked here (std::invalid_argument): d has an
// instantiation (tools/cuda_units.py: 32, 64, 96 or 128); heads_q a positive
// multiple of heads_kv; every q/k/v/out pointer 16-byte aligned and every
// stride a multiple of 8 elements (cp.async moves 16 bytes); a workspace of
// workspace_numel(p) floats when num_splits > 1.  The values of scale,
// log_base and min_scale are not checked here: the public function checks
// them (non-finite ones give NaN rows, never a bad access).  What the kernels
// cannot check without reading device memory is the caller's job: cu_seqlens
// non-decreasing from 0 with every sequence inside the tensors and its length
// at most seq_q / seq_k.  kv_lengths values are clamped to [0, seq_k] on the
// device, so a bad value never reads out of bounds.  Everything is enqueued
// on `stream` on the current device; nothing synchronises.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "../../cpp/core/dtype.hpp"

namespace logsketch::attention::gpu {

using logsketch::Dtype;  // supported here: float16, bfloat16
enum class ScaleMode : int { constant = 0, entropy = 1 };

// Element strides of one operand.
struct Strides {
    std::int64_t batch, head, row;
};

struct ForwardParams {
    Dtype dtype;
    std::int64_t head_dim;  // d, the same for q, k and v
    std::int64_t batch, heads_q, heads_kv;
    // Dense: the sequence lengths.  Varlen: the largest sequence lengths (the
    // grid is sized by them), total_q the packed row count of q and out.
    std::int64_t seq_q, seq_k, total_q;
    const void* q;
    Strides q_st;
    const void* k;
    Strides k_st;
    const void* v;
    Strides v_st;
    void* out;
    Strides out_st;
    float* lse;  // may be null: not written
    Strides lse_st;
    bool causal;  // queries aligned to the end of the keys
    ScaleMode scale_mode;
    double scale;      // constant: lambda itself
    double log_base;   // entropy: log(base) > 0
    double min_scale;  // entropy: the floor of log(n_i)/log(base); -inf for none
    const std::int32_t* kv_lengths;    // dense only, may be null: (batch,)
    const std::int32_t* cu_seqlens_q;  // varlen: (batch + 1,), else null
    const std::int32_t* cu_seqlens_k;  // varlen: (batch + 1,), else null
    int num_splits;                    // >= 1; > 1 splits the keys (decode)
    float* workspace;                  // num_splits > 1: workspace_numel(p) floats
    std::int64_t workspace_numel_given;
};

// Key splits for a call of this shape on a device with `num_sms`
// multiprocessors: 1 when the query tiles alone fill the device.
int choose_num_splits(std::int64_t batch, std::int64_t heads_q, std::int64_t seq_q, std::int64_t seq_k,
                      int num_sms);

// Floats of workspace a call with p.num_splits > 1 needs (0 when it is 1).
std::int64_t workspace_numel(const ForwardParams& p);

void forward(const ForwardParams& p, cudaStream_t stream);

}  // namespace logsketch::attention::gpu
