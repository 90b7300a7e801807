// What attention_launch.cu and the per-instantiation files share: the kernel
// arguments after the host has derived everything it can, the tile sizes, and
// the launchers, declared here and explicitly instantiated once per
// (dtype, head dim, causal) in instantiations/attention_fwd_hdim*_*.cu
// (generated from tools/cuda_units.py) so that nvcc compiles them in parallel
// and this header stays cheap to include.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace logsketch::attention::gpu {

constexpr int kBlockM = 64;   // query rows per block: 4 warps x 16 rows (one m16 MMA row block each)
constexpr int kBlockN = 64;   // keys per tile
constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kSmemPad = 8;   // halves of padding per shared row: conflict-free ldmatrix (see the kernel)
constexpr int kMaxSplits = 64;

// The forward kernel's arguments.  Strides are in elements; "row" strides step
// along the sequence (in varlen mode along the packed rows).
struct FwdArgs {
    const void* q;
    const void* k;
    const void* v;
    void* out;
    float* lse;  // may be null
    std::int64_t q_sb, q_sh, q_sr;
    std::int64_t k_sb, k_sh, k_sr;
    std::int64_t v_sb, v_sh, v_sr;
    std::int64_t o_sb, o_sh, o_sr;
    std::int64_t l_sb, l_sh, l_sr;
    int heads_q;
    int group;        // heads_q / heads_kv: query head h reads kv head h / group
    int seq_q, seq_k; // dense: the lengths; varlen: upper bounds (only seq_k is used, as a clamp)
    const std::int32_t* kv_lengths;
    const std::int32_t* cu_q;
    const std::int32_t* cu_k;
    int n_qtiles;        // ceil(seq_q / kBlockM): query tiles per (batch, head)
    int num_splits;      // key splits per (batch, head, query tile)
    int tiles_per_split; // key tiles per split
    bool entropy;
    float coef_const;        // constant mode: lambda * log2(e)
    float inv_ln_base;       // entropy: 1 / ln(base)
    float min_scale;         // entropy: floor of log(n)/log(base) (-inf: none)
    float log2e_rsqrt_d;     // entropy: log2(e) / sqrt(d)
    // Split mode (num_splits > 1): partial rows, normalised, in float32.
    // Row (b, h, r) of split s: ws_o[(s * ws_rows + b * ws_b + h * ws_h + r) * d],
    // its lse at ws_lse[s * ws_rows + b * ws_b + h * ws_h + r] (r packed in varlen mode).
    float* ws_o;
    float* ws_lse;
    std::int64_t ws_rows, ws_b, ws_h;
};

// The combine kernel's arguments: rows (b, h, r) for b < batches, h < heads_q,
// r < rows_per_head (in varlen mode batches = 1 and r is the packed row).
struct CombineArgs {
    const float* ws_o;
    const float* ws_lse;
    std::int64_t ws_rows, ws_b, ws_h;
    int num_splits;
    int head_dim;
    std::int64_t batches, heads_q, rows_per_head;
    void* out;
    float* lse;
    std::int64_t o_sb, o_sh, o_sr;
    std::int64_t l_sb, l_sh, l_sr;
};

template <class T, int D, bool Causal>
void run_fwd(const FwdArgs& a, std::int64_t blocks, cudaStream_t stream);

template <class T>
void run_combine(const CombineArgs& a, cudaStream_t stream);

}  // namespace logsketch::attention::gpu
