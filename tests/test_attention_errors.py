"""Every documented error of attention, attention_varlen and entropy_scale;
NaN/inf and empty inputs; property-based shapes (hypothesis) against the
reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import logsketch
from logsketch import reference

rng = np.random.default_rng(0)
Q = rng.standard_normal((2, 4, 5, 8)).astype(np.float32)
K = rng.standard_normal((2, 2, 6, 8)).astype(np.float32)
V = rng.standard_normal((2, 2, 6, 3)).astype(np.float32)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"scale": "logn"}, ValueError, "scale"),
        ({"scale": None}, TypeError, "scale"),
        ({"scale": True}, TypeError, "scale"),
        ({"scale": float("nan")}, ValueError, "scale"),
        ({"scale": float("inf")}, ValueError, "scale"),
        ({"base": 1}, ValueError, "base"),
        ({"base": 0.5}, ValueError, "base"),
        ({"base": float("inf")}, ValueError, "base"),
        ({"base": float("nan")}, ValueError, "base"),
        ({"base": "512"}, TypeError, "base"),
        ({"min_scale": float("nan")}, ValueError, "min_scale"),
        ({"min_scale": float("-inf")}, ValueError, "min_scale"),
        ({"min_scale": "1"}, TypeError, "min_scale"),
        ({"causal": 1}, TypeError, "causal"),
        ({"causal": None}, TypeError, "causal"),
        ({"return_lse": "yes"}, TypeError, "return_lse"),
    ],
)
def test_option_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        logsketch.attention(Q, K, V, **kwargs)
    cu = np.array([0, 5], np.int32)
    with pytest.raises(error, match=match):
        logsketch.attention_varlen(Q[0].transpose(1, 0, 2), K[0].transpose(1, 0, 2), V[0].transpose(1, 0, 2), cu,
                                   np.array([0, 6]), **kwargs)


@pytest.mark.parametrize(
    "q, k, v, match",
    [
        (Q[0], K, V, "q must have shape"),
        (Q, K[0], V, "k must have shape"),
        (Q, K, V[..., None], "v must have shape"),
        (Q[:1], K, V, "batch"),
        (Q, K, V[:, :, :5], "v must have k's"),
        (Q, K, V[:, :1], "v must have k's"),
        (Q, K[..., :7], V, "head_dim"),
        (Q[:, :3], K, V, "multiple of heads_kv"),
        (Q, K[:, :0], V[:, :0], "multiple of heads_kv"),
        (Q[..., :0], K[..., :0], V, "head_dim"),
        (Q, K, V[..., :0], "head_dim of v"),
        (np.zeros((1, 1, 1, 257), np.float32), np.zeros((1, 1, 1, 257), np.float32), V[:1, :1, :1], "head_dim"),
        (Q, K, np.zeros((2, 2, 6, 300), np.float32), "head_dim of v"),
    ],
)
def test_shape_errors(q, k, v, match):
    with pytest.raises(ValueError, match=match):
        logsketch.attention(q, k, v)


@pytest.mark.parametrize(
    "q, match",
    [
        (Q.astype(np.int32), "q must have a float dtype"),
        (Q.astype(np.complex64), "q must have a float dtype"),
        (Q.astype(object), "q must have a float dtype"),
        ([[1.0, 2.0], [3.0]], "q must be an array of floats"),
    ],
)
def test_dtype_errors(q, match):
    with pytest.raises(TypeError, match=match):
        logsketch.attention(q, K, V)


def test_bfloat16_is_refused():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    with pytest.raises(TypeError, match="bfloat16"):
        logsketch.attention(Q.astype(ml_dtypes.bfloat16), K, V)


@pytest.mark.parametrize(
    "kv_lengths, error, match",
    [
        (np.array([1.0, 2.0]), TypeError, "integer"),
        (np.array([1, 2, 3]), ValueError, r"shape \(2,\)"),
        (np.array([-1, 2]), ValueError, r"\[0, seq_k=6\]"),
        (np.array([1, 7]), ValueError, r"\[0, seq_k=6\]"),
    ],
)
def test_kv_lengths_errors(kv_lengths, error, match):
    with pytest.raises(error, match=match):
        logsketch.attention(Q, K, V, kv_lengths=kv_lengths)


QP, KP, VP = (x[0].transpose(1, 0, 2).copy() for x in (Q, K, V))  # (tokens, heads, d)


@pytest.mark.parametrize(
    "cu_q, cu_k, error, match",
    [
        (np.array([0, 5.0]), np.array([0, 6]), TypeError, "cu_seqlens_q must be an int32 or int64"),
        (np.array([0, 5]), np.array([0, 6], np.int16), TypeError, "cu_seqlens_k must be an int32 or int64"),
        (np.array([[0, 5]]), np.array([0, 6]), ValueError, "cu_seqlens_q must be 1-D"),
        (np.array([], np.int64), np.array([0, 6]), ValueError, "cu_seqlens_q must be 1-D"),
        (np.array([1, 5]), np.array([0, 6]), ValueError, "cu_seqlens_q must start at 0"),
        (np.array([0, 3, 2, 5]), np.array([0, 2, 4, 6]), ValueError, "non-decreasing"),
        (np.array([0, 4]), np.array([0, 6]), ValueError, "cu_seqlens_q must end"),
        (np.array([0, 5]), np.array([0, 7]), ValueError, "cu_seqlens_k must end"),
        (np.array([0, 2, 5]), np.array([0, 6]), ValueError, "same length"),
    ],
)
def test_cu_seqlens_errors(cu_q, cu_k, error, match):
    with pytest.raises(error, match=match):
        logsketch.attention_varlen(QP, KP, VP, cu_q, cu_k)


@pytest.mark.parametrize(
    "q, k, v, match",
    [
        (Q, KP, VP, "q must have shape"),
        (QP, KP, VP[:5], "v must have k's"),
        (QP, KP[..., :7], VP, "head_dim"),
        (QP[:, :3], KP, VP, "multiple of heads_kv"),
    ],
)
def test_varlen_shape_errors(q, k, v, match):
    with pytest.raises(ValueError, match=match):
        logsketch.attention_varlen(q, k, v, np.array([0, q.shape[0]]), np.array([0, k.shape[0]]))


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((0, 64), {}, ValueError, "n must be >= 1"),
        ((np.array([3, 0]), 64), {}, ValueError, "n must be >= 1"),
        ((2.0, 64), {}, TypeError, "n must be an int"),
        ((True, 64), {}, TypeError, "n must be an int"),
        ((5, 0), {}, ValueError, "head_dim"),
        ((5, 2.0), {}, TypeError, "head_dim"),
        ((5, 64), {"base": 1.0}, ValueError, "base"),
        ((5, 64), {"min_scale": float("nan")}, ValueError, "min_scale"),
    ],
)
def test_entropy_scale_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        logsketch.entropy_scale(*args, **kwargs)


def test_core_rechecks_what_the_kernels_rely_on():
    """The compiled entry points refuse what the Python layer would never pass."""
    from logsketch import _core

    out = np.empty((2, 4, 5, 3), np.float32)
    args = (False, True, np.log(512), -np.inf, 0.0)
    with pytest.raises(TypeError, match="k must have q's dtype"):
        _core.attention(Q, K.astype(np.float64), V, out, None, None, *args)
    with pytest.raises(ValueError, match="contiguous last dimension"):
        _core.attention(Q, np.repeat(K, 2, axis=3)[..., ::2], V, out, None, None, *args)
    with pytest.raises(ValueError, match="out"):
        _core.attention(Q, K, V, out[..., :2], None, None, *args)
    with pytest.raises(TypeError, match="lse"):
        _core.attention(Q, K, V, out, np.empty((2, 4, 5), np.float64), None, *args)
    with pytest.raises(ValueError, match="kv_lengths"):
        _core.attention(Q, K, V, out, None, np.array([1, 9]), *args)
    with pytest.raises(ValueError, match="base"):
        _core.attention(Q, K, V, out, None, None, False, True, -1.0, -np.inf, 0.0)


# --------------------------------------------------------------------------- special values


def test_nan_propagates_like_the_reference():
    q, k, v = Q.astype(np.float64), K.astype(np.float64), V.astype(np.float64)
    q[0, 1, 2, 3] = np.nan  # row (0, 1, 2)
    k[1, 0, 4, 0] = np.nan  # every row of batch 1, heads 0-1, that sees key 4
    v[1, 1, 0, 2] = np.nan  # column 2 of every row of batch 1, heads 2-3
    for causal in (False, True):
        got, lse = logsketch.attention(q, k, v, causal=causal, return_lse=True)
        ref, ref_lse = reference.attention(q, k, v, causal=causal, return_lse=True)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_array_equal(np.isnan(lse), np.isnan(ref_lse))
        assert np.isnan(got[0, 1, 2]).all() and np.isnan(got[1, 2:, :, 2]).all()
        assert np.isnan(got).any(axis=-1).sum() < got.shape[0] * got.shape[1] * got.shape[2]
        np.testing.assert_allclose(got[~np.isnan(ref)], ref[~np.isnan(ref)], atol=1e-13)


def test_inf_score_gives_nan_row_like_the_reference():
    q, k, v = Q.copy(), K.copy(), V.copy()
    k[0, 0, 1] = np.inf
    got = logsketch.attention(q, k, v)
    ref = reference.attention(q, k, v)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    assert np.isnan(got[0, :2]).all() and not np.isnan(got[0, 2:]).any()


@pytest.mark.parametrize(
    "qs, ks, vs",
    [
        ((0, 4, 5, 8), (0, 2, 6, 8), (0, 2, 6, 3)),
        ((2, 4, 0, 8), (2, 2, 6, 8), (2, 2, 6, 3)),
        ((2, 4, 5, 8), (2, 2, 0, 8), (2, 2, 0, 3)),
    ],
)
def test_empty_sizes(qs, ks, vs):
    out, lse = logsketch.attention(np.zeros(qs, np.float32), np.zeros(ks, np.float32), np.zeros(vs, np.float32),
                                   return_lse=True)
    assert out.shape == qs[:3] + (vs[3],) and lse.shape == qs[:3] and out.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_no_keys_gives_zeros_and_minus_inf(dtype):
    q = np.ones((1, 2, 3, 4), dtype)
    out, lse = logsketch.attention(q, np.ones((1, 2, 0, 4), dtype), np.ones((1, 2, 0, 5), dtype), return_lse=True)
    assert out.shape == (1, 2, 3, 5) and not out.any() and np.all(np.isneginf(lse))


def test_varlen_empty():
    z = np.zeros((0, 2, 4), np.float32)
    out, lse = logsketch.attention_varlen(z, z, z, np.array([0]), np.array([0]), return_lse=True)
    assert out.shape == (0, 2, 4) and lse.shape == (2, 0)


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(
    batch=st.integers(1, 2),
    heads_kv=st.integers(1, 2),
    group=st.integers(1, 3),
    seq_q=st.integers(0, 40),
    seq_k=st.integers(0, 140),
    d=st.integers(1, 40),
    dv=st.integers(1, 40),
    causal=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_shapes_property(batch, heads_kv, group, seq_q, seq_k, d, dv, causal, seed):
    r = np.random.default_rng(seed)
    q = r.standard_normal((batch, heads_kv * group, seq_q, d))
    k = r.standard_normal((batch, heads_kv, seq_k, d))
    v = r.standard_normal((batch, heads_kv, seq_k, dv))
    kv = r.integers(0, seq_k + 1, size=batch)
    got, lse = logsketch.attention(q, k, v, causal=causal, kv_lengths=kv, return_lse=True)
    ref, ref_lse = reference.attention(q, k, v, causal=causal, kv_lengths=kv, return_lse=True)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lse, ref_lse, rtol=1e-13, atol=0)
