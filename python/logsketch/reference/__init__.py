"""Plain-numpy references: obviously correct, slow, the yardstick for every test.

Each function is written straight from the definition in the docstring of the
public function it mirrors, with no attempt at speed.  The compiled kernels must
match these bit for bit where the definition is bit-exact (Mitchell elementwise)
and within a derived floating-point bound elsewhere (Mitchell matmul).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FORMATS",
    "mitchell_multiply",
    "mitchell_divide",
    "mitchell_matmul",
    "randomized_svd",
]


@dataclass(frozen=True)
class Format:
    """Bit layout of an IEEE binary format, as the Mitchell definition uses it."""

    dtype: np.dtype
    uint: np.dtype
    mantissa_bits: int
    exponent_bias: int  # the exponent field of 1.0
    quiet_nan: int  # the NaN every NaN result is, bit for bit
    mul_compensation: int  # see bench/derive_compensation.py
    div_compensation: int

    @property
    def sign_bit(self) -> int:
        return 1 << (self.uint.itemsize * 8 - 1)

    @property
    def exponent_max(self) -> int:  # the exponent field of inf and NaN
        return (1 << (self.uint.itemsize * 8 - 1 - self.mantissa_bits)) - 1

    @property
    def bias(self) -> int:  # bits(1.0)
        return self.exponent_bias << self.mantissa_bits


FORMATS = {
    np.dtype(np.float16): Format(np.dtype(np.float16), np.dtype(np.uint16), 10, 15, 0x7E00, 58, 59),
    np.dtype(np.float32): Format(
        np.dtype(np.float32), np.dtype(np.uint32), 23, 127, 0x7FC00000, 474990, 486498
    ),
    np.dtype(np.float64): Format(
        np.dtype(np.float64),
        np.dtype(np.uint64),
        52,
        1023,
        0x7FF8000000000000,
        255008540773892,
        261186771493313,
    ),
}


def _operands(a, b):
    dtype = np.result_type(a, b)  # before asarray: Python floats stay weak (NEP 50)
    a = np.asarray(a)
    b = np.asarray(b)
    if dtype not in FORMATS:
        raise TypeError(f"reference Mitchell needs float16/32/64 inputs; got {dtype}")
    a, b = np.broadcast_arrays(a.astype(dtype), b.astype(dtype))
    return FORMATS[dtype], a, b


def _fields(fmt: Format, x: np.ndarray):
    """Split |x| into (exponent, mantissa) as int64 and classify it."""
    bits = np.ascontiguousarray(x).view(fmt.uint).astype(np.uint64)
    mag = bits & np.uint64(fmt.sign_bit - 1)
    exponent = (mag >> np.uint64(fmt.mantissa_bits)).astype(np.int64)
    mantissa = (mag & np.uint64((1 << fmt.mantissa_bits) - 1)).astype(np.int64)
    sign = (bits & np.uint64(fmt.sign_bit)) != 0
    zero = exponent == 0  # zeros and subnormals, which are flushed
    inf = (exponent == fmt.exponent_max) & (mantissa == 0)
    nan = (exponent == fmt.exponent_max) & (mantissa != 0)
    return sign, exponent, mantissa, zero, inf, nan


def _assemble(fmt, sign, exponent, mantissa, zero, inf, nan):
    """Build the result from an unnormalised exponent/mantissa pair.

    The integer M = (exponent << m) + mantissa is the Mitchell sum; mantissa may
    lie outside [0, 2**m), and the carry (floor division) moves into the exponent,
    exactly as a wide integer add would.  M below the smallest normal gives 0,
    M at or above inf's bit pattern gives inf.
    """
    m = fmt.mantissa_bits
    exponent = exponent + np.floor_divide(mantissa, 1 << m)
    mantissa = np.mod(mantissa, 1 << m)
    underflow = exponent < 1
    overflow = exponent >= fmt.exponent_max
    zero = zero | (underflow & ~inf & ~nan)
    inf = inf | (overflow & ~zero & ~nan)
    exponent = np.where(zero, 0, np.where(inf, fmt.exponent_max, exponent))
    mantissa = np.where(zero | inf, 0, mantissa)
    mag = (exponent.astype(np.uint64) << np.uint64(m)) | mantissa.astype(np.uint64)
    bits = np.where(sign, np.uint64(fmt.sign_bit), np.uint64(0)) | mag
    bits = np.where(nan, np.uint64(fmt.quiet_nan), bits)
    return bits.astype(fmt.uint).view(fmt.dtype)


def mitchell_multiply(a, b, *, compensated=False):
    """Reference for :func:`logsketch.mitchell_multiply` (same definition)."""
    fmt, a, b = _operands(a, b)
    sa, ea, ma, za, ia, na = _fields(fmt, a)
    sb, eb, mb, zb, ib, nb = _fields(fmt, b)
    comp = fmt.mul_compensation if compensated else 0
    nan = na | nb | (ia & zb) | (ib & za)
    inf = (ia | ib) & ~nan
    zero = (za | zb) & ~nan & ~inf
    exponent = ea + eb - fmt.exponent_bias
    mantissa = ma + mb + comp
    out = _assemble(fmt, sa ^ sb, exponent, mantissa, zero, inf, nan)
    return out.reshape(a.shape)


def mitchell_divide(a, b, *, compensated=False):
    """Reference for :func:`logsketch.mitchell_divide` (same definition)."""
    fmt, a, b = _operands(a, b)
    sa, ea, ma, za, ia, na = _fields(fmt, a)
    sb, eb, mb, zb, ib, nb = _fields(fmt, b)
    comp = fmt.div_compensation if compensated else 0
    nan = na | nb | (za & zb) | (ia & ib)
    inf = (ia | zb) & ~nan  # inf / finite, finite nonzero / 0
    zero = (za | ib) & ~nan & ~inf  # 0 / nonzero, finite / inf
    exponent = ea - eb + fmt.exponent_bias
    mantissa = ma - mb - comp
    out = _assemble(fmt, sa ^ sb, exponent, mantissa, zero, inf, nan)
    return out.reshape(a.shape)


def mitchell_matmul(a, b, *, compensated=False):
    """Reference for :func:`logsketch.mitchell_matmul`.

    C[..., i, j] = sum over k, in increasing k, of mitchell_multiply(A[..., i, k],
    B[..., k, j]), each product rounded to nothing (it is exact in its own
    format) and accumulated from +0 in float32 (float16/float32 inputs) or
    float64 (float64 inputs); the result is cast to the input dtype.  Every
    NaN result is the positive quiet NaN.
    """
    dtype = np.result_type(a, b)
    if dtype not in FORMATS:
        raise TypeError(f"reference Mitchell needs float16/32/64 inputs; got {dtype}")
    a, b = np.asarray(a).astype(dtype), np.asarray(b).astype(dtype)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("mitchell_matmul: operands must be at least 1-D")
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a = a[np.newaxis, :]
    if squeeze_b:
        b = b[:, np.newaxis]
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"mitchell_matmul: inner dimensions differ ({a.shape[-1]} vs {b.shape[-2]})")
    acc_dtype = np.float64 if dtype == np.float64 else np.float32
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    acc = np.zeros(batch + (a.shape[-2], b.shape[-1]), dtype=acc_dtype)
    for k in range(a.shape[-1]):
        prod = mitchell_multiply(a[..., :, k : k + 1], b[..., k : k + 1, :], compensated=compensated)
        acc += prod.astype(acc_dtype)
    # A NaN's sign and payload from a float sum depend on the order the hardware
    # met the NaNs in; the definition fixes every NaN result to the quiet NaN.
    fmt = FORMATS[np.dtype(acc_dtype)]
    acc[np.isnan(acc)] = np.array(fmt.quiet_nan, dtype=fmt.uint).view(acc_dtype)
    out = acc.astype(dtype)
    if squeeze_a:
        out = out[..., 0, :]
    if squeeze_b:
        out = out[..., 0]
    return out


# --------------------------------------------------------------------------- JL random projection
#
# Everything below follows the mapping documented in logsketch.jl (and in
# cpp/common/philox.hpp and cpp/jl/jl_random.hpp) operation for operation, so
# the matrices match the kernels' bit for bit.

_PHILOX_M0, _PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
_PHILOX_W0, _PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
JL_TAGS = {"gaussian": 1, "sparse": 2, "srht_sign": 3, "srht_sample": 4}
_F32 = np.float32
_U32 = np.uint32


def philox4x32_10(counters, key):
    """Philox4x32-10 (Salmon et al. 2011): uint32 counters (..., 4) under key
    (k0, k1) -> uint32 blocks (..., 4)."""
    c = np.asarray(counters, dtype=np.uint32).astype(np.uint64)
    c0, c1, c2, c3 = (c[..., i] for i in range(4))
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    low = np.uint64(0xFFFFFFFF)
    for _ in range(10):
        p0 = c0 * np.uint64(_PHILOX_M0)
        p1 = c2 * np.uint64(_PHILOX_M1)
        c0, c1, c2, c3 = (p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & low, (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & low
        k0 = (k0 + np.uint64(_PHILOX_W0)) & low
        k1 = (k1 + np.uint64(_PHILOX_W1)) & low
    return np.stack([c0, c1, c2, c3], axis=-1).astype(np.uint32)


def _philox_key(seed):
    return (int(seed) & 0xFFFFFFFF, int(seed) >> 32)


def jl_words(seed, rows, q, tag):
    """The four words of blocks (row, q, tag) for every row x q: shape (rows, q, 4)."""
    rows = np.asarray(rows, dtype=np.uint64)[:, None]
    q = np.asarray(q, dtype=np.uint64)[None, :]
    shape = (rows.shape[0], q.shape[1])
    ctr = np.stack(
        [
            np.broadcast_to(q & np.uint64(0xFFFFFFFF), shape),
            np.broadcast_to(q >> np.uint64(32), shape),
            np.broadcast_to(rows, shape),
            np.full(shape, tag, dtype=np.uint64),
        ],
        axis=-1,
    )
    return philox4x32_10(ctr, _philox_key(seed))


def _log_unit(u):
    """ln(u) for float32 u in [2^-24, 1], as philox.hpp's log_unit."""
    bits = u.view(_U32)
    mant = bits & _U32(0x007FFFFF)
    adj = (mant + _U32(0x00800000 - 0x003504F3)) >> _U32(23)
    m = (mant | ((_U32(127) - adj) << _U32(23))).view(_F32)
    e = ((bits >> _U32(23)) + adj).astype(_F32) - _F32(127)
    s = (m - _F32(1)) / (m + _F32(1))
    z = s * s
    c = [_F32(float.fromhex(h)) for h in ("0x1.555556p-1", "0x1.99999ap-2", "0x1.24924ap-2", "0x1.c71c72p-3")]
    r = z * (c[0] + z * (c[1] + z * (c[2] + z * c[3])))
    ln_m = (s + s) + s * r
    return e * _F32(float.fromhex("0x1.62e4p-1")) + (e * _F32(float.fromhex("0x1.7f7d1cp-20")) + ln_m)


def _sincos_octant(b):
    """(cos t, sin t), t = 2 pi (b >> 8) 2^-24, as philox.hpp's sincos_octant."""
    octant = b >> _U32(29)
    offset = (b >> _U32(8)) & _U32(0x001FFFFF)
    odd = octant & _U32(1)
    tau = offset + odd * (_U32(0x00200000) - offset - offset)
    a = tau.astype(_F32) * _F32(float.fromhex("0x1.921fb6p-22"))
    a2 = a * a
    s = [_F32(float.fromhex(h)) for h in ("-0x1.555556p-3", "0x1.111112p-7", "-0x1.a01a02p-13", "0x1.71de3ap-19")]
    c = [_F32(float.fromhex(h)) for h in ("0x1.555556p-5", "-0x1.6c16c2p-10", "0x1.a01a02p-16", "-0x1.27e4fcp-22")]
    sa = a + a * (a2 * (s[0] + a2 * (s[1] + a2 * (s[2] + a2 * s[3]))))
    ca = _F32(1) + a2 * (_F32(-0.5) + a2 * (c[0] + a2 * (c[1] + a2 * (c[2] + a2 * c[3]))))
    quadrant = octant >> _U32(1)
    swap = (_U32(0) - (odd ^ (quadrant & _U32(1)))) & (sa.view(_U32) ^ ca.view(_U32))
    cos_sign = ((quadrant ^ (quadrant >> _U32(1))) & _U32(1)) << _U32(31)
    sin_sign = (quadrant >> _U32(1)) << _U32(31)
    return ((ca.view(_U32) ^ swap) ^ cos_sign).view(_F32), ((sa.view(_U32) ^ swap) ^ sin_sign).view(_F32)


def box_muller(a, b):
    """Two float32 standard normals from uint32 words (a, b), as philox.hpp's box_muller."""
    a = np.asarray(a, dtype=np.uint32)
    b = np.asarray(b, dtype=np.uint32)
    u = ((a >> _U32(8)) + _U32(1)).astype(_F32) * _F32(2.0**-24)
    r = np.sqrt(_log_unit(u) * _F32(-2))
    c, s = _sincos_octant(b)
    return r * c, r * s


def jl_normals(seed, n_components, n_features):
    """The gaussian kind's standard normals z(c, j), float32 (n_components, n_features)."""
    nq = (n_features + 3) // 4
    w = jl_words(seed, np.arange(n_components), np.arange(nq), JL_TAGS["gaussian"])
    z = np.empty(w.shape, dtype=np.float32)
    z[..., 0], z[..., 1] = box_muller(w[..., 0], w[..., 1])
    z[..., 2], z[..., 3] = box_muller(w[..., 2], w[..., 3])
    return z.reshape(n_components, 4 * nq)[:, :n_features]


def jl_sparse_half(density):
    """h of the sparse kind: floor(density * 2^31 + 0.5), in float64."""
    return int(np.floor(np.float64(density) * 2.0**31 + 0.5))


def jl_srht_signs(seed, n_features):
    """D of the SRHT: True where column j is negated."""
    nq = (n_features + 3) // 4
    w = jl_words(seed, [0], np.arange(nq), JL_TAGS["srht_sign"])[0].reshape(-1)[:n_features]
    return (w >> np.uint32(31)) == 1


def jl_srht_sample(seed, k, n):
    """The SRHT's sampled rows: Fisher-Yates on range(n), k steps, step t
    drawing floor(w (n - t) / 2^64) with w = x0 + 2^32 x1 of block (0, t)."""
    w = jl_words(seed, [0], np.arange(k), JL_TAGS["srht_sample"])[0]
    moved = {}
    out = []
    for t in range(k):
        word = int(w[t, 0]) | (int(w[t, 1]) << 32)
        pick = t + ((word * (n - t)) >> 64)
        vt, vp = moved.get(t, t), moved.get(pick, pick)
        moved[pick], moved[t] = vt, vp
        out.append(vp)
    return np.array(out, dtype=np.int64)


def walsh_hadamard(x):
    """Unnormalized Walsh-Hadamard transform along the last axis (length a
    power of two), stages h = 1, 2, 4, ... each (a, b) -> (a + b, a - b)."""
    y = np.array(x, copy=True)
    n = y.shape[-1]
    h = 1
    while h < n:
        v = y.reshape(y.shape[:-1] + (n // (2 * h), 2, h))
        a, b = v[..., 0, :].copy(), v[..., 1, :].copy()
        v[..., 0, :] = a + b
        v[..., 1, :] = a - b
        h *= 2
    return y


def _jl_scale(kind, n_components, density, dtype):
    if kind == "sparse":
        return dtype.type(np.sqrt(1.0 / (np.float64(density) * n_components)))
    return dtype.type(np.sqrt(1.0 / np.float64(n_components)))


def jl_components(n_components, n_features, *, kind="gaussian", density="auto", seed=0, dtype=np.float32):
    """Reference for :func:`logsketch.jl_components`, always as a dense ndarray."""
    dtype = np.dtype(dtype)
    density = 1 / np.sqrt(n_features) if isinstance(density, str) else density
    scale = _jl_scale(kind, n_components, density, dtype)
    if kind == "gaussian":
        return jl_normals(seed, n_components, n_features).astype(dtype) * scale
    if kind == "sparse":
        half = np.uint32(jl_sparse_half(density))
        nq = (n_features + 3) // 4
        w = jl_words(seed, np.arange(n_components), np.arange(nq), JL_TAGS["sparse"]).reshape(n_components, -1)
        w = w[:, :n_features]
        plus = w < half
        minus = ~plus & (w - half < half)
        return np.where(plus, scale, np.where(minus, -scale, dtype.type(0)))
    n = 1 << max(0, (n_features - 1).bit_length())
    rows = jl_srht_sample(seed, n_components, n).astype(np.uint64)
    cols = np.arange(n_features, dtype=np.uint64)
    parity = np.zeros((n_components, n_features), dtype=np.uint64)
    both = rows[:, None] & cols[None, :]
    while both.any():
        parity ^= both & np.uint64(1)
        both = both >> np.uint64(1)
    negative = (parity == 1) != jl_srht_signs(seed, n_features)[None, :]
    return np.where(negative, -scale, scale).astype(dtype)


def jl_project(X, n_components, *, kind="gaussian", density="auto", seed=0):
    """Reference for :func:`logsketch.jl_project`: ``X @ R.T`` in float64 with
    R = jl_components(..., dtype=X's dtype), rounded to X's dtype.  X dense or
    scipy.sparse, float32 or float64."""
    dtype = np.dtype(X.dtype)
    r = jl_components(n_components, X.shape[1], kind=kind, density=density, seed=seed, dtype=dtype)
    y = X.astype(np.float64) @ r.astype(np.float64).T
    return np.asarray(y).astype(dtype)


def _rsvd_cholqr_step(x):
    """X R^-1 with R^T R = X^T X, and whether a shift was needed: when X^T X is
    not positive definite, G + s I with s = (l + 1) eps tr(G) growing tenfold
    (at most to Fukaya et al.'s 11 (rows l + l (l + 1)) eps tr(G))."""
    import scipy.linalg

    rows, l = x.shape
    g = x.T @ x
    eps = np.finfo(x.dtype).eps
    most = 11 * (rows * l + l * (l + 1)) * eps * np.trace(g)
    shift, shifted = 0.0, False
    while True:
        try:
            r = np.linalg.cholesky(g + shift * np.eye(l, dtype=x.dtype)).T
            break
        except np.linalg.LinAlgError:
            if shift >= most:
                raise
            shift = min(most, (l + 1) * eps * np.trace(g) if not shifted else 10 * shift)
            shifted = True
    return scipy.linalg.solve_triangular(r, x.T, trans="T").T, shifted


def _rsvd_normalize(x, how):
    """One power-iteration normalization (logsketch.randomized_svd's `normalizer`)."""
    import scipy.linalg

    if how == "none":
        return x
    if how == "lu":
        return scipy.linalg.lu(x, permute_l=True)[0]
    if how == "qr":
        return np.linalg.qr(x)[0]
    x, shifted = _rsvd_cholqr_step(x)  # cholqr: a second pass after a shifted one
    return _rsvd_cholqr_step(x)[0] if shifted else x


def randomized_svd(A, n_components, *, n_oversamples=10, n_iter=4, normalizer="qr", transpose=False,
                   flip_sign=True, sketch="gaussian", seed=0, dtype=np.float64):
    """Reference for :func:`logsketch.randomized_svd`, its steps written out in
    numpy/scipy in `dtype` (float64 by default), with explicit arguments (no
    "auto").  A dense or scipy.sparse.  The final basis is Householder QR for
    every normalizer (the compiled cholqr path reaches the same span)."""
    dtype = np.dtype(dtype)
    A = A.astype(dtype)
    M = A.T if transpose else A
    p, q = M.shape
    k = n_components
    l = min(k + n_oversamples, p, q)
    omega = jl_components(l, q, kind=sketch, seed=seed, dtype=dtype).T
    y = np.asarray(M @ omega)
    for _ in range(n_iter):
        y = _rsvd_normalize(y, normalizer)
        z = _rsvd_normalize(np.asarray(M.T @ y), normalizer)
        y = np.asarray(M @ z)
    Q = np.linalg.qr(y)[0]
    B = np.asarray((M.T @ Q).T)
    ub, s, vbt = np.linalg.svd(B, full_matrices=False)
    u, vt = Q @ ub[:, :k], vbt[:k]
    if transpose:
        u, vt = vt.T, u.T
    if flip_sign:
        signs = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(k)])
        signs[signs == 0] = 1
        u, vt = u * signs, vt * signs[:, None]
    return np.ascontiguousarray(u), s[:k], np.ascontiguousarray(vt)


def _attention_lambda(n, d, scale, base, min_scale):
    """lambda_i per row in float64 (rows with n = 0 get 0; they output zeros)."""
    if isinstance(scale, str) and scale == "standard":
        return np.full(n.shape, 1 / np.sqrt(d))
    if not isinstance(scale, str):
        return np.full(n.shape, float(scale))
    factor = np.log(np.maximum(n, 1).astype(np.float64)) / np.log(float(base))
    if min_scale is not None:
        factor = np.maximum(factor, float(min_scale))
    return factor / np.sqrt(d)


def _attention_one(q, k, v, causal, lam_args, accumulate):
    """One (sequence, head): q (Lq, d), k (Lk, d), v (Lk, dv) -> out (Lq, dv), lse (Lq,)."""
    lq, d = q.shape
    lk = k.shape[0]
    i = np.arange(lq)
    n = np.clip(i + 1 + lk - lq, 0, lk) if causal else np.full(lq, lk)
    lam = _attention_lambda(n, d, *lam_args).astype(accumulate)
    out = np.zeros((lq, v.shape[1]), accumulate)
    lse = np.full(lq, -np.inf, accumulate)
    rows = n > 0
    if not (rows.any() and lk):
        return out, lse
    with np.errstate(invalid="ignore"):  # inf and NaN inputs propagate, as documented
        scores = (lam[:, None] * q.astype(accumulate)) @ k.astype(accumulate).T
        scores = np.where(np.arange(lk)[None, :] < n[:, None], scores, -np.inf)[rows]
        m = scores.max(axis=1, keepdims=True)
        p = np.exp(scores - m)
        total = p.sum(axis=1, keepdims=True)
        out[rows] = (p @ v.astype(accumulate)) / total
        lse[rows] = (m + np.log(total))[:, 0]
    return out, lse


def attention(q, k, v, *, causal=False, scale="entropy", base=512, min_scale=None, kv_lengths=None,
              return_lse=False, accumulate=np.float64):
    """Reference for :func:`logsketch.attention`: the scores materialized, masked
    and soft-maxed with numpy, one (batch, head) at a time, every step in
    ``accumulate`` (float64: the yardstick; the input dtype: what a plain
    implementation in that precision loses).  Returns arrays of ``accumulate``."""
    q, k, v = (np.asarray(x) for x in (q, k, v))
    batch, heads_q, seq_q, _ = q.shape
    group = heads_q // k.shape[1]
    out = np.zeros((batch, heads_q, seq_q, v.shape[3]), accumulate)
    lse = np.zeros((batch, heads_q, seq_q), accumulate)
    for b in range(batch):
        lk = k.shape[2] if kv_lengths is None else int(kv_lengths[b])
        for h in range(heads_q):
            out[b, h], lse[b, h] = _attention_one(q[b, h], k[b, h // group, :lk], v[b, h // group, :lk], causal,
                                                  (scale, base, min_scale), accumulate)
    return (out, lse) if return_lse else out


def attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, *, causal=False, scale="entropy", base=512,
                     min_scale=None, return_lse=False, accumulate=np.float64):
    """Reference for :func:`logsketch.attention_varlen`, sequence by sequence as
    :func:`attention` does (out (total_q, heads_q, d_v), lse (heads_q, total_q))."""
    q, k, v = (np.asarray(x) for x in (q, k, v))
    heads_q = q.shape[1]
    group = heads_q // k.shape[1]
    out = np.zeros((q.shape[0], heads_q, v.shape[2]), accumulate)
    lse = np.zeros((heads_q, q.shape[0]), accumulate)
    for b in range(len(cu_seqlens_q) - 1):
        qs = slice(int(cu_seqlens_q[b]), int(cu_seqlens_q[b + 1]))
        ks = slice(int(cu_seqlens_k[b]), int(cu_seqlens_k[b + 1]))
        for h in range(heads_q):
            out[qs, h], lse[h, qs] = _attention_one(q[qs, h], k[ks, h // group], v[ks, h // group], causal,
                                                    (scale, base, min_scale), accumulate)
    return (out, lse) if return_lse else out
