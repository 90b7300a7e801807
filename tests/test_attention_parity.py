"""logsketch.attention / attention_varlen against the float64 reference.

Tolerance (FlashAttention's rule): the kernel's largest error against the
float64 reference may be at most twice the largest error of the same
reference computed in the input precision (numpy, every step in float32 or
float16), plus a floor of a few units of the input precision (4 for float16 and
float32: the output's rounding and exp2's ~2 ulp; 64 for float64, where the
second error is zero and the kernel's exp2 and sums of ~2000 terms remain).  Checked for out and lse, at every SIMD level.
Sizes cross the kernels' tiles (64 keys per block; 4..64 query rows per tile)
and the split of long key ranges (>= 2048 keys with few query rows).
"""

from __future__ import annotations

import numpy as np
import pytest

import logsketch
from logsketch import reference

FLOOR_ULPS = {np.dtype(np.float16): 4, np.dtype(np.float32): 4, np.dtype(np.float64): 64}


def rand(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def max_err(got, ref, finite):
    got = np.asarray(got, np.float64)
    return float(np.abs(got[finite] - ref[finite]).max()) if finite.any() else 0.0


def check(q, k, v, varlen=None, **kw):
    """Run the kernel and assert it within the derived bound, for out and lse."""
    dtype = np.result_type(q, k, v)
    if varlen is None:
        got, lse = logsketch.attention(q, k, v, return_lse=True, **kw)
        ref, ref_lse = reference.attention(q, k, v, return_lse=True, **kw)
        low, low_lse = reference.attention(q, k, v, return_lse=True, accumulate=dtype, **kw)
    else:
        got, lse = logsketch.attention_varlen(q, k, v, *varlen, return_lse=True, **kw)
        ref, ref_lse = reference.attention_varlen(q, k, v, *varlen, return_lse=True, **kw)
        low, low_lse = reference.attention_varlen(q, k, v, *varlen, return_lse=True, accumulate=dtype, **kw)
    assert got.dtype == dtype and got.shape == ref.shape
    assert lse.dtype == (np.float64 if dtype == np.float64 else np.float32) and lse.shape == ref_lse.shape
    floor = FLOOR_ULPS[np.dtype(dtype)] * np.finfo(dtype).eps
    every = np.ones(ref.shape, bool)
    bound = 2 * max_err(low, ref, every) + floor * max(1.0, float(np.abs(ref).max(initial=0)))
    assert max_err(got, ref, every) <= bound, f"out error {max_err(got, ref, every):.3g} > {bound:.3g}"
    finite = np.isfinite(ref_lse)
    assert np.array_equal(np.isneginf(lse), np.isneginf(ref_lse)), "rows that see no key give lse = -inf"
    lse_bound = 2 * max_err(low_lse, ref_lse, finite) + floor * max(1.0, float(np.abs(ref_lse[finite]).max(initial=0)))
    assert max_err(lse, ref_lse, finite) <= lse_bound
    return got, lse


# (batch, heads_q, heads_kv, seq_q, seq_k, d, d_v)
SHAPES = [
    (2, 2, 2, 97, 97, 64, 64),     # several query tiles and key blocks
    (1, 4, 2, 7, 97, 16, 16),      # GQA, seq_q < seq_k
    (1, 4, 1, 97, 7, 80, 80),      # MQA, seq_q > seq_k: causal rows that see nothing
    (1, 2, 2, 1, 2100, 32, 32),    # decode, long keys: split into chunks and merged
    (1, 8, 2, 1, 1025, 128, 128),  # GQA decode
    (1, 1, 1, 1025, 67, 1, 1),     # head dim 1
    (1, 2, 1, 33, 40, 256, 7),     # d 256, d != d_v
    (3, 2, 2, 1, 1, 16, 16),       # one key
    (1, 3, 3, 2, 2100, 8, 24),     # two rows per head, split
]


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_parity_float32(simd_level, shape, causal):
    b, hq, hkv, lq, lk, d, dv = shape
    rng = np.random.default_rng(sum(shape))
    q, k = rand(rng, (b, hq, lq, d), np.float32, 2.0), rand(rng, (b, hkv, lk, d), np.float32, 2.0)
    check(q, k, rand(rng, (b, hkv, lk, dv), np.float32), causal=causal)


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
@pytest.mark.parametrize("shape", [SHAPES[0], SHAPES[2], SHAPES[3], SHAPES[6]], ids=str)
def test_parity_other_dtypes(simd_level, shape, dtype):
    b, hq, hkv, lq, lk, d, dv = shape
    rng = np.random.default_rng(sum(shape))
    q, k = rand(rng, (b, hq, lq, d), dtype, 2.0), rand(rng, (b, hkv, lk, d), dtype, 2.0)
    check(q, k, rand(rng, (b, hkv, lk, dv), dtype), causal=True)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lengths", [[0, 5, 97], [97, 1, 64]], ids=str)
def test_kv_lengths(simd_level, lengths, causal):
    rng = np.random.default_rng(5)
    q, k, v = rand(rng, (3, 2, 9, 16), np.float32), rand(rng, (3, 2, 97, 16), np.float32), rand(rng, (3, 2, 97, 16), np.float32)
    got, lse = check(q, k, v, causal=causal, kv_lengths=np.array(lengths))
    if lengths[0] == 0:
        assert not got[0].any() and np.all(np.isneginf(lse[0]))


@pytest.mark.parametrize(
    "kw",
    [
        {"scale": "standard"},
        {"scale": 0.3},
        {"scale": 0.0},
        {"scale": -0.2},
        {"scale": "entropy", "base": 4096},
        {"scale": "entropy", "base": 1.5},
        {"scale": "entropy", "base": 64, "min_scale": 1.0},
        {"scale": "entropy", "min_scale": -2.0},
    ],
    ids=str,
)
def test_scale_modes(simd_level, kw):
    rng = np.random.default_rng(6)
    q, k, v = rand(rng, (1, 2, 70, 32), np.float32), rand(rng, (1, 2, 130, 32), np.float32), rand(rng, (1, 2, 130, 32), np.float32)
    check(q, k, v, causal=True, **kw)


def test_scale_modes_differ_as_defined():
    """entropy with base = n and no floor equals standard for rows that see n keys."""
    rng = np.random.default_rng(7)
    q, k, v = rand(rng, (1, 1, 4, 8), np.float64), rand(rng, (1, 1, 50, 8), np.float64), rand(rng, (1, 1, 50, 8), np.float64)
    a = logsketch.attention(q, k, v, scale="entropy", base=50)
    b = logsketch.attention(q, k, v, scale="standard")
    c = logsketch.attention(q, k, v, scale=1 / np.sqrt(8))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(b, c)
    # min_scale floors short rows: causal row 0 sees 47 keys < base 64 -> factor 1
    d = logsketch.attention(q, k, v, causal=True, base=64, min_scale=1.0)
    np.testing.assert_allclose(d, logsketch.attention(q, k, v, causal=True, scale="standard"), atol=1e-14)


@pytest.mark.parametrize("causal", [False, True])
def test_varlen(simd_level, causal):
    rng = np.random.default_rng(8)
    lens_q, lens_k = [5, 0, 70, 1, 3], [9, 4, 70, 2100, 0]
    cu_q = np.concatenate([[0], np.cumsum(lens_q)]).astype(np.int32)
    cu_k = np.concatenate([[0], np.cumsum(lens_k)]).astype(np.int64)
    q = rand(rng, (cu_q[-1], 4, 16), np.float32, 2.0)
    k = rand(rng, (cu_k[-1], 2, 16), np.float32, 2.0)
    v = rand(rng, (cu_k[-1], 2, 24), np.float32)
    check(q, k, v, varlen=(cu_q, cu_k), causal=causal)


def test_varlen_matches_padded_per_sequence():
    rng = np.random.default_rng(9)
    lens = [7, 97, 33]
    cu = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    q, k, v = (rand(rng, (cu[-1], 2, 16), np.float32) for _ in range(3))
    out, lse = logsketch.attention_varlen(q, k, v, cu, cu, causal=True, return_lse=True)
    for b, n in enumerate(lens):
        s = slice(cu[b], cu[b + 1])
        one = [x[s].transpose(1, 0, 2)[None] for x in (q, k, v)]
        o1, l1 = logsketch.attention(*one, causal=True, return_lse=True)
        np.testing.assert_array_equal(out[s], o1[0].transpose(1, 0, 2))
        np.testing.assert_array_equal(lse[:, s], l1[0])


def layouts(x):
    """x in several layouts: the (batch, seq, heads, d) view, reversed axes, a
    strided slice, a non-contiguous last dimension (copied first)."""
    bshd = np.ascontiguousarray(x.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    rev = np.ascontiguousarray(x[::-1, ::-1, ::-1])[::-1, ::-1, ::-1]
    wide = np.zeros(x.shape[:3] + (x.shape[3] + 5,), x.dtype)
    wide[..., 2:-3] = x
    cols = np.repeat(x, 2, axis=3)[..., ::2]
    return {"bshd": bshd, "reversed": rev, "row-padded": wide[..., 2:-3], "last-dim strided": cols}


def test_layouts_give_the_same_bits():
    rng = np.random.default_rng(10)
    q, k, v = rand(rng, (2, 4, 37, 24), np.float32), rand(rng, (2, 2, 70, 24), np.float32), rand(rng, (2, 2, 70, 24), np.float32)
    want = logsketch.attention(q, k, v, causal=True)
    lq, lk, lv = layouts(q), layouts(k), layouts(v)
    for name in lq:
        got = logsketch.attention(lq[name], lk[name], lv[name], causal=True)
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_transposed_layout_is_read_in_place(monkeypatch):
    """A (batch, seq, heads, d) array passed as .transpose(0, 2, 1, 3) reaches the core uncopied."""
    from logsketch import _core

    seen = []
    real = _core.attention
    monkeypatch.setattr(_core, "attention", lambda q, k, v, *a: (seen.append((q, k, v)), real(q, k, v, *a))[1])
    rng = np.random.default_rng(11)
    x = rand(rng, (1, 50, 4, 16), np.float32)
    view = x.transpose(0, 2, 1, 3)
    logsketch.attention(view, view, view)
    assert all(np.shares_memory(a, x) for a in seen[0])


@pytest.mark.parametrize("shape", [SHAPES[0], SHAPES[3], SHAPES[4], (1, 1, 1, 300, 300, 16, 16)], ids=str)
def test_thread_count_does_not_change_bits(restore_threads, shape):
    b, hq, hkv, lq, lk, d, dv = shape
    rng = np.random.default_rng(12)
    q, k, v = rand(rng, (b, hq, lq, d), np.float32), rand(rng, (b, hkv, lk, d), np.float32), rand(rng, (b, hkv, lk, dv), np.float32)
    results = []
    for threads in (1, 2, 3, 7):
        logsketch.set_num_threads(threads)
        results.append(logsketch.attention(q, k, v, causal=True, return_lse=True))
    for out, lse in results[1:]:
        np.testing.assert_array_equal(out, results[0][0])
        np.testing.assert_array_equal(lse, results[0][1])


def test_mixed_dtypes_promote():
    rng = np.random.default_rng(13)
    q, k, v = rand(rng, (1, 1, 5, 8), np.float16), rand(rng, (1, 1, 6, 8), np.float32), rand(rng, (1, 1, 6, 8), np.float32)
    out = logsketch.attention(q, k, v)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, logsketch.attention(q.astype(np.float32), k, v))


def test_entropy_scale_matches_definition():
    assert logsketch.entropy_scale(512, 64) == pytest.approx(1 / 8)
    assert logsketch.entropy_scale(8, 16, base=2) == pytest.approx(3 / 4)
    assert logsketch.entropy_scale(100, 64, base=4096, min_scale=1.0) == pytest.approx(1 / 8)
    n = np.array([1, 2, 512, 10**6])
    np.testing.assert_allclose(logsketch.entropy_scale(n, 128), np.log(n) / np.log(512) / np.sqrt(128), rtol=1e-15)
    assert isinstance(logsketch.entropy_scale(3, 4), float)
