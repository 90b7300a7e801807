// Bindings of the attention kernels.  The Python layer (logsketch/attention/)
// resolves the scale, converts inputs and allocates outputs; these functions
// re-check what the kernels rely on (dtypes, shapes, contiguous last
// dimensions, lengths and offsets), build attention.hpp's Problem and release
// the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "../attention/attention.hpp"
#include "../attention/attention_backward.hpp"
#include "array_checks.hpp"
#include "interrupt.hpp"
#include "register.hpp"

namespace logsketch::bindings {

namespace py = pybind11;

namespace {

// Sequence lengths index int32 lanes in the float kernels.
constexpr std::int64_t kMaxSeq = std::numeric_limits<std::int32_t>::max();

Dtype dtype_of(const py::array& arr, const char* name) {
    return array_dtype(arr, name, {Dtype::float16, Dtype::float32, Dtype::float64});
}

void require_same_dtype(const py::array& a, Dtype dt, const char* name) {
    if (dtype_of(a, name) != dt) throw py::type_error(std::string(name) + " must have q's dtype");
}

// Strides in elements, the last one 1 (or a size-1 last dimension).
std::vector<std::int64_t> row_strides(const py::array& a, const char* name) {
    std::vector<std::int64_t> s = element_strides(a, name);
    if (a.size() > 0 && a.shape(a.ndim() - 1) > 1 && s.back() != 1) {
        throw py::value_error(std::string(name) + " must have a contiguous last dimension");
    }
    return s;
}

void require_output(const py::array& a, Dtype dt, const std::vector<py::ssize_t>& shape, const char* name) {
    require_writeable(a, name);
    if (a.ndim() != static_cast<py::ssize_t>(shape.size()) || !(a.flags() & py::array::c_style)) {
        throw py::value_error(std::string(name) + " must be C-contiguous with " + std::to_string(shape.size()) +
                              " dimensions");
    }
    for (std::size_t i = 0; i < shape.size(); ++i)
        if (a.shape(static_cast<py::ssize_t>(i)) != shape[i]) throw py::value_error(std::string(name) + " has the wrong shape");
    const Dtype want = dt == Dtype::float64 ? Dtype::float64 : Dtype::float32;
    if (std::string(name) == "out") {
        if (dtype_of(a, name) != dt) throw py::type_error("out must have q's dtype");
    } else if (dtype_of(a, name) != want) {
        throw py::type_error("lse must be float64 for float64 inputs, float32 otherwise");
    }
}

attention::Scale make_scale(bool entropy, double log_base, double min_factor, double value) {
    if (entropy && !(log_base > 0 && std::isfinite(log_base))) throw py::value_error("base must be > 1");
    if (entropy && std::isnan(min_factor)) throw py::value_error("min_scale must not be NaN");
    if (!entropy && !std::isfinite(value)) throw py::value_error("scale must be finite");
    return {entropy, log_base, min_factor, value};
}

// The lengths and offsets a Problem points to.
struct Offsets {
    std::vector<std::int64_t> q_off, k_off, v_off, o_off, lse_off, q_len, k_len;
    explicit Offsets(std::int64_t batch) {
        for (auto* v : {&q_off, &k_off, &v_off, &o_off, &lse_off, &q_len, &k_len}) v->resize(static_cast<std::size_t>(batch));
    }
    void point(attention::Problem& p) const {
        p.q_off = q_off.data();
        p.k_off = k_off.data();
        p.v_off = v_off.data();
        p.o_off = o_off.data();
        p.lse_off = lse_off.data();
        p.q_len = q_len.data();
        p.k_len = k_len.data();
    }
};

// q, k, v of the padded layout (batch, heads, seq, head_dim): one dtype, matching shapes.
struct PaddedShape {
    Dtype dt;
    std::int64_t batch, hq, lq, d, hkv, lk, dv;
};

PaddedShape padded_shape(const py::array& q, const py::array& k, const py::array& v) {
    const Dtype dt = dtype_of(q, "q");
    require_same_dtype(k, dt, "k");
    require_same_dtype(v, dt, "v");
    if (q.ndim() != 4 || k.ndim() != 4 || v.ndim() != 4) throw py::value_error("q, k and v must be 4-D");
    const std::int64_t batch = q.shape(0), hq = q.shape(1), lq = q.shape(2), d = q.shape(3);
    const std::int64_t hkv = k.shape(1), lk = k.shape(2), dv = v.shape(3);
    if (k.shape(0) != batch || v.shape(0) != batch || v.shape(1) != hkv || v.shape(2) != lk || k.shape(3) != d) {
        throw py::value_error("k and v must have shapes (batch, heads_kv, seq_k, head_dim) and (..., head_dim_v)");
    }
    if (hkv < 1 || hq % hkv != 0) throw py::value_error("heads_q must be a multiple of heads_kv");
    if (d < 1 || dv < 1) throw py::value_error("head dims must be >= 1");
    if (lq > kMaxSeq || lk > kMaxSeq) throw py::value_error("seq_q and seq_k must be < 2**31");
    return {dt, batch, hq, lq, d, hkv, lk, dv};
}

// Each batch entry's key count: seq_k, or kv_lengths[b] in [0, seq_k].
std::vector<std::int64_t> key_lengths(const py::object& kv_lengths, std::int64_t batch, std::int64_t lk) {
    std::vector<std::int64_t> lengths(static_cast<std::size_t>(batch), lk);
    if (kv_lengths.is_none()) return lengths;
    const auto kl = kv_lengths.cast<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>();
    if (kl.ndim() != 1 || kl.shape(0) != batch) throw py::value_error("kv_lengths must have shape (batch,)");
    for (std::int64_t b = 0; b < batch; ++b) {
        const std::int64_t x = kl.data()[b];
        if (x < 0 || x > lk) throw py::value_error("kv_lengths must lie in [0, seq_k]");
        lengths[static_cast<std::size_t>(b)] = x;
    }
    return lengths;
}

void run(attention::Problem& p, const Offsets& off) {
    off.point(p);
    py::gil_scoped_release release;
    InterruptibleCall interruptible;
    attention::attention(p);
}

void padded(const py::array& q, const py::array& k, const py::array& v, py::array& out, const py::object& lse,
            const py::object& kv_lengths, bool causal, bool entropy, double log_base, double min_factor,
            double value) {
    const auto [dt, batch, hq, lq, d, hkv, lk, dv] = padded_shape(q, k, v);
    const auto qs = row_strides(q, "q"), ks = row_strides(k, "k"), vs = row_strides(v, "v");
    require_output(out, dt, {batch, hq, lq, dv}, "out");
    const bool want_lse = !lse.is_none();
    py::array lse_arr;
    if (want_lse) {
        lse_arr = lse.cast<py::array>();
        require_output(lse_arr, dt, {batch, hq, lq}, "lse");
    }
    Offsets off(batch);
    const std::vector<std::int64_t> lengths = key_lengths(kv_lengths, batch, lk);
    for (std::int64_t b = 0; b < batch; ++b) {
        off.q_off[b] = b * qs[0];
        off.k_off[b] = b * ks[0];
        off.v_off[b] = b * vs[0];
        off.o_off[b] = b * hq * lq * dv;
        off.lse_off[b] = b * hq * lq;
        off.q_len[b] = lq;
        off.k_len[b] = lengths[static_cast<std::size_t>(b)];
    }
    attention::Problem p{};
    p.dtype = dt;
    p.batch = batch, p.heads_q = hq, p.heads_kv = hkv, p.d = d, p.dv = dv;
    p.q = q.data(), p.k = k.data(), p.v = v.data(), p.out = out.mutable_data();
    p.lse = want_lse ? lse_arr.mutable_data() : nullptr;
    p.q_hs = qs[1], p.q_rs = qs[2], p.k_hs = ks[1], p.k_rs = ks[2], p.v_hs = vs[1], p.v_rs = vs[2];
    p.o_hs = lq * dv, p.o_rs = dv, p.lse_hs = lq, p.lse_rs = 1;
    p.causal = causal;
    p.scale = make_scale(entropy, log_base, min_factor, value);
    if (batch == 0 || hq == 0 || lq == 0) return;
    run(p, off);
}

std::vector<std::int64_t> offsets_of(const py::object& cu, std::int64_t total, const char* name) {
    const auto a = cu.cast<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>();
    if (a.ndim() != 1 || a.shape(0) < 1) throw py::value_error(std::string(name) + " must be 1-D with batch + 1 entries");
    std::vector<std::int64_t> c(a.data(), a.data() + a.shape(0));
    if (c.front() != 0) throw py::value_error(std::string(name) + " must start at 0");
    for (std::size_t i = 1; i < c.size(); ++i)
        if (c[i] < c[i - 1]) throw py::value_error(std::string(name) + " must be non-decreasing");
    if (c.back() != total) throw py::value_error(std::string(name) + " must end at the number of tokens");
    return c;
}

// q, k, v of the packed varlen layout (tokens, heads, head_dim): one dtype, matching shapes.
struct VarlenShape {
    Dtype dt;
    std::int64_t tq, hq, d, tk, hkv, dv;
};

VarlenShape varlen_shape(const py::array& q, const py::array& k, const py::array& v) {
    const Dtype dt = dtype_of(q, "q");
    require_same_dtype(k, dt, "k");
    require_same_dtype(v, dt, "v");
    if (q.ndim() != 3 || k.ndim() != 3 || v.ndim() != 3) throw py::value_error("q, k and v must be 3-D");
    const std::int64_t tq = q.shape(0), hq = q.shape(1), d = q.shape(2);
    const std::int64_t tk = k.shape(0), hkv = k.shape(1), dv = v.shape(2);
    if (v.shape(0) != tk || v.shape(1) != hkv || k.shape(2) != d) {
        throw py::value_error("k and v must have shapes (total_k, heads_kv, head_dim) and (..., head_dim_v)");
    }
    if (hkv < 1 || hq % hkv != 0) throw py::value_error("heads_q must be a multiple of heads_kv");
    if (d < 1 || dv < 1) throw py::value_error("head dims must be >= 1");
    return {dt, tq, hq, d, tk, hkv, dv};
}

struct VarlenOffsets {
    std::vector<std::int64_t> cq, ck;
    std::int64_t batch;
};

VarlenOffsets varlen_offsets(const py::object& cu_q, const py::object& cu_k, std::int64_t tq, std::int64_t tk) {
    auto cq = offsets_of(cu_q, tq, "cu_seqlens_q"), ck = offsets_of(cu_k, tk, "cu_seqlens_k");
    if (cq.size() != ck.size()) throw py::value_error("cu_seqlens_q and cu_seqlens_k must have the same length");
    const auto batch = static_cast<std::int64_t>(cq.size()) - 1;
    return {std::move(cq), std::move(ck), batch};
}

void varlen(const py::array& q, const py::array& k, const py::array& v, const py::object& cu_q,
            const py::object& cu_k, py::array& out, const py::object& lse, bool causal, bool entropy,
            double log_base, double min_factor, double value) {
    const auto [dt, tq, hq, d, tk, hkv, dv] = varlen_shape(q, k, v);
    const auto [cq, ck, batch] = varlen_offsets(cu_q, cu_k, tq, tk);
    const auto qs = row_strides(q, "q"), ks = row_strides(k, "k"), vs = row_strides(v, "v");
    require_output(out, dt, {tq, hq, dv}, "out");
    const bool want_lse = !lse.is_none();
    py::array lse_arr;
    if (want_lse) {
        lse_arr = lse.cast<py::array>();
        require_output(lse_arr, dt, {hq, tq}, "lse");
    }
    Offsets off(batch);
    for (std::int64_t b = 0; b < batch; ++b) {
        off.q_len[b] = cq[b + 1] - cq[b];
        off.k_len[b] = ck[b + 1] - ck[b];
        if (off.q_len[b] > kMaxSeq || off.k_len[b] > kMaxSeq) throw py::value_error("sequences must be < 2**31 tokens");
        off.q_off[b] = cq[b] * qs[0];
        off.k_off[b] = ck[b] * ks[0];
        off.v_off[b] = ck[b] * vs[0];
        off.o_off[b] = cq[b] * hq * dv;
        off.lse_off[b] = cq[b];
    }
    attention::Problem p{};
    p.dtype = dt;
    p.batch = batch, p.heads_q = hq, p.heads_kv = hkv, p.d = d, p.dv = dv;
    p.q = q.data(), p.k = k.data(), p.v = v.data(), p.out = out.mutable_data();
    p.lse = want_lse ? lse_arr.mutable_data() : nullptr;
    p.q_hs = qs[1], p.q_rs = qs[0], p.k_hs = ks[1], p.k_rs = ks[0], p.v_hs = vs[1], p.v_rs = vs[0];
    p.o_hs = dv, p.o_rs = hq * dv, p.lse_hs = tq, p.lse_rs = 1;
    p.causal = causal;
    p.scale = make_scale(entropy, log_base, min_factor, value);
    if (batch == 0 || hq == 0 || tq == 0) return;
    run(p, off);
}

// ---- backward: the forward's checks, plus out, dout, lse and the gradients.

void require_like(const py::array& a, Dtype dt, const std::vector<std::int64_t>& shape, const char* name) {
    if (dtype_of(a, name) != dt) throw py::type_error(std::string(name) + " must have q's dtype");
    if (shape_of(a) != shape) throw py::value_error(std::string(name) + " has the wrong shape");
}

void require_lse(const py::array& lse, Dtype dt, const std::vector<std::int64_t>& shape) {
    const Dtype want = dt == Dtype::float64 ? Dtype::float64 : Dtype::float32;
    if (dtype_of(lse, "lse") != want) throw py::type_error("lse must be float64 for float64 inputs, float32 otherwise");
    if (shape_of(lse) != shape) throw py::value_error("lse has the wrong shape");
}

void require_grad(const py::array& a, Dtype dt, const std::vector<std::int64_t>& shape, const char* name) {
    require_writeable(a, name);
    if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
    require_like(a, dt, shape, name);
}

struct BackwardOffsets {
    std::vector<std::int64_t> q_off, k_off, v_off, o_off, do_off, lse_off, dq_off, dk_off, dv_off, q_len, k_len;
    explicit BackwardOffsets(std::int64_t batch) {
        for (auto* v : {&q_off, &k_off, &v_off, &o_off, &do_off, &lse_off, &dq_off, &dk_off, &dv_off, &q_len, &k_len})
            v->resize(static_cast<std::size_t>(batch));
    }
    void point(attention::BackwardProblem& p) const {
        p.q_off = q_off.data(), p.k_off = k_off.data(), p.v_off = v_off.data(), p.o_off = o_off.data();
        p.do_off = do_off.data(), p.lse_off = lse_off.data(), p.dq_off = dq_off.data();
        p.dk_off = dk_off.data(), p.dv_off = dv_off.data(), p.q_len = q_len.data(), p.k_len = k_len.data();
    }
};

void run_backward(attention::BackwardProblem& p, const BackwardOffsets& off) {
    off.point(p);
    py::gil_scoped_release release;
    InterruptibleCall interruptible;
    attention::attention_backward(p);
}

// The data pointers of a backward call (strides and offsets are set by the caller).
void point_arrays(attention::BackwardProblem& p, const py::array& dout, const py::array& q, const py::array& k,
                  const py::array& v, const py::array& out, const py::array& lse, py::array& dq, py::array& dk,
                  py::array& dv) {
    p.q = q.data(), p.k = k.data(), p.v = v.data(), p.out = out.data(), p.dout = dout.data(), p.lse = lse.data();
    p.dq = dq.mutable_data(), p.dk = dk.mutable_data(), p.dv_ = dv.mutable_data();
}

void padded_backward(const py::array& dout, const py::array& q, const py::array& k, const py::array& v,
                     const py::array& out, const py::array& lse, py::array& dq, py::array& dk, py::array& dv,
                     const py::object& kv_lengths, bool causal, bool entropy, double log_base, double min_factor,
                     double value) {
    const auto [dt, batch, hq, lq, d, hkv, lk, dvd] = padded_shape(q, k, v);
    require_like(out, dt, {batch, hq, lq, dvd}, "out");
    require_like(dout, dt, {batch, hq, lq, dvd}, "dout");
    require_lse(lse, dt, {batch, hq, lq});
    require_grad(dq, dt, shape_of(q), "dq");
    require_grad(dk, dt, shape_of(k), "dk");
    require_grad(dv, dt, shape_of(v), "dv");
    const auto qs = row_strides(q, "q"), ks = row_strides(k, "k"), vs = row_strides(v, "v");
    const auto os = row_strides(out, "out"), gs = row_strides(dout, "dout"), ls = element_strides(lse, "lse");
    BackwardOffsets off(batch);
    const std::vector<std::int64_t> lengths = key_lengths(kv_lengths, batch, lk);
    for (std::int64_t b = 0; b < batch; ++b) {
        off.q_off[b] = b * qs[0], off.k_off[b] = b * ks[0], off.v_off[b] = b * vs[0];
        off.o_off[b] = b * os[0], off.do_off[b] = b * gs[0], off.lse_off[b] = b * ls[0];
        off.dq_off[b] = b * hq * lq * d, off.dk_off[b] = b * hkv * lk * d, off.dv_off[b] = b * hkv * lk * dvd;
        off.q_len[b] = lq;
        off.k_len[b] = lengths[static_cast<std::size_t>(b)];
    }
    attention::BackwardProblem p{};
    p.dtype = dt;
    p.batch = batch, p.heads_q = hq, p.heads_kv = hkv, p.d = d, p.dv = dvd;
    point_arrays(p, dout, q, k, v, out, lse, dq, dk, dv);
    p.q_hs = qs[1], p.q_rs = qs[2], p.k_hs = ks[1], p.k_rs = ks[2], p.v_hs = vs[1], p.v_rs = vs[2];
    p.o_hs = os[1], p.o_rs = os[2], p.do_hs = gs[1], p.do_rs = gs[2], p.lse_hs = ls[1], p.lse_rs = ls[2];
    p.dq_hs = lq * d, p.dq_rs = d, p.dk_hs = lk * d, p.dk_rs = d, p.dv_hs = lk * dvd, p.dv_rs = dvd;
    p.causal = causal;
    p.scale = make_scale(entropy, log_base, min_factor, value);
    if (batch == 0 || hq == 0) return;
    run_backward(p, off);
}

void varlen_backward(const py::array& dout, const py::array& q, const py::array& k, const py::array& v,
                     const py::array& out, const py::array& lse, const py::object& cu_q, const py::object& cu_k,
                     py::array& dq, py::array& dk, py::array& dv, bool causal, bool entropy, double log_base,
                     double min_factor, double value) {
    const auto [dt, tq, hq, d, tk, hkv, dvd] = varlen_shape(q, k, v);
    const auto [cq, ck, batch] = varlen_offsets(cu_q, cu_k, tq, tk);
    require_like(out, dt, {tq, hq, dvd}, "out");
    require_like(dout, dt, {tq, hq, dvd}, "dout");
    require_lse(lse, dt, {hq, tq});
    require_grad(dq, dt, shape_of(q), "dq");
    require_grad(dk, dt, shape_of(k), "dk");
    require_grad(dv, dt, shape_of(v), "dv");
    const auto qs = row_strides(q, "q"), ks = row_strides(k, "k"), vs = row_strides(v, "v");
    const auto os = row_strides(out, "out"), gs = row_strides(dout, "dout"), ls = element_strides(lse, "lse");
    BackwardOffsets off(batch);
    for (std::int64_t b = 0; b < batch; ++b) {
        off.q_len[b] = cq[b + 1] - cq[b];
        off.k_len[b] = ck[b + 1] - ck[b];
        if (off.q_len[b] > kMaxSeq || off.k_len[b] > kMaxSeq) throw py::value_error("sequences must be < 2**31 tokens");
        off.q_off[b] = cq[b] * qs[0], off.k_off[b] = ck[b] * ks[0], off.v_off[b] = ck[b] * vs[0];
        off.o_off[b] = cq[b] * os[0], off.do_off[b] = cq[b] * gs[0], off.lse_off[b] = cq[b] * ls[1];
        off.dq_off[b] = cq[b] * hq * d, off.dk_off[b] = ck[b] * hkv * d, off.dv_off[b] = ck[b] * hkv * dvd;
    }
    attention::BackwardProblem p{};
    p.dtype = dt;
    p.batch = batch, p.heads_q = hq, p.heads_kv = hkv, p.d = d, p.dv = dvd;
    point_arrays(p, dout, q, k, v, out, lse, dq, dk, dv);
    p.q_hs = qs[1], p.q_rs = qs[0], p.k_hs = ks[1], p.k_rs = ks[0], p.v_hs = vs[1], p.v_rs = vs[0];
    p.o_hs = os[1], p.o_rs = os[0], p.do_hs = gs[1], p.do_rs = gs[0], p.lse_hs = ls[0], p.lse_rs = ls[1];
    p.dq_hs = d, p.dq_rs = hq * d, p.dk_hs = d, p.dk_rs = hkv * d, p.dv_hs = dvd, p.dv_rs = hkv * dvd;
    p.causal = causal;
    p.scale = make_scale(entropy, log_base, min_factor, value);
    if (batch == 0 || hq == 0) return;
    run_backward(p, off);
}

}  // namespace

void register_attention(py::module_& m) {
    m.def("attention", &padded, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("out"), py::arg("lse"),
          py::arg("kv_lengths"), py::arg("causal"), py::arg("entropy"), py::arg("log_base"), py::arg("min_factor"),
          py::arg("value"), "Attention over (batch, heads, seq, head_dim) arrays into out (and lse).");
    m.def("attention_varlen", &varlen, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("cu_seqlens_q"),
          py::arg("cu_seqlens_k"), py::arg("out"), py::arg("lse"), py::arg("causal"), py::arg("entropy"),
          py::arg("log_base"), py::arg("min_factor"), py::arg("value"),
          "Attention over packed (tokens, heads, head_dim) arrays with cumulative sequence offsets.");
    m.def("attention_backward", &padded_backward, py::arg("dout"), py::arg("q"), py::arg("k"), py::arg("v"),
          py::arg("out"), py::arg("lse"), py::arg("dq"), py::arg("dk"), py::arg("dv"), py::arg("kv_lengths"),
          py::arg("causal"), py::arg("entropy"), py::arg("log_base"), py::arg("min_factor"), py::arg("value"),
          "Gradients of attention over (batch, heads, seq, head_dim) arrays into dq, dk, dv.");
    m.def("attention_varlen_backward", &varlen_backward, py::arg("dout"), py::arg("q"), py::arg("k"), py::arg("v"),
          py::arg("out"), py::arg("lse"), py::arg("cu_seqlens_q"), py::arg("cu_seqlens_k"), py::arg("dq"),
          py::arg("dk"), py::arg("dv"), py::arg("causal"), py::arg("entropy"), py::arg("log_base"),
          py::arg("min_factor"), py::arg("value"),
          "Gradients of attention over packed (tokens, heads, head_dim) arrays into dq, dk, dv.");
    m.def("attention_row_scale", [](bool entropy, double log_base, double min_factor, double value, std::int64_t n,
                                    std::int64_t d) {
        return attention::row_scale(make_scale(entropy, log_base, min_factor, value), n, d);
    }, py::arg("entropy"), py::arg("log_base"), py::arg("min_factor"), py::arg("value"), py::arg("n"), py::arg("d"),
          "The kernels' lambda for a row that sees n >= 1 keys.");
}

}  // namespace logsketch::bindings
