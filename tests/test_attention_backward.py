"""logsketch.attention_backward / attention_varlen_backward.

Parity against the float64 reference (logsketch.reference, P materialized),
with FlashAttention's tolerance rule: the kernel's largest error against the
float64 reference may be at most twice the largest error of the same
reference computed in the input precision, plus a floor of a few units of
the input precision times the gradient's largest magnitude and times
max(1, |lse|): P is recomputed as exp(s - lse) from the forward's lse, whose
rounding (a few ulp of |lse|) is a relative error of P itself (8 ulp for
float16 and float32: exp2's ~2 ulp and the rounded out and lse; 256 for
float64, where the second error is about zero and sums over thousands of
keys and rows remain).  Then against torch
autograd through a plain materialized implementation, and central finite
differences, in float64; the same bits for 1 and 2 threads; errors; NaN.
Sizes cross the kernel's blocks (64 keys, 64 rows) and the split of long key
ranges (>= 1024 keys with few (batch, kv head) pairs).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import logsketch
from logsketch import reference
from logsketch.reference.attention import attention_backward as ref_backward
from logsketch.reference.attention import attention_varlen_backward as ref_varlen_backward
from _subprocess import assert_ok, run_python
from logsketch_test_helpers import assert_bits_equal

FLOOR_ULPS = {np.dtype(np.float16): 8, np.dtype(np.float32): 8, np.dtype(np.float64): 256}


def rand(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def max_err(got, ref):
    got = np.asarray(got, np.float64)
    return float(np.abs(got - ref).max(initial=0))


def assert_within(name, got, ref, low, dtype, lse):
    assert got.dtype == dtype and got.shape == ref.shape, (name, got.dtype, got.shape, ref.shape)
    lse_mag = max(1.0, float(np.abs(lse[np.isfinite(lse)]).max(initial=0)))
    floor = FLOOR_ULPS[np.dtype(dtype)] * np.finfo(dtype).eps * lse_mag * max(1.0, float(np.abs(ref).max(initial=0)))
    bound = 2 * max_err(low, ref) + floor
    err = max_err(got, ref)
    assert err <= bound, f"{name} error {err:.3g} > {bound:.3g}"


def check(q, k, v, varlen=None, dout_scale=1.0, **kw):
    """Forward, backward, and the derived bound for dq, dk, dv."""
    dtype = np.result_type(q, k, v)
    rng = np.random.default_rng(7)
    if varlen is None:
        out, lse = logsketch.attention(q, k, v, return_lse=True, **kw)
        dout = rand(rng, out.shape, dtype, dout_scale)
        got = logsketch.attention_backward(dout, q, k, v, out, lse, **kw)
        ref = ref_backward(dout, q, k, v, **kw)
        low = ref_backward(dout, q, k, v, accumulate=dtype, **kw)
    else:
        out, lse = logsketch.attention_varlen(q, k, v, *varlen, return_lse=True, **kw)
        dout = rand(rng, out.shape, dtype, dout_scale)
        got = logsketch.attention_varlen_backward(dout, q, k, v, out, lse, *varlen, **kw)
        ref = ref_varlen_backward(dout, q, k, v, *varlen, **kw)
        low = ref_varlen_backward(dout, q, k, v, *varlen, accumulate=dtype, **kw)
    for name, g, r, lo in zip(("dq", "dk", "dv"), got, ref, low):
        assert_within(name, g, r, lo, dtype, lse)
    return got


# (batch, heads_q, heads_kv, seq_q, seq_k, d, d_v)
SHAPES = [
    (2, 2, 2, 97, 97, 64, 64),     # several row and key blocks
    (1, 4, 2, 7, 130, 16, 16),     # GQA, seq_q < seq_k
    (1, 4, 1, 130, 7, 80, 80),     # MQA, seq_q > seq_k: causal rows that see nothing
    (1, 2, 1, 1, 1100, 32, 32),    # one row, long keys: split, dq merged
    (1, 1, 1, 97, 1, 1, 1),        # head dim 1, one key
    (1, 2, 1, 33, 40, 64, 7),      # d != d_v
    (3, 2, 2, 1, 1, 16, 16),       # one row, one key
]


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_parity_float32(simd_level, shape, causal):
    b, hq, hkv, lq, lk, d, dv = shape
    rng = np.random.default_rng(sum(shape))
    q, k = rand(rng, (b, hq, lq, d), np.float32, 2.0), rand(rng, (b, hkv, lk, d), np.float32, 2.0)
    check(q, k, rand(rng, (b, hkv, lk, dv), np.float32), causal=causal)


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
@pytest.mark.parametrize("shape", [SHAPES[0], SHAPES[1], SHAPES[2], (1, 2, 2, 130, 130, 16, 80)],
                         ids=lambda s: str(s))
def test_parity_float16_float64(simd_level, shape, dtype):
    b, hq, hkv, lq, lk, d, dv = shape
    rng = np.random.default_rng(sum(shape) + 1)
    q, k = rand(rng, (b, hq, lq, d), dtype), rand(rng, (b, hkv, lk, d), dtype)
    check(q, k, rand(rng, (b, hkv, lk, dv), dtype), causal=True)


@pytest.mark.parametrize("kw", [{"scale": "standard"}, {"scale": 0.3}, {"scale": 0.0},
                                {"base": 16, "min_scale": 1.0}, {"min_scale": 0.5, "causal": True},
                                {"scale": -0.2, "causal": True}], ids=str)
def test_scales(kw):
    rng = np.random.default_rng(3)
    q, k, v = rand(rng, (1, 2, 70, 24), np.float64), rand(rng, (1, 2, 90, 24), np.float64), \
        rand(rng, (1, 2, 90, 24), np.float64)
    check(q, k, v, **kw)


@pytest.mark.parametrize("causal", [False, True])
def test_kv_lengths(causal):
    rng = np.random.default_rng(4)
    q, k, v = rand(rng, (4, 4, 20, 16), np.float32), rand(rng, (4, 2, 150, 16), np.float32), \
        rand(rng, (4, 2, 150, 8), np.float32)
    kv = np.array([150, 0, 1, 77])
    dq, dk, dv = check(q, k, v, kv_lengths=kv, causal=causal)
    assert not dq[1].any() and not dk[1].any() and not dv[1].any()
    assert not dk[3, :, 77:].any() and not dv[3, :, 77:].any()


@pytest.mark.parametrize("causal", [False, True])
def test_varlen(simd_level, causal):
    rng = np.random.default_rng(5)
    lq, lk = [3, 0, 97, 1, 5, 0], [5, 4, 130, 1, 0, 0]  # empty query, key and both sequences
    cu_q, cu_k = np.cumsum([0] + lq), np.cumsum([0] + lk).astype(np.int32)
    q, k = rand(rng, (sum(lq), 4, 16), np.float32), rand(rng, (sum(lk), 2, 16), np.float32)
    v = rand(rng, (sum(lk), 2, 24), np.float32)
    dq, dk, dv = check(q, k, v, varlen=(cu_q, cu_k), causal=causal)
    assert not dk[cu_k[1]:cu_k[2]].any() and not dv[cu_k[1]:cu_k[2]].any()  # keys no query sees
    assert not dq[cu_q[4]:cu_q[5]].any()  # queries without keys


def test_empty_shapes():
    for qs, ks in [((1, 2, 0, 8), (1, 2, 5, 8)), ((1, 2, 4, 8), (1, 2, 0, 8)), ((0, 2, 4, 8), (0, 2, 5, 8)),
                   ((1, 0, 4, 8), (1, 1, 5, 8))]:
        q, k = np.ones(qs, np.float32), np.ones(ks, np.float32)
        out, lse = logsketch.attention(q, k, k, return_lse=True)
        dq, dk, dv = logsketch.attention_backward(np.ones_like(out), q, k, k, out, lse)
        assert dq.shape == qs and dk.shape == ks and dv.shape == ks
        assert not dq.any() and not dk.any() and not dv.any()


def test_layouts_and_dout_dtype():
    """(batch, seq, heads, d) views are read in place; a dout of another float dtype is converted."""
    rng = np.random.default_rng(6)
    q, k, v = (rand(rng, (2, 50, 4, 16), np.float64).transpose(0, 2, 1, 3) for _ in range(3))
    out, lse = logsketch.attention(q, k, v, causal=True, return_lse=True)
    dout = rand(rng, (2, 50, 4, 16), np.float64).transpose(0, 2, 1, 3)
    got = logsketch.attention_backward(dout, q, k, v, out.transpose(0, 2, 1, 3).copy().transpose(0, 2, 1, 3),
                                       lse, causal=True)
    plain = logsketch.attention_backward(np.ascontiguousarray(dout), *(np.ascontiguousarray(x) for x in (q, k, v)),
                                         out, lse, causal=True)
    for g, p in zip(got, plain):
        assert_bits_equal(g, p)
    q32, k32, v32 = (np.ascontiguousarray(x, np.float32) for x in (q, k, v))
    out32, lse32 = logsketch.attention(q32, k32, v32, return_lse=True)
    a = logsketch.attention_backward(np.asarray(dout, np.float64), q32, k32, v32, out32, lse32)
    b = logsketch.attention_backward(np.asarray(dout, np.float32), q32, k32, v32, out32, lse32)
    for x, y in zip(a, b):
        assert x.dtype == np.float32
        assert_bits_equal(x, y)


# --------------------------------------------------------------------------- against autograd


def _torch_attention(torch, q, k, v, causal, lam):
    """A plain materialized implementation: lambda_i (a column) a constant of the graph."""
    lq, lk = q.shape[-2], k.shape[-2]
    group = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    s = (q * lam) @ k.transpose(-1, -2)
    if causal:
        i = torch.arange(lq)[:, None]
        s = s.masked_fill(torch.arange(lk)[None, :] > i + lk - lq, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def _torch_grads(torch, q, k, v, dout, causal, lam, dtype):
    """dq, dk, dv of the plain implementation by autograd, every step in ``dtype``."""
    tq, tk, tv = (torch.from_numpy(np.asarray(x, dtype)).requires_grad_() for x in (q, k, v))
    out = _torch_attention(torch, tq, tk, tv, causal, torch.from_numpy(lam.astype(dtype)))
    out.backward(torch.from_numpy(np.asarray(dout, dtype)))
    return [t.grad.numpy().astype(np.float64) for t in (tq, tk, tv)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("shape", [(2, 4, 2, 97, 97, 16, 24), (1, 2, 1, 7, 130, 64, 64), (1, 1, 1, 1, 1, 1, 1)],
                         ids=str)
def test_against_torch_autograd(shape, causal, dtype):
    """Against autograd of a plain torch implementation: float64 to 1e-11; float32 and
    float16 within the derived bound, autograd in float64 the truth and autograd
    in the input dtype the low-precision yardstick."""
    torch = pytest.importorskip("torch")
    b, hq, hkv, lq, lk, d, dv = shape
    rng = np.random.default_rng(8)
    q, k, v = rand(rng, (b, hq, lq, d), dtype), rand(rng, (b, hkv, lk, d), dtype), rand(rng, (b, hkv, lk, dv), dtype)
    dout = rand(rng, (b, hq, lq, dv), dtype)
    n = np.clip(np.arange(lq) + 1 + lk - lq, 1, lk) if causal else np.full(lq, lk)
    lam = logsketch.entropy_scale(n, d)[:, None]
    truth = _torch_grads(torch, q, k, v, dout, causal, lam, np.float64)
    o, lse = logsketch.attention(q, k, v, causal=causal, return_lse=True)
    got = logsketch.attention_backward(dout, q, k, v, o, lse, causal=causal)
    if dtype == np.float64:
        for g, t in zip(got, truth):
            np.testing.assert_allclose(g, t, rtol=1e-11, atol=1e-12)
        return
    low = _torch_grads(torch, q, k, v, dout, causal, lam, dtype)
    for name, g, t, lo in zip(("dq", "dk", "dv"), got, truth, low):
        assert_within(name, g, t, lo, dtype, lse)


def test_finite_differences():
    """<grad, direction> against central differences of L = sum(dout * out)."""
    rng = np.random.default_rng(9)
    q, k, v = rand(rng, (1, 2, 9, 5), np.float64), rand(rng, (1, 1, 11, 5), np.float64), \
        rand(rng, (1, 1, 11, 3), np.float64)
    dout = rand(rng, (1, 2, 9, 3), np.float64)
    kw = dict(causal=True, base=4, min_scale=0.2)
    out, lse = logsketch.attention(q, k, v, return_lse=True, **kw)
    grads = logsketch.attention_backward(dout, q, k, v, out, lse, **kw)
    h = 1e-6
    for which, g in enumerate(grads):
        direction = rand(rng, g.shape, np.float64)
        args = [q, k, v]
        plus, minus = list(args), list(args)
        plus[which] = args[which] + h * direction
        minus[which] = args[which] - h * direction
        loss_plus = np.sum(dout * logsketch.attention(*plus, **kw))
        fd = (loss_plus - np.sum(dout * logsketch.attention(*minus, **kw))) / (2 * h)
        assert abs(fd - np.sum(g * direction)) <= 1e-7 * max(1.0, abs(fd))


# --------------------------------------------------------------------------- threads, SIMD, properties


@pytest.mark.parametrize("shape", [(2, 4, 2, 130, 97, 16, 16), (1, 2, 2, 3, 2100, 32, 32)], ids=str)
def test_same_bits_for_any_thread_count(restore_threads, shape):
    b, hq, hkv, lq, lk, d, dv = shape
    rng = np.random.default_rng(10)
    q, k, v = rand(rng, (b, hq, lq, d), np.float32), rand(rng, (b, hkv, lk, d), np.float32), \
        rand(rng, (b, hkv, lk, dv), np.float32)
    out, lse = logsketch.attention(q, k, v, causal=True, return_lse=True)
    dout = rand(rng, out.shape, np.float32)
    results = []
    for threads in (1, 2, 3):
        logsketch.set_num_threads(threads)
        results.append(logsketch.attention_backward(dout, q, k, v, out, lse, causal=True))
    for other in results[1:]:
        for a, b_ in zip(results[0], other):
            assert_bits_equal(a, b_)


@settings(max_examples=25, deadline=None)
@given(lq=st.integers(0, 70), lk=st.integers(0, 140), d=st.integers(1, 20), dv=st.integers(1, 20),
       group=st.integers(1, 3), causal=st.booleans())
def test_property_small_shapes(lq, lk, d, dv, group, causal):
    rng = np.random.default_rng(lq * 1000 + lk)
    q, k, v = rand(rng, (1, group, lq, d), np.float64), rand(rng, (1, 1, lk, d), np.float64), \
        rand(rng, (1, 1, lk, dv), np.float64)
    check(q, k, v, causal=causal)


# --------------------------------------------------------------------------- NaN


def test_nan_in_q_reaches_its_row_and_the_keys_it_sees():
    rng = np.random.default_rng(11)
    q, k, v = rand(rng, (1, 1, 20, 8), np.float32), rand(rng, (1, 1, 30, 8), np.float32), \
        rand(rng, (1, 1, 30, 8), np.float32)
    q[0, 0, 5, 2] = np.nan
    out, lse = logsketch.attention(q, k, v, return_lse=True)
    dq, dk, dv = logsketch.attention_backward(np.ones_like(out), q, k, v, out, lse)
    assert np.isnan(dq[0, 0, 5]).all() and np.isfinite(np.delete(dq[0, 0], 5, axis=0)).all()
    assert np.isnan(dk).all() and np.isnan(dv).all()


def test_nan_in_v_reaches_the_rows_that_see_it():
    """Causal: only the last row sees the last key; its NaN reaches that row's dq and
    (through it) every dk, while dv and the other rows' dq stay finite."""
    rng = np.random.default_rng(12)
    q, k, v = rand(rng, (1, 1, 40, 8), np.float64), rand(rng, (1, 1, 40, 8), np.float64), \
        rand(rng, (1, 1, 40, 8), np.float64)
    v[0, 0, 39, 0] = np.nan
    _, lse = logsketch.attention(q, k, v, causal=True, return_lse=True)
    # out as the definition gives it, NaN in row 39 only (a matrix product with
    # the masked P, as the kernels and numpy compute it, may also carry the NaN
    # into other rows through 0 x NaN).
    out = reference.attention(q, k, np.nan_to_num(v), causal=True)
    out[0, 0, 39] = np.nan
    dq, dk, dv = logsketch.attention_backward(np.ones_like(out), q, k, v, out, lse, causal=True)
    assert np.isnan(dq[0, 0, 39]).all() and np.isfinite(dq[0, 0, :39]).all()
    assert np.isfinite(dv).all() and np.isnan(dk).all()


# --------------------------------------------------------------------------- errors


def _forward(dtype=np.float32, shape=(1, 2, 5, 4)):
    q = np.ones(shape, dtype)
    out, lse = logsketch.attention(q, q, q, return_lse=True)
    return q, out, lse


@pytest.mark.parametrize("change, error, match", [
    (lambda a: a.update(dout=a["dout"][:, :, :4]), ValueError, "dout must have shape"),
    (lambda a: a.update(out=a["out"][..., :3]), ValueError, "out must have shape"),
    (lambda a: a.update(lse=a["lse"][0]), ValueError, "lse must have shape"),
    (lambda a: a.update(out=a["out"].astype(np.float64)), TypeError, "out must have the dtype"),
    (lambda a: a.update(lse=a["lse"].astype(np.float64)), TypeError, "lse must be float32"),
    (lambda a: a.update(dout=a["dout"].astype(np.int32)), TypeError, "dout must have a float dtype"),
    (lambda a: a.update(out=[[1, 2], [3]]), TypeError, "out must be"),
    (lambda a: a.update(q=a["q"][:, :, :, :3]), ValueError, "k must have q's head_dim"),
    (lambda a: a.update(kv_lengths=[6]), ValueError, "kv_lengths must lie in"),
    (lambda a: a.update(kv_lengths=[1.5]), TypeError, "kv_lengths must be an integer array"),
    (lambda a: a.update(scale="log"), ValueError, "scale must be"),
    (lambda a: a.update(base=1), ValueError, "base must be"),
    (lambda a: a.update(causal="yes"), TypeError, "causal"),
], ids=["dout-shape", "out-shape", "lse-shape", "out-dtype", "lse-dtype", "dout-int", "out-ragged", "q-dim",
        "kv-range", "kv-float", "scale", "base", "causal"])
def test_errors(change, error, match):
    q, out, lse = _forward()
    args = dict(dout=np.ones_like(out), q=q, k=q, v=q, out=out, lse=lse)
    change(args)
    kw = {n: args.pop(n) for n in ("kv_lengths", "scale", "base", "causal") if n in args}
    with pytest.raises(error, match=match):
        logsketch.attention_backward(args["dout"], args["q"], args["k"], args["v"], args["out"], args["lse"], **kw)


def test_varlen_errors():
    q = np.ones((5, 2, 4), np.float32)
    cu = np.array([0, 2, 5])
    out, lse = logsketch.attention_varlen(q, q, q, cu, cu, return_lse=True)
    with pytest.raises(ValueError, match="lse must have shape"):
        logsketch.attention_varlen_backward(out, q, q, q, out, lse.T, cu, cu)
    with pytest.raises(ValueError, match="cu_seqlens_k must end"):
        logsketch.attention_varlen_backward(out, q, q, q, out, lse, cu, np.array([0, 2, 4]))
    with pytest.raises(TypeError, match="cu_seqlens_q must be an int32 or int64"):
        logsketch.attention_varlen_backward(out, q, q, q, out, lse, cu.astype(float), cu)


class _FakeCuda:
    """An object that claims to live on a CUDA device."""

    shape = (1, 2, 5, 4)
    __cuda_array_interface__ = {}


def test_cuda_inputs_are_refused():
    q, out, lse = _forward()
    with pytest.raises(NotImplementedError, match="CPU only"):
        logsketch.attention_backward(out, _FakeCuda(), q, q, out, lse)
    with pytest.raises(NotImplementedError, match="CPU only"):
        logsketch.attention_varlen_backward(out[0], q[0], q[0], q[0], _FakeCuda(), lse[0], [0, 2], [0, 2])


def test_reference_backward_matches_its_forward():
    """The reference's gradient agrees with a finite difference of reference.attention."""
    rng = np.random.default_rng(13)
    q, k, v = rand(rng, (1, 2, 6, 3), np.float64), rand(rng, (1, 1, 8, 3), np.float64), \
        rand(rng, (1, 1, 8, 2), np.float64)
    dout = rand(rng, (1, 2, 6, 2), np.float64)
    dq, _, _ = ref_backward(dout, q, k, v, causal=True)
    h, e = 1e-6, np.zeros_like(q)
    e[0, 1, 4, 2] = 1
    fd = (np.sum(dout * reference.attention(q + h * e, k, v, causal=True))
          - np.sum(dout * reference.attention(q - h * e, k, v, causal=True))) / (2 * h)
    assert abs(fd - dq[0, 1, 4, 2]) < 1e-8


@pytest.mark.slow
def test_ctrl_c_interrupts_a_long_backward():
    """SIGINT 0.5 s into a long call raises KeyboardInterrupt within 1 s (the kernel checks between key blocks)."""
    code = """
    import signal, threading, time, numpy as np, logsketch
    q = np.ones((1, 8, 16384, 128), np.float32)
    lse = np.zeros((1, 8, 16384), np.float32)
    sent = []
    def fire():
        sent.append(time.perf_counter())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
    threading.Timer(0.5, fire).start()
    try:
        logsketch.attention_backward(q, q, q, q, q, lse)
    except KeyboardInterrupt:
        print(f"INTERRUPTED latency={time.perf_counter() - sent[0]:.3f}")
    else:
        print("FINISHED without KeyboardInterrupt")
    """
    result = run_python(code, timeout=60)
    assert_ok(result, "attention_backward")
    assert "INTERRUPTED" in result.stdout, result.stdout
    assert float(result.stdout.split("latency=")[1].split()[0]) < 1.0, result.stdout
