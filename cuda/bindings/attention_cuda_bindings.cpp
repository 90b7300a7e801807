// Bindings of the attention CUDA kernels.  The Python layer
// (logsketch/_attention_gpu.py) validates shapes, dtypes and devices, copies
// what the kernels cannot read in place, allocates out, lse and the split-KV
// workspace in the caller's framework and picks the stream; these functions
// take raw device pointers, sizes and strides (in elements), check that the
// pointers live on the device, switch to it, release the GIL and enqueue on
// the given stream.  attention::gpu::forward checks what the kernels rely on
// (head dim, heads, alignment, strides, workspace); argument values (scale,
// base, min_scale) are the Python layer's.
#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "../attention/attention_cuda.hpp"
#include "../runtime/cuda_check.cuh"
#include "../runtime/device_guard.cuh"
#include "../../cpp/bindings/dtype_names.hpp"
#include "device_checks.hpp"
#include "register.hpp"

namespace logsketch::bindings {

namespace py = pybind11;
namespace ag = attention::gpu;
using Triple = std::array<std::int64_t, 3>;

namespace {

ag::Strides strides(const Triple& s) { return {s[0], s[1], s[2]}; }

int num_splits(std::int64_t batch, std::int64_t heads_q, std::int64_t seq_q, std::int64_t seq_k, int device) {
    py::gil_scoped_release release;
    check_device(device);
    int sms = 0;
    LOGSKETCH_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return ag::choose_num_splits(batch, heads_q, seq_q, seq_k, sms);
}

std::int64_t workspace_numel(std::int64_t batch, std::int64_t heads_q, std::int64_t seq_q, std::int64_t total_q,
                             std::int64_t head_dim, bool varlen, int splits) {
    ag::ForwardParams p{};
    p.batch = batch;
    p.heads_q = heads_q;
    p.seq_q = seq_q;
    p.total_q = total_q;
    p.head_dim = head_dim;
    p.num_splits = splits;
    static const std::int32_t marker = 0;  // only compared with null
    p.cu_seqlens_q = varlen ? &marker : nullptr;
    return ag::workspace_numel(p);
}

void forward(std::uintptr_t q, const Triple& q_st, std::uintptr_t k, const Triple& k_st, std::uintptr_t v,
             const Triple& v_st, std::uintptr_t out, const Triple& out_st, std::uintptr_t lse, const Triple& lse_st,
             const std::string& dtype, std::int64_t batch, std::int64_t heads_q, std::int64_t heads_kv,
             std::int64_t seq_q, std::int64_t seq_k, std::int64_t total_q, std::int64_t head_dim, bool causal,
             const std::string& scale_mode, double scale, double log_base, double min_scale,
             std::uintptr_t kv_lengths, std::uintptr_t cu_seqlens_q, std::uintptr_t cu_seqlens_k, int splits,
             std::uintptr_t workspace, std::int64_t workspace_size, std::uintptr_t stream, int device) {
    ag::ForwardParams p{};
    p.dtype = dtype_named(dtype, {Dtype::float16, Dtype::bfloat16});
    if (scale_mode == "constant") {
        p.scale_mode = ag::ScaleMode::constant;
    } else if (scale_mode == "entropy") {
        p.scale_mode = ag::ScaleMode::entropy;
    } else {
        throw py::value_error("scale_mode must be 'constant' or 'entropy'; got '" + scale_mode + "'");
    }
    p.head_dim = head_dim;
    p.batch = batch;
    p.heads_q = heads_q;
    p.heads_kv = heads_kv;
    p.seq_q = seq_q;
    p.seq_k = seq_k;
    p.total_q = total_q;
    p.q = reinterpret_cast<const void*>(q);
    p.q_st = strides(q_st);
    p.k = reinterpret_cast<const void*>(k);
    p.k_st = strides(k_st);
    p.v = reinterpret_cast<const void*>(v);
    p.v_st = strides(v_st);
    p.out = reinterpret_cast<void*>(out);
    p.out_st = strides(out_st);
    p.lse = reinterpret_cast<float*>(lse);
    p.lse_st = strides(lse_st);
    p.causal = causal;
    p.scale = scale;
    p.log_base = log_base;
    p.min_scale = min_scale;
    p.kv_lengths = reinterpret_cast<const std::int32_t*>(kv_lengths);
    p.cu_seqlens_q = reinterpret_cast<const std::int32_t*>(cu_seqlens_q);
    p.cu_seqlens_k = reinterpret_cast<const std::int32_t*>(cu_seqlens_k);
    p.num_splits = splits;
    p.workspace = reinterpret_cast<float*>(workspace);
    p.workspace_numel_given = workspace_size;
    const bool varlen = cu_seqlens_q != 0;
    const bool empty = batch == 0 || heads_q == 0 || (varlen ? total_q : seq_q) == 0;

    py::gil_scoped_release release;
    check_device(device);
    gpu::DeviceGuard guard(device);
    if (!empty) {
        check_pointer("q", q, device);
        check_pointer("out", out, device);
        if (seq_k > 0) {  // no key is read otherwise (empty k and v may have a null pointer)
            check_pointer("k", k, device);
            check_pointer("v", v, device);
        }
        if (lse != 0) check_pointer("lse", lse, device);
        if (kv_lengths != 0) check_pointer("kv_lengths", kv_lengths, device);
        if (varlen) {
            check_pointer("cu_seqlens_q", cu_seqlens_q, device);
            check_pointer("cu_seqlens_k", cu_seqlens_k, device);
        }
        if (workspace != 0) check_pointer("workspace", workspace, device);
    }
    launch_checked([&] { ag::forward(p, reinterpret_cast<cudaStream_t>(stream)); });
}

}  // namespace

void register_attention_cuda(py::module_& m) {
    m.def("attention_num_splits", &num_splits, py::arg("batch"), py::arg("heads_q"), py::arg("seq_q"),
          py::arg("seq_k"), py::arg("device"),
          "Key splits the forward would use for this shape on `device` (1: no split-KV).");
    m.def("attention_workspace_numel", &workspace_numel, py::arg("batch"), py::arg("heads_q"), py::arg("seq_q"),
          py::arg("total_q"), py::arg("head_dim"), py::arg("varlen"), py::arg("num_splits"),
          "float32 elements of split-KV workspace attention_forward needs with `num_splits` splits.");
    m.def("attention_forward", &forward, py::arg("q"), py::arg("q_strides"), py::arg("k"), py::arg("k_strides"),
          py::arg("v"), py::arg("v_strides"), py::arg("out"), py::arg("out_strides"), py::arg("lse"),
          py::arg("lse_strides"), py::arg("dtype"), py::arg("batch"), py::arg("heads_q"), py::arg("heads_kv"),
          py::arg("seq_q"), py::arg("seq_k"), py::arg("total_q"), py::arg("head_dim"), py::arg("causal"),
          py::arg("scale_mode"), py::arg("scale"), py::arg("log_base"), py::arg("min_scale"), py::arg("kv_lengths"),
          py::arg("cu_seqlens_q"), py::arg("cu_seqlens_k"), py::arg("num_splits"), py::arg("workspace"),
          py::arg("workspace_numel"), py::arg("stream"), py::arg("device"),
          "out = softmax(lambda_i q_i K^T) V (and lse, when its pointer is not 0) on `device`, enqueued on "
          "`stream`.  Pointers are device addresses; strides (batch, head, row) in elements, last dimension "
          "contiguous; see cuda/attention/attention_cuda.hpp for the layouts and what is checked.");
}

}  // namespace logsketch::bindings
