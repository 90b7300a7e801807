"""JL random matrices, following the mapping documented in logsketch.jl (and in
cpp/common/philox.hpp and cpp/jl/jl_random.hpp) operation for operation, so
the matrices match the kernels' bit for bit."""

from __future__ import annotations

import numpy as np

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
