"""The randomized SVD, step by step as scikit-learn's range finder."""

from __future__ import annotations

import numpy as np

from .jl import jl_components


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
