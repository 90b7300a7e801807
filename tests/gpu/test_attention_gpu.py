"""GPU attention (logsketch.attention._cuda) against a float64 reference.

Tolerances follow FlashAttention's rule: the kernel's largest error against
the float64 reference may be at most twice the error of the same reference
computed in the input precision (scores, probabilities and outputs rounded
to float16/bfloat16; gpu_test_helpers.attn_reference_f64 with `rounding`),
plus half an ulp of the output's magnitude.  lse is float32 all the way
through and is compared within 1e-4.  Every test runs with torch and with
CuPy where installed (the ``xp`` fixture); bfloat16 needs torch.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from logsketch.attention import _cuda as _attention_gpu
from logsketch._native import cuda_module

from .gpu_test_helpers import attn_reference_f64, attn_varlen_reference_f64, bf16_to_f32, f32_to_bf16, round_to

DTYPES = ("float16", "bfloat16")
HALF_ULP_AT_1 = {"float16": 2.0**-11, "bfloat16": 2.0**-8}
ODD = (1, 7, 97, 1025)


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _skip_bf16(xp, dtype):
    if dtype == "bfloat16" and not xp.has_bfloat16:
        pytest.skip(f"{xp.name} has no bfloat16")


def _tensor(xp, dtype, shape, rng, scale=1.0):
    """(device array of dtype, its exact values as float64 numpy)."""
    x = (rng.standard_normal(shape) * scale).astype(np.float32)
    if dtype == "float16":
        h = x.astype(np.float16)
        return xp.asarray(h), h.astype(np.float64)
    bits = f32_to_bf16(x)
    return xp.asarray(bits), bf16_to_f32(bits).astype(np.float64)


def _values(xp, t, dtype):
    host = xp.numpy(t)
    return (bf16_to_f32(host) if dtype == "bfloat16" else host).astype(np.float64)


def _qkv(xp, dtype, q_shape, kv_shape, key):
    rng = _rng(*key)
    q, qv = _tensor(xp, dtype, q_shape, rng)
    k, kv = _tensor(xp, dtype, kv_shape, rng)
    v, vv = _tensor(xp, dtype, kv_shape, rng)
    return (q, k, v), (qv, kv, vv)


def _kw(causal=False, scale="entropy", base=512.0, min_scale=None):
    return dict(causal=causal, scale=scale, base=base, min_scale=min_scale)


def _assert_close(got, lse, vals, dtype, *, kv_lengths=None, varlen=None, what="", **kw):
    if varlen is None:
        ref, ref_lse = attn_reference_f64(*vals, kv_lengths=kv_lengths, **kw)
        low, _ = attn_reference_f64(*vals, kv_lengths=kv_lengths, rounding=round_to(dtype), **kw)
    else:
        ref, ref_lse = attn_varlen_reference_f64(*vals, *varlen, **kw)
        low, _ = attn_varlen_reference_f64(*vals, *varlen, rounding=round_to(dtype), **kw)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert np.isfinite(got).all(), what
    err = np.abs(got - ref).max(initial=0.0)
    bound = 2 * np.abs(low - ref).max(initial=0.0) + HALF_ULP_AT_1[dtype] * max(1.0, np.abs(ref).max(initial=0.0))
    assert err <= bound, f"{what}: max error {err:.3g} > bound {bound:.3g}"
    if lse is not None:
        assert lse.shape == ref_lse.shape, (lse.shape, ref_lse.shape)
        np.testing.assert_array_equal(np.isneginf(lse), np.isneginf(ref_lse), err_msg=what)
        fin = np.isfinite(ref_lse)
        np.testing.assert_allclose(lse[fin], ref_lse[fin], rtol=1e-4, atol=1e-4, err_msg=what)


def _run(xp, dtype, args, vals, *, kv_lengths=None, kv_host=None, num_splits=None, what="", **kw):
    out, lse = _attention_gpu.attention(
        *args, kv_lengths=kv_lengths, return_lse=True, num_splits=num_splits, **_kw(**kw)
    )
    assert xp.dtype_name(out) == dtype and xp.dtype_name(lse) == "float32"
    _assert_close(_values(xp, out, dtype), xp.numpy(lse), vals, dtype, kv_lengths=kv_host, what=what, **_kw(**kw))
    return out, lse


# ---- parity -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", _attention_gpu.SUPPORTED_HEAD_DIMS)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("seq_q,seq_k", [(n, n) for n in ODD] + [(7, 97), (97, 7), (1, 1025), (130, 65), (64, 128)])
def test_parity(xp, dtype, d, causal, seq_q, seq_k):
    _skip_bf16(xp, dtype)
    args, vals = _qkv(xp, dtype, (2, 2, seq_q, d), (2, 2, seq_k, d), ("parity", dtype, d, causal, seq_q, seq_k))
    _run(xp, dtype, args, vals, causal=causal, what=f"{dtype} d={d} causal={causal} {seq_q}x{seq_k}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("heads_q,heads_kv", [(8, 2), (6, 1), (4, 4)])
@pytest.mark.parametrize("causal", [False, True])
def test_gqa_and_mqa(xp, dtype, heads_q, heads_kv, causal):
    _skip_bf16(xp, dtype)
    args, vals = _qkv(xp, dtype, (2, heads_q, 97, 64), (2, heads_kv, 130, 64), ("gqa", dtype, heads_q, heads_kv))
    _run(xp, dtype, args, vals, causal=causal, what=f"heads {heads_q}/{heads_kv}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "scale,base,min_scale",
    [("entropy", 512.0, None), ("entropy", 512.0, 1.0), ("entropy", 2.0, None), ("entropy", 10.0, 0.5),
     ("standard", 512.0, None), (0.05, 512.0, None), (-0.1, 512.0, None), (0.0, 512.0, None)],
)  # fmt: skip
@pytest.mark.parametrize("causal", [False, True])
def test_scale_modes(xp, dtype, scale, base, min_scale, causal):
    _skip_bf16(xp, dtype)
    args, vals = _qkv(xp, dtype, (1, 2, 97, 128), (1, 2, 200, 128), ("scale", dtype, str(scale), base))
    _run(xp, dtype, args, vals, causal=causal, scale=scale, base=base, min_scale=min_scale, what=f"scale={scale}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("int_dtype", ["int32", "int64"])
def test_kv_lengths(xp, dtype, causal, int_dtype):
    _skip_bf16(xp, dtype)
    lengths = np.array([0, 1, 97, 200, 64, 150], dtype=int_dtype)
    args, vals = _qkv(xp, dtype, (6, 2, 33, 64), (6, 2, 200, 64), ("kvl", dtype, causal))
    _run(xp, dtype, args, vals, causal=causal, kv_lengths=xp.asarray(lengths), kv_host=lengths, what="kv_lengths")


def test_kv_lengths_out_of_range_are_clamped(xp):
    args, vals = _qkv(xp, "float16", (3, 1, 5, 64), (3, 1, 70, 64), ("clamp",))
    given = np.array([-5, 70, 10**6], np.int64)
    _run(xp, "float16", args, vals, kv_lengths=xp.asarray(given), kv_host=np.clip(given, 0, 70), what="clamped")


# ---- decode and split-KV ---------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", _attention_gpu.SUPPORTED_HEAD_DIMS)
@pytest.mark.parametrize("seq_q,seq_k", [(1, 8192), (1, 1025), (4, 5000)])
@pytest.mark.parametrize("causal", [False, True])
def test_decode_splits_keys(xp, dtype, d, seq_q, seq_k, causal):
    _skip_bf16(xp, dtype)
    device = xp.device.index if xp.name == "torch" else xp.mod.cuda.Device().id
    assert cuda_module().attention_num_splits(1, 4, seq_q, seq_k, device) > 1  # the split-KV path runs
    args, vals = _qkv(xp, dtype, (1, 4, seq_q, d), (1, 2, seq_k, d), ("decode", dtype, d, seq_q, seq_k))
    _run(xp, dtype, args, vals, causal=causal, what=f"decode {seq_q}x{seq_k}")


@pytest.mark.parametrize("num_splits", [1, 2, 3, 7, 64])
def test_forced_splits_agree(xp, num_splits):
    args, vals = _qkv(xp, "float16", (2, 2, 70, 64), (2, 2, 1025, 64), ("forced",))
    lengths = np.array([1025, 300], np.int32)
    for causal in (False, True):
        _run(xp, "float16", args, vals, causal=causal, kv_lengths=xp.asarray(lengths), kv_host=lengths,
             num_splits=num_splits, what=f"num_splits={num_splits}")  # fmt: skip


def test_split_with_empty_rows(xp):
    # causal with seq_q > seq_k: the first rows see no key in any split.
    args, vals = _qkv(xp, "float16", (1, 2, 9, 64), (1, 2, 700, 64), ("empty-split",))
    lengths = np.array([3], np.int32)
    _, lse = _run(xp, "float16", args, vals, causal=True, kv_lengths=xp.asarray(lengths), kv_host=lengths,
                  num_splits=5, what="empty rows in splits")  # fmt: skip
    assert np.isneginf(xp.numpy(lse)[0, :, :6]).all()


# ---- varlen -------------------------------------------------------------------


def _varlen(xp, dtype, lens_q, lens_k, heads_q, heads_kv, d, key):
    cu_q = np.concatenate([[0], np.cumsum(lens_q)]).astype(np.int32)
    cu_k = np.concatenate([[0], np.cumsum(lens_k)]).astype(np.int32)
    args, vals = _qkv(xp, dtype, (int(cu_q[-1]), heads_q, d), (int(cu_k[-1]), heads_kv, d), key)
    return args, vals, cu_q, cu_k


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(
    "lens_q,lens_k", [([1, 7, 97, 1025], [1025, 7, 97, 1]), ([0, 5, 64], [3, 0, 200]), ([1, 1, 1], [500, 3000, 1])]
)
@pytest.mark.parametrize("num_splits", [None, 1, 4])
def test_varlen(xp, dtype, causal, lens_q, lens_k, num_splits):
    _skip_bf16(xp, dtype)
    args, vals, cu_q, cu_k = _varlen(xp, dtype, lens_q, lens_k, 4, 2, 64, ("varlen", dtype, str(lens_q)))
    out, lse = _attention_gpu.attention_varlen(
        *args, xp.asarray(cu_q), xp.asarray(cu_k), return_lse=True, num_splits=num_splits, **_kw(causal=causal)
    )
    assert tuple(out.shape) == tuple(args[0].shape) and tuple(lse.shape) == (4, int(cu_q[-1]))
    _assert_close(_values(xp, out, dtype), xp.numpy(lse), vals, dtype, varlen=(cu_q, cu_k), what="varlen",
                  **_kw(causal=causal))  # fmt: skip


def test_varlen_cu_seqlens_forms(xp):
    args, vals, cu_q, cu_k = _varlen(xp, "float16", [3, 70], [80, 5], 2, 1, 128, ("forms",))
    for form in (lambda c: c, lambda c: c.tolist(), lambda c: xp.asarray(c), lambda c: xp.asarray(c.astype(np.int64))):
        out = _attention_gpu.attention_varlen(*args, form(cu_q), form(cu_k), return_lse=False, **_kw())
        _assert_close(_values(xp, out, "float16"), None, vals, "float16", varlen=(cu_q, cu_k), what="forms", **_kw())


# ---- layouts ------------------------------------------------------------------


def _swap12(xp, t):
    return t.transpose(1, 2) if xp.name == "torch" else xp.mod.swapaxes(t, 1, 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_transposed_layout(xp, dtype):
    """(batch, seq, heads, d) tensors passed as .transpose(1, 2), as flash-attn users hold them."""
    _skip_bf16(xp, dtype)
    rng = _rng("bshd", dtype)
    q, qv = _tensor(xp, dtype, (2, 97, 4, 64), rng)
    k, kv = _tensor(xp, dtype, (2, 130, 2, 64), rng)
    v, vv = _tensor(xp, dtype, (2, 130, 2, 64), rng)
    args = tuple(_swap12(xp, t) for t in (q, k, v))
    vals = tuple(x.transpose(0, 2, 1, 3) for x in (qv, kv, vv))
    for causal in (False, True):
        _run(xp, dtype, args, vals, causal=causal, what="transposed")


def test_layouts_that_are_copied(xp):
    rng = _rng("copied")
    wide, wide_v = _tensor(xp, "float16", (1, 2, 50, 256), rng)
    q = wide[..., ::2]  # strided last dimension
    qv = wide_v[..., ::2]
    k, kv = _tensor(xp, "float16", (1, 2, 60, 128), rng)
    flat, flat_v = _tensor(xp, "float16", (1 + 2 * 60 * 128,), rng)
    v = flat[1:].reshape(1, 2, 60, 128)  # data pointer 2 bytes past an allocation: not 16-byte aligned
    vv = flat_v[1:].reshape(1, 2, 60, 128)
    _run(xp, "float16", (q, k, v), (qv, kv, vv), what="copied layouts")


def test_outputs_on_the_current_stream(torch_fw):
    torch = torch_fw.mod
    args, vals = _qkv(torch_fw, "bfloat16", (1, 2, 300, 128), (1, 2, 300, 128), ("stream",))
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        out, lse = _attention_gpu.attention(*args, kv_lengths=None, return_lse=True, **_kw(causal=True))
    side.synchronize()
    _assert_close(_values(torch_fw, out, "bfloat16"), torch_fw.numpy(lse), vals, "bfloat16", what="stream",
                  **_kw(causal=True))  # fmt: skip


# ---- shapes at the edges ------------------------------------------------------------


def test_empty_shapes(xp):
    for q_shape, kv_shape in [((0, 2, 5, 64), (0, 2, 5, 64)), ((1, 2, 0, 64), (1, 2, 5, 64))]:
        args, _ = _qkv(xp, "float16", q_shape, kv_shape, ("empty",))
        out, lse = _attention_gpu.attention(*args, kv_lengths=None, return_lse=True, **_kw())
        assert tuple(out.shape) == q_shape and tuple(lse.shape) == q_shape[:3]


def test_no_keys_gives_zeros_and_minus_inf(xp):
    args, _ = _qkv(xp, "float16", (1, 2, 5, 64), (1, 2, 0, 64), ("nokeys",))
    out, lse = _attention_gpu.attention(*args, kv_lengths=None, return_lse=True, **_kw())
    assert (xp.numpy(out) == 0).all() and np.isneginf(xp.numpy(lse)).all()


def test_return_lse_false_gives_out_only(xp):
    args, vals = _qkv(xp, "float16", (1, 1, 7, 64), (1, 1, 7, 64), ("nolse",))
    out = _attention_gpu.attention(*args, kv_lengths=None, return_lse=False, **_kw())
    _assert_close(_values(xp, out, "float16"), None, vals, "float16", what="no lse", **_kw())


# ---- errors -------------------------------------------------------------------


def _call(args, **over):
    kw = dict(kv_lengths=None, return_lse=False, **_kw())
    kw.update(over)
    return _attention_gpu.attention(*args, **kw)


def test_errors(xp):
    args, _ = _qkv(xp, "float16", (1, 2, 5, 64), (1, 2, 6, 64), ("errors",))
    q, k, v = args
    f32 = xp.asarray(np.ones((1, 2, 5, 64), np.float32))
    with pytest.raises(TypeError, match="q must have dtype float16 or bfloat16"):
        _call((f32, k, v))
    f32k = xp.asarray(np.ones((1, 2, 6, 64), np.float32))
    with pytest.raises(TypeError, match="k must have dtype"):
        _call((q, f32k, v))
    with pytest.raises(ValueError, match="k is on the CPU"):
        _call((q, np.ones((1, 2, 6, 64), np.float16), v))
    d80 = _qkv(xp, "float16", (1, 2, 5, 80), (1, 2, 6, 80), ("d80",))[0]
    with pytest.raises(ValueError, match="head dim d must be one of 32, 64, 96, 128"):
        _call(d80)
    v128 = xp.asarray(np.ones((1, 2, 6, 128), np.float16))
    with pytest.raises(ValueError, match="d_v=128"):
        _call((q, k, v128))
    k3 = xp.asarray(np.ones((1, 3, 6, 64), np.float16))
    with pytest.raises(ValueError, match="multiple"):
        _call((q, k3, k3))
    with pytest.raises(ValueError, match="same number of heads"):
        _call((q, k, xp.asarray(np.ones((1, 1, 6, 64), np.float16))))
    with pytest.raises(ValueError, match=r"q must have shape \(batch, heads, seq, head_dim\)"):
        _call((q[0], k, v))
    with pytest.raises(ValueError, match="batch size"):
        _call((q, xp.asarray(np.ones((2, 2, 6, 64), np.float16)), xp.asarray(np.ones((2, 2, 6, 64), np.float16))))
    with pytest.raises(ValueError, match="same sequence length"):
        _call((q, k, xp.asarray(np.ones((1, 2, 7, 64), np.float16))))
    with pytest.raises(ValueError, match="scale must be"):
        _call(args, scale="log")
    with pytest.raises(TypeError, match="scale must be"):
        _call(args, scale=None)
    with pytest.raises(ValueError, match="scale must be finite"):
        _call(args, scale=float("inf"))
    with pytest.raises(ValueError, match="base must be a finite float > 1"):
        _call(args, base=1.0)
    with pytest.raises(ValueError, match="min_scale must be finite"):
        _call(args, min_scale=float("nan"))
    with pytest.raises(TypeError, match="kv_lengths must have dtype int32 or int64"):
        _call(args, kv_lengths=xp.asarray(np.ones(1, np.float32)))
    with pytest.raises(ValueError, match=r"kv_lengths must have shape \(batch,\)"):
        _call(args, kv_lengths=xp.asarray(np.ones(2, np.int32)))
    with pytest.raises(ValueError, match="num_splits must be in"):
        _call(args, num_splits=0)
    with pytest.raises(ValueError, match="num_splits must be in"):
        _call(args, num_splits=65)


def test_mixed_dtypes_refused(torch_fw):
    args, _ = _qkv(torch_fw, "float16", (1, 2, 5, 64), (1, 2, 6, 64), ("mixed",))
    kb = args[1].to(torch_fw.mod.bfloat16)
    with pytest.raises(TypeError, match="q and k must have the same dtype"):
        _call((args[0], kb, args[2]))


def test_varlen_errors(xp):
    args, _, cu_q, cu_k = _varlen(xp, "float16", [3, 4], [5, 6], 2, 2, 64, ("varlen-errors",))

    def call(cq, ck, qkv=args):
        return _attention_gpu.attention_varlen(*qkv, cq, ck, return_lse=False, **_kw())

    with pytest.raises(ValueError, match="cu_seqlens_q must start at 0"):
        call(cu_q + 1, cu_k)
    with pytest.raises(ValueError, match="cu_seqlens_k must be non-decreasing"):
        call(cu_q, np.array([0, 6, 5], np.int32))
    with pytest.raises(ValueError, match="cu_seqlens_q must end at the packed row count 7"):
        call(np.array([0, 3, 6], np.int32), cu_k)
    with pytest.raises(ValueError, match="cu_seqlens_k must end at most"):
        call(cu_q, np.array([0, 5, 12], np.int32))
    with pytest.raises(ValueError, match="same length"):
        call(cu_q, np.array([0, 11], np.int32))
    with pytest.raises(TypeError, match="cu_seqlens_q must have dtype int32 or int64"):
        call(xp.asarray(cu_q.astype(np.float32)), cu_k)
    with pytest.raises(TypeError, match="cu_seqlens_q must be an integer array"):
        call(cu_q.astype(np.float64), cu_k)
    with pytest.raises(ValueError, match=r"cu_seqlens_q must have shape \(batch \+ 1,\)"):
        call(np.zeros((0,), np.int32), cu_k)
    with pytest.raises(ValueError, match=r"q must have shape \(total, heads, head_dim\)"):
        call(cu_q, cu_k, qkv=(args[0][None], args[1], args[2]))
