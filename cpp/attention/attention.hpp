// Entropy-invariant attention on the CPU: the seam the bindings call.
//
// out_i = softmax(lambda_i q_i K^T) V for every query row i, with the
// per-row scale lambda_i = factor(n_i) / sqrt(d), n_i the number of keys row
// i sees (attention.hpp's Scale).  Plain structs of raw pointers, sizes and
// strides in elements (int64); no Python, no numpy.  Callers validate: dtype
// one of Dtype, heads_q a multiple of heads_kv, lengths >= 0, every row's last
// dimension contiguous, out/lse not overlapping the inputs.  Results do not
// depend on the thread count.
#pragma once

#include <cstdint>

#include "../core/dtype.hpp"

namespace logsketch::attention {


// lambda_i from n_i (and d, q's head dim): entropy: factor = log(n_i) /
// log_base, raised to min_factor (-inf: no floor); constant: lambda = value.
struct Scale {
    bool entropy;
    double log_base;
    double min_factor;
    double value;
};

// One call's problem.  Batch entry b holds q_len[b] query rows and k_len[b]
// keys; element (h, i, c) of its q is q[q_off[b] + h * q_hs + i * q_rs + c],
// and likewise for k, v (kv heads), out (query heads) and lse (no c).  The
// padded layout (batch, heads, seq, d) and the packed varlen layout
// (tokens, heads, d) are both this with different offsets and strides.
// Causal rows are aligned to the end of the keys: row i sees keys
// j <= i + k_len[b] - q_len[b].
struct Problem {
    Dtype dtype;
    std::int64_t batch, heads_q, heads_kv, d, dv;
    const void* q;
    const void* k;
    const void* v;
    void* out;  // of dtype
    void* lse;  // float32 (float16/float32 inputs) or float64; nullptr: not wanted
    std::int64_t q_hs, q_rs, k_hs, k_rs, v_hs, v_rs, o_hs, o_rs, lse_hs, lse_rs;
    const std::int64_t* q_off;
    const std::int64_t* k_off;
    const std::int64_t* v_off;
    const std::int64_t* o_off;
    const std::int64_t* lse_off;
    const std::int64_t* q_len;
    const std::int64_t* k_len;
    bool causal;
    Scale scale;
};

void attention(const Problem& p);

// lambda for a row that sees n >= 1 keys, in float64 (the value the kernels
// round to their working precision).
double row_scale(const Scale& s, std::int64_t n, std::int64_t d);

}  // namespace logsketch::attention
