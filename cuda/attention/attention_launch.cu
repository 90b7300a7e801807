// Attention forward on the GPU: checks, derived arguments, split-KV choice and
// dispatch to the per-(dtype, head dim, causal) instantiations (generated from
// tools/cuda_units.py into instantiations/).  Occupancy is bounded by the
// kernel's registers (docs/tuning.md, "GPU registers and occupancy").
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "../runtime/cuda_check.cuh"
#include "attention_cuda.hpp"
#include "attention_fwd.cuh"
#include "instantiations/attention_fwd_instantiations.cuh"

namespace logsketch::attention::gpu {
namespace {

// Row indices are int on the device, with a tile of slack.
constexpr std::int64_t kMaxRows = std::numeric_limits<std::int32_t>::max() - 2 * kBlockM;
constexpr double kLog2e = 1.4426950408889634;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

void check_operand(const char* name, const void* ptr, const Strides& st, bool varlen) {
    if (reinterpret_cast<std::uintptr_t>(ptr) % 16 != 0) {
        throw std::invalid_argument(std::string(name) + "'s data pointer must be 16-byte aligned");
    }
    if ((!varlen && st.batch % 8 != 0) || st.head % 8 != 0 || st.row % 8 != 0) {
        throw std::invalid_argument(std::string(name) +
                                    "'s batch, head and row strides must be multiples of 8 elements; got (" +
                                    std::to_string(st.batch) + ", " + std::to_string(st.head) + ", " +
                                    std::to_string(st.row) + ")");
    }
}

std::int64_t rows_per_split(const ForwardParams& p) {
    const bool varlen = p.cu_seqlens_q != nullptr;
    return (varlen ? 1 : p.batch) * p.heads_q * (varlen ? p.total_q : p.seq_q);
}

// Key tiles per split and the number of non-empty splits for `requested`.
void split_layout(std::int64_t seq_k, int requested, int& tiles_per_split, int& splits) {
    const std::int64_t key_tiles = ceil_div(seq_k, kBlockN);
    if (requested <= 1 || key_tiles <= 1) {
        tiles_per_split = std::numeric_limits<std::int32_t>::max() / 2;  // one split sees every tile
        splits = 1;
        return;
    }
    const std::int64_t tps = ceil_div(key_tiles, requested);
    tiles_per_split = static_cast<int>(tps);
    splits = static_cast<int>(ceil_div(key_tiles, tps));
}

template <class T, int D>
void dispatch_causal(const FwdArgs& a, std::int64_t blocks, bool causal, cudaStream_t stream) {
    causal ? run_fwd<T, D, true>(a, blocks, stream) : run_fwd<T, D, false>(a, blocks, stream);
}

bool instantiated_head_dim(std::int64_t d) {
#define LOGSKETCH_IS_DIM(D) if (d == D) return true;
    LOGSKETCH_ATTENTION_HEAD_DIMS(LOGSKETCH_IS_DIM)
#undef LOGSKETCH_IS_DIM
    return false;
}

// The instantiation for (T, d, causal); validate() checked that d has one.
template <class T>
void dispatch(const FwdArgs& a, std::int64_t blocks, std::int64_t d, bool causal, cudaStream_t stream) {
    switch (d) {
#define LOGSKETCH_DIM_CASE(D) \
    case D: return dispatch_causal<T, D>(a, blocks, causal, stream);
        LOGSKETCH_ATTENTION_HEAD_DIMS(LOGSKETCH_DIM_CASE)
#undef LOGSKETCH_DIM_CASE
        default: throw std::invalid_argument("no attention instantiation for head_dim " + std::to_string(d));
    }
}

// dispatch<T> for the element type of p.dtype.
void dispatch_dtype(const FwdArgs& a, std::int64_t blocks, const ForwardParams& p, cudaStream_t stream) {
    switch (p.dtype) {
#define LOGSKETCH_DTYPE_CASE(NAME, TYPE) \
    case Dtype::NAME: return dispatch<TYPE>(a, blocks, p.head_dim, p.causal, stream);
        LOGSKETCH_ATTENTION_DTYPES(LOGSKETCH_DTYPE_CASE)
#undef LOGSKETCH_DTYPE_CASE
    }
    throw std::invalid_argument("unknown attention dtype");
}

// What the kernels rely on (attention_cuda.hpp): instantiated head dim, a
// head grouping that keeps kv head indices in range, int-sized rows, paired
// cu_seqlens, a split count the combine kernel takes.  The values of scale,
// log_base and min_scale are the caller's (the Python layer checks them once).
void validate(const ForwardParams& p) {
    const bool varlen = p.cu_seqlens_q != nullptr;
    if (!instantiated_head_dim(p.head_dim)) {
        throw std::invalid_argument("head_dim must be " LOGSKETCH_ATTENTION_HEAD_DIMS_TEXT " on the GPU; got " +
                                    std::to_string(p.head_dim));
    }
    if (p.heads_q < 1 || p.heads_kv < 1 || p.heads_q % p.heads_kv != 0 || p.heads_q > kMaxRows) {
        throw std::invalid_argument("heads_q must be a positive multiple of heads_kv; got heads_q=" +
                                    std::to_string(p.heads_q) + ", heads_kv=" + std::to_string(p.heads_kv));
    }
    if (p.batch < 0 || p.seq_q < 0 || p.seq_k < 0 || p.total_q < 0 || p.seq_q > kMaxRows || p.seq_k > kMaxRows ||
        p.total_q > kMaxRows) {
        throw std::invalid_argument("batch, seq_q, seq_k and total_q must be in [0, 2**31 - 128)");
    }
    if (varlen != (p.cu_seqlens_k != nullptr)) {
        throw std::invalid_argument("cu_seqlens_q and cu_seqlens_k must be given together");
    }
    if (varlen && p.kv_lengths != nullptr) {
        throw std::invalid_argument("kv_lengths is not supported with cu_seqlens (varlen)");
    }
    if (p.num_splits < 1 || p.num_splits > kMaxSplits) {
        throw std::invalid_argument("num_splits must be in [1, " + std::to_string(kMaxSplits) + "]; got " +
                                    std::to_string(p.num_splits));
    }
}

// The pointers and strides the cp.async loads need (16-byte aligned, strides
// in multiples of 8 elements); only when there are rows to read.
void validate_operands(const ForwardParams& p) {
    const bool varlen = p.cu_seqlens_q != nullptr;
    check_operand("q", p.q, p.q_st, varlen);
    check_operand("k", p.k, p.k_st, varlen);
    check_operand("v", p.v, p.v_st, varlen);
    check_operand("out", p.out, p.out_st, varlen);
}

// The forward kernel's arguments: strides, tiles, the split layout and the
// scale constants; the split workspace comes from attach_workspace().
FwdArgs make_fwd_args(const ForwardParams& p) {
    const bool varlen = p.cu_seqlens_q != nullptr;
    FwdArgs a{};
    a.q = p.q;
    a.k = p.k;
    a.v = p.v;
    a.out = p.out;
    a.lse = p.lse;
    // In varlen mode a row index is packed across the batch: no batch strides.
    a.q_sb = varlen ? 0 : p.q_st.batch;
    a.k_sb = varlen ? 0 : p.k_st.batch;
    a.v_sb = varlen ? 0 : p.v_st.batch;
    a.o_sb = varlen ? 0 : p.out_st.batch;
    a.l_sb = varlen ? 0 : p.lse_st.batch;
    a.q_sh = p.q_st.head, a.q_sr = p.q_st.row;
    a.k_sh = p.k_st.head, a.k_sr = p.k_st.row;
    a.v_sh = p.v_st.head, a.v_sr = p.v_st.row;
    a.o_sh = p.out_st.head, a.o_sr = p.out_st.row;
    a.l_sh = p.lse_st.head, a.l_sr = p.lse_st.row;
    a.heads_q = static_cast<int>(p.heads_q);
    a.group = static_cast<int>(p.heads_q / p.heads_kv);
    a.seq_q = static_cast<int>(p.seq_q);
    a.seq_k = static_cast<int>(p.seq_k);
    a.kv_lengths = p.kv_lengths;
    a.cu_q = p.cu_seqlens_q;
    a.cu_k = p.cu_seqlens_k;
    a.n_qtiles = static_cast<int>(ceil_div(p.seq_q, kBlockM));
    split_layout(p.seq_k, p.num_splits, a.tiles_per_split, a.num_splits);
    a.entropy = p.scale_mode == ScaleMode::entropy;
    a.coef_const = static_cast<float>(p.scale * kLog2e);
    a.inv_ln_base = static_cast<float>(1.0 / p.log_base);
    a.min_scale = static_cast<float>(p.min_scale);
    a.log2e_rsqrt_d = static_cast<float>(kLog2e / std::sqrt(static_cast<double>(p.head_dim)));
    return a;
}

// Split mode: the partial rows and their lse in p.workspace, checked to be
// large enough (it was sized for p.num_splits >= a.num_splits splits).
void attach_workspace(FwdArgs& a, const ForwardParams& p) {
    if (a.num_splits <= 1) return;
    const bool varlen = p.cu_seqlens_q != nullptr;
    const std::int64_t ws_rows = rows_per_split(p);
    if (p.workspace == nullptr || p.workspace_numel_given < workspace_numel(p)) {
        throw std::invalid_argument("num_splits > 1 needs a workspace of " + std::to_string(workspace_numel(p)) +
                                    " floats; got " + std::to_string(p.workspace_numel_given));
    }
    a.ws_o = p.workspace;
    a.ws_lse = p.workspace + static_cast<std::int64_t>(p.num_splits) * ws_rows * p.head_dim;
    a.ws_rows = ws_rows;
    a.ws_h = varlen ? p.total_q : p.seq_q;
    a.ws_b = varlen ? 0 : p.heads_q * a.ws_h;
}

// Blocks of the forward grid: query tiles x batch x heads x splits, which must fit a launch.
std::int64_t grid_blocks(const FwdArgs& a, const ForwardParams& p) {
    const std::int64_t blocks = static_cast<std::int64_t>(a.n_qtiles) * p.batch * p.heads_q * a.num_splits;
    if (blocks > std::numeric_limits<std::int32_t>::max()) {
        throw std::invalid_argument("too many query tiles for one launch: batch * heads_q * ceil(seq_q / 64) = " +
                                    std::to_string(blocks / a.num_splits) + " exceeds 2**31 - 1");
    }
    return blocks;
}

// The combine kernel's arguments: the split rows of `a` into p's out and lse.
CombineArgs make_combine_args(const FwdArgs& a, const ForwardParams& p) {
    const bool varlen = p.cu_seqlens_q != nullptr;
    CombineArgs c{};
    c.ws_o = a.ws_o;
    c.ws_lse = a.ws_lse;
    c.ws_rows = a.ws_rows;
    c.ws_b = a.ws_b;
    c.ws_h = a.ws_h;
    c.num_splits = a.num_splits;
    c.head_dim = static_cast<int>(p.head_dim);
    c.batches = varlen ? 1 : p.batch;
    c.heads_q = p.heads_q;
    c.rows_per_head = a.ws_h;
    c.out = p.out;
    c.lse = p.lse;
    c.o_sb = a.o_sb, c.o_sh = a.o_sh, c.o_sr = a.o_sr;
    c.l_sb = a.l_sb, c.l_sh = a.l_sh, c.l_sr = a.l_sr;
    return c;
}

void launch_combine(const CombineArgs& c, Dtype dtype, cudaStream_t stream) {
    switch (dtype) {
#define LOGSKETCH_DTYPE_CASE(NAME, TYPE) \
    case Dtype::NAME: return run_combine<TYPE>(c, stream);
        LOGSKETCH_ATTENTION_DTYPES(LOGSKETCH_DTYPE_CASE)
#undef LOGSKETCH_DTYPE_CASE
    }
    throw std::invalid_argument("unknown attention dtype");
}

}  // namespace

int choose_num_splits(std::int64_t batch, std::int64_t heads_q, std::int64_t seq_q, std::int64_t seq_k,
                      int num_sms) {
    if (batch <= 0 || heads_q <= 0 || seq_q <= 0 || num_sms <= 0) return 1;
    const std::int64_t blocks = ceil_div(seq_q, kBlockM) * batch * heads_q;
    const std::int64_t key_tiles = ceil_div(seq_k, kBlockN);
    // Query tiles that already fill the device, or too few keys to share out.
    if (blocks >= num_sms || key_tiles < 4) return 1;
    // About two blocks per SM (what registers allow), each split at least two key tiles.
    std::int64_t s = ceil_div(2 * static_cast<std::int64_t>(num_sms), blocks);
    s = std::min<std::int64_t>({s, key_tiles / 2, kMaxSplits});
    int tps = 0, splits = 1;
    split_layout(seq_k, static_cast<int>(std::max<std::int64_t>(s, 1)), tps, splits);
    return splits;
}

std::int64_t workspace_numel(const ForwardParams& p) {
    if (p.num_splits <= 1) return 0;
    return static_cast<std::int64_t>(p.num_splits) * rows_per_split(p) * (p.head_dim + 1);
}

void forward(const ForwardParams& p, cudaStream_t stream) {
    validate(p);
    const std::int64_t rows = p.cu_seqlens_q != nullptr ? p.total_q : p.seq_q;
    if (p.batch == 0 || rows == 0) return;
    validate_operands(p);
    FwdArgs a = make_fwd_args(p);
    attach_workspace(a, p);
    dispatch_dtype(a, grid_blocks(a, p), p, stream);
    if (a.num_splits > 1) launch_combine(make_combine_args(a, p), p.dtype, stream);
}

}  // namespace logsketch::attention::gpu
