"""Helpers of the GPU tests: bit comparisons, a bfloat16 reference and the rSVD reference.

A plainly named module, as tests/logsketch_test_helpers.py is for the CPU
tests; bfloat16 values travel as uint16 arrays of their bit patterns, since
numpy has no bfloat16.
"""

from __future__ import annotations

import contextlib

import numpy as np

from logsketch import reference

UINT = {2: np.uint16, 4: np.uint32}


def bits(x):
    """Bit patterns of a float array; uint16 arrays (bfloat16 bits) as they are."""
    x = np.asarray(x)
    return x if x.dtype == np.uint16 else np.ascontiguousarray(x).view(UINT[x.itemsize])


def assert_bits_equal(got, want):
    """Same dtype, same shape, identical bits (NaNs included: every NaN result
    of the Mitchell functions is the positive quiet NaN)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    gb, wb = bits(got), bits(want)
    bad = np.flatnonzero(gb != wb)
    if bad.size:
        width = got.itemsize * 2
        shown = ", ".join(
            f"[{int(i)}] 0x{int(gb.flat[i]):0{width}X} != 0x{int(wb.flat[i]):0{width}X}" for i in bad[:8]
        )
        raise AssertionError(f"{bad.size} of {got.size} elements differ in their bits: {shown}")


# ---- bfloat16 reference -----------------------------------------------------
# reference.py is written over a Format table; bfloat16 is one more Format,
# applied to uint16 arrays holding bfloat16 bit patterns.

BFLOAT16 = reference.Format(np.dtype(np.uint16), np.dtype(np.uint16), 7, 127, 0x7FC0, 7, 7)


@contextlib.contextmanager
def _bfloat16_format():
    key = np.dtype(np.uint16)
    reference.FORMATS[key] = BFLOAT16
    try:
        yield
    finally:
        del reference.FORMATS[key]


def bf16_binary(op, a_bits, b_bits, compensated=False):
    """Reference Mitchell multiply/divide of bfloat16 values given as uint16 bits."""
    fn = reference.mitchell_multiply if op == "multiply" else reference.mitchell_divide
    with _bfloat16_format():
        return fn(np.asarray(a_bits, np.uint16), np.asarray(b_bits, np.uint16), compensated=compensated)


def bf16_to_f32(b):
    return (np.asarray(b, np.uint16).astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(x):
    """float32 -> bfloat16 bits, round to nearest even (torch's .to(torch.bfloat16)), NaN -> quiet NaN."""
    x = np.asarray(x, np.float32)
    u = x.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(x), np.uint16(0x7FC0), r)


def bf16_matmul(a_bits, b_bits, compensated=False):
    """Reference Mitchell matmul of 2-D bfloat16 bit arrays, as reference.mitchell_matmul:
    products summed in increasing k from +0 in float32, rounded once."""
    a_bits, b_bits = np.asarray(a_bits, np.uint16), np.asarray(b_bits, np.uint16)
    acc = np.zeros((a_bits.shape[0], b_bits.shape[1]), np.float32)
    for k in range(a_bits.shape[1]):
        prod = bf16_binary("multiply", a_bits[:, k : k + 1], b_bits[k : k + 1, :], compensated)
        acc += bf16_to_f32(prod)
    return f32_to_bf16(acc)


# ---- attention reference ----------------------------------------------------
# A float64 numpy reference of the GPU attention, local to these tests (named
# so it cannot clash with logsketch.reference).  With `rounding`, the same
# computation as a float16/bfloat16 pipeline would do it: scores, softmax
# probabilities and outputs each rounded to the input precision; its distance
# to the float64 result is the yardstick of the kernels' error.


def round_to(dtype_name):
    """A function rounding a float array to float16 or bfloat16 (returned as float64)."""
    if dtype_name == "float16":
        return lambda x: np.asarray(x, np.float64).astype(np.float16).astype(np.float64)
    if dtype_name == "bfloat16":
        return lambda x: bf16_to_f32(f32_to_bf16(np.asarray(x, np.float64).astype(np.float32))).astype(np.float64)
    raise ValueError(dtype_name)


def attn_visible_keys(seq_q, seq_k, causal):
    """n_i for rows 0..seq_q-1: queries aligned to the end of the keys when causal."""
    i = np.arange(seq_q)
    if causal:
        return np.clip(i + 1 + seq_k - seq_q, 0, seq_k)
    return np.full(seq_q, seq_k)


def attn_row_scale(n, d, scale, base, min_scale):
    """lambda_i for rows that see n keys (n = 0 rows get 0: they output zeros anyway)."""
    n = np.asarray(n, np.float64)
    if isinstance(scale, str):
        if scale == "standard":
            return np.full(n.shape, 1.0 / np.sqrt(d))
        with np.errstate(divide="ignore"):
            f = np.log(n) / np.log(base)
        if min_scale is not None:
            f = np.maximum(f, min_scale)
        return np.where(n > 0, f / np.sqrt(d), 0.0)
    return np.full(n.shape, float(scale))


def attn_reference_f64(q, k, v, *, causal=False, scale="entropy", base=512.0, min_scale=None, kv_lengths=None,
                       rounding=None):  # fmt: skip
    """out (batch, heads_q, seq_q, d_v) and lse (batch, heads_q, seq_q) in float64.

    q (batch, heads_q, seq_q, d), k/v (batch, heads_kv, seq_k, d|d_v), numpy
    arrays of any float dtype; heads_q a multiple of heads_kv (query head h
    reads kv head h // (heads_q // heads_kv)).
    """
    q, k, v = (np.asarray(x, np.float64) for x in (q, k, v))
    batch, heads_q, seq_q, d = q.shape
    heads_kv, seq_k = k.shape[1], k.shape[2]
    group = heads_q // heads_kv
    rnd = rounding if rounding is not None else (lambda x: x)
    out = np.zeros((batch, heads_q, seq_q, v.shape[3]))
    lse = np.full((batch, heads_q, seq_q), -np.inf)
    for b in range(batch):
        lk = seq_k if kv_lengths is None else int(kv_lengths[b])
        n = attn_visible_keys(seq_q, lk, causal)
        lam = attn_row_scale(n, d, scale, base, min_scale)
        visible = np.arange(seq_k)[None, :] < n[:, None]
        rows = n > 0
        for h in range(heads_q):
            s = rnd(q[b, h] @ k[b, h // group].T) * lam[:, None]
            s = np.where(visible, s, -np.inf)
            m = np.where(rows, s.max(axis=1, initial=-np.inf), 0.0)
            p = np.where(visible, np.exp(s - m[:, None]), 0.0)
            l = p.sum(axis=1)
            safe = np.where(rows, l, 1.0)
            out[b, h] = rnd(rnd(p / safe[:, None]) @ v[b, h // group])
            lse[b, h] = np.where(rows, m + np.log(safe), -np.inf)
    return out, lse


def attn_varlen_reference_f64(q, k, v, cu_q, cu_k, **kw):
    """The varlen layout: q (total_q, heads_q, d), k/v (total_k, heads_kv, d);
    returns out (total_q, heads_q, d_v) and lse (heads_q, total_q)."""
    q, k, v = (np.asarray(x, np.float64) for x in (q, k, v))
    out = np.zeros((q.shape[0], q.shape[1], v.shape[2]))
    lse = np.full((q.shape[1], q.shape[0]), -np.inf)
    for b in range(len(cu_q) - 1):
        qs, ks = slice(cu_q[b], cu_q[b + 1]), slice(cu_k[b], cu_k[b + 1])
        o, s = attn_reference_f64(
            q[qs].transpose(1, 0, 2)[None], k[ks].transpose(1, 0, 2)[None], v[ks].transpose(1, 0, 2)[None], **kw
        )
        out[qs] = o[0].transpose(1, 0, 2)
        lse[:, qs] = s[0]
    return out, lse
# ---- randomized SVD reference -----------------------------------------------


def _cholqr(X, eps):
    """One Cholesky QR step on X (rows x l); None when even the shifted Gram matrix is not positive definite."""
    import scipy.linalg

    rows, l = X.shape
    G = X.T @ X
    try:
        R = np.linalg.cholesky(G).T
    except np.linalg.LinAlgError:
        s = 11 * (rows * l + l * (l + 1)) * eps * np.trace(G)
        try:
            R = np.linalg.cholesky(G + s.astype(X.dtype) * np.eye(l, dtype=X.dtype)).T
        except np.linalg.LinAlgError:
            return None
    return scipy.linalg.solve_triangular(R, X.T, trans="T", lower=False).T  # X R^-1


def _householder(X):
    return np.linalg.qr(X)[0]


def _normalize(X, normalizer, eps):
    import scipy.linalg

    if normalizer == "none":
        return X
    if normalizer == "lu":
        return scipy.linalg.lu(X, permute_l=True, check_finite=False)[0]
    if normalizer == "qr":
        return _householder(X)
    Q = _cholqr(X, eps)
    return _householder(X) if Q is None else Q


def _orthonormalize(Y, normalizer, eps):
    if normalizer != "cholqr":
        return _householder(Y)
    l = Y.shape[1]
    Q = _cholqr(Y, eps)
    Q = None if Q is None else _cholqr(Q, eps)
    if Q is not None and np.abs(Q.T @ Q - np.eye(l)).max() <= 100 * l * eps:
        return Q
    return _householder(Y)


def rsvd_reference(A, *, k, l, n_iter, normalizer, transpose, flip_sign, sketch, seed, dtype):
    """The GPU's randomized SVD (logsketch/rsvd/_cuda.py) in numpy, computed in `dtype`.

    Omega is jl_components in A's own dtype (what the GPU materializes), then
    cast; A is cast to `dtype`.  Returns (U, S, Vt) of `dtype`.
    """
    import logsketch

    A = np.asarray(A)
    dtype = np.dtype(dtype)
    eps = np.finfo(dtype).eps
    M = (A.T if transpose else A).astype(dtype)
    p, q = M.shape
    R = logsketch.jl_components(l, q, kind=sketch, seed=seed, dtype=A.dtype)
    Q = (R.toarray() if sketch == "sparse" else R).T.astype(dtype)
    for _ in range(n_iter):
        Y = _normalize(M @ Q, normalizer, eps)
        Q = _normalize(M.T @ Y, normalizer, eps)
    Q = _orthonormalize(M @ Q, normalizer, eps)
    Ub, S, Vbt = np.linalg.svd(Q.T @ M, full_matrices=False)
    U, S, Vt = Q @ Ub[:, :k], S[:k], Vbt[:k]
    if transpose:
        U, Vt = Vt.T, U.T
    if flip_sign:
        U, Vt = flip_signs(U, Vt)
    return np.ascontiguousarray(U), S, np.ascontiguousarray(Vt)


def flip_signs(U, Vt):
    """svd_flip with U deciding: each column's largest |entry| (first on ties) made non-negative."""
    U, Vt = U.copy(), Vt.copy()
    rows = np.argmax(np.abs(U), axis=0)
    negative = U[rows, np.arange(U.shape[1])] < 0
    U[:, negative] *= -1
    Vt[negative] *= -1
    return U, Vt


def _align(X, ref, axis):
    """X with each column (axis=0) or row (axis=1) sign-flipped to point along ref's."""
    dots = np.sum(X * ref, axis=axis, keepdims=True)
    return X * np.where(dots < 0, -1, 1)


def assert_rsvd_matches(got, A, **kw):
    """(U, S, Vt) from the GPU against rsvd_reference in float64, up to the sign of each component.

    The tolerance follows the rule of tests/logsketch_test_helpers.py: a small
    multiple of what the same algorithm loses in float32 against float64
    (rsvd_reference in both), scaled by eps(dtype)/eps(float32) for float64
    inputs (rounding errors propagate linearly as long as the float32 loss is
    small, which the test matrices ensure), plus a floor of a GEMM's rounding,
    max(m, n) eps, for components the float32 run happens to get exactly.
    """
    A = np.asarray(A)
    eps = np.finfo(A.dtype).eps
    scale = eps / np.finfo(np.float32).eps
    ref = rsvd_reference(A, dtype=np.float64, **kw)
    ref32 = rsvd_reference(A, dtype=np.float32, **kw)
    floor = 16 * max(A.shape) * eps
    for name, g, r, r32, axis, size in zip(
        ("U", "S", "Vt"), got, ref, ref32, (0, None, 1), (1.0, float(ref[1][0]), 1.0)
    ):
        g = np.asarray(g, np.float64)
        r32 = np.asarray(r32, np.float64)
        assert g.shape == r.shape, (name, g.shape, r.shape)
        if axis is not None:
            g, r32 = _align(g, r, axis), _align(r32, r, axis)
        tol = 10 * np.abs(r32 - r).max() * scale + floor * size
        err = np.abs(g - r).max()
        assert err <= tol, f"{name}: max error {err:.3g} > tolerance {tol:.3g} ({kw})"


def assert_orthonormal(X, axis, eps):
    """Columns (axis=0) or rows (axis=1) of X orthonormal to working precision."""
    X = np.asarray(X, np.float64)
    G = X.T @ X if axis == 0 else X @ X.T
    err = np.abs(G - np.eye(G.shape[0])).max()
    tol = 10 * max(X.shape) * eps
    assert err <= tol, f"||X^T X - I||_max = {err:.3g} > {tol:.3g}"


def known_spectrum(m, n, dtype, decay=0.9, seed=0):
    """A = U0 diag(decay**i) V0^T (m x n) with random orthonormal U0, V0, and its spectrum."""
    rng = np.random.default_rng(seed)
    r = min(m, n)
    U0 = np.linalg.qr(rng.standard_normal((m, r)))[0]
    V0 = np.linalg.qr(rng.standard_normal((n, r)))[0]
    s = decay ** np.arange(r)
    return ((U0 * s) @ V0.T).astype(dtype), s
