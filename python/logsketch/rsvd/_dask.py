"""The randomized SVD of a dask array: the in-memory algorithm, step for step, across blocks.

A (m x n) is chunked along rows, and optionally along columns.  As in memory,
M = A^T when ``transpose`` (``"auto"``: m < n) and M = A otherwise, p x q:
M's blocks are A's blocks read transposed inside each task (a view; a CSR
block becomes CSC), never a rechunked or materialized A^T.  Per step:

- Y = M Omega: each task sketches its block with Omega's rows regenerated
  from the seed (the JL kernel on a dense block of whole rows, or a sparse
  sketch; the block's columns of the materialized l x q matrix, cached once
  per process, on a column chunk or a sparse block with a gaussian or SRHT
  sketch, as the in-memory CSR path does): nothing is broadcast.  Sparse
  blocks multiply through the in-memory factorization's CSR kernels.
  Partial products of a row block's column chunks are summed in the order
  of the chunks.  Y (p x l) is persisted on the workers.
- normalize(Y): Cholesky QR through the Gram matrix G = sum_r Y_r^T Y_r (a
  dask reduction), R factored on the driver with the in-memory path's shift
  rule (shifted when G is not positive definite, a second pass then, TSQR
  when even that fails), Y R^-1 applied lazily inside the next product.
  "qr" and "lu" use dask's TSQR (Householder per block), "none" a
  power-of-two rescaling.
- Z = M^T Q: per block M_rc^T Q_r, summed over the row blocks (a dask tree
  reduction): q x l, on the driver, where Z is normalized with the chosen
  normalizer.  Y = M Z: Z's row slice is the only data sent to a task.
- The final basis: Cholesky QR until a pass needs no shift, then once more,
  kept if orthonormal to 100 l eps, else TSQR; B^T = M^T Q, and B's SVD on
  the driver through a QR of B^T and the SVD of the l x l R.
- Untransposed: U = Q Ub[:, :k] lazy, from the persisted Y, signs flipped as
  in memory (a reduction over U's blocks finds each column's largest
  entry).  Transposed: A's U is M's Vt^T (m x k, on the driver, where its
  signs are flipped as in memory), returned as a dask array with A's row
  chunks, and A's Vt = (Q Ub[:, :k])^T is computed (k x n).

A is never gathered: a task holds one block, the block's slice of Z or
Omega (at most l x q), and one row block of Y.  The driver holds q x l
panels, q = min(m, n) with ``transpose="auto"``.  With ``mean`` the factored
matrix is A - 1 mean^T = M - u v^T (u = 1, v = mean for M = A; u = mean,
v = 1 for M = A^T, a shift of M's rows), implicitly: M Z - u (v^T Z) and
M^T Q - v (u^T Q), so sparse blocks stay sparse.  The sparse sketch's
density is 1/sqrt(q), as in memory.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .._backend.dask import (array_from_layer, check_array, check_block_dtype, check_block_finite,
                             dense_or_sparse, new_name, sum_over_blocks)
from .._validate import issparse
from ..jl import _cpu as _jl_cpu
from . import _cpu as _rsvd_cpu
from ..jl._spec import matrix_spec
from ..jl._spec import resolve_density


def as_input(A):
    """A as given, after the checks that need no computing (2-D, known chunks, a real dtype)."""
    check_array(A, "A", integers=True)
    return A


def _overflowed(dtype):
    hint = " or pass float64" if dtype == np.float32 else ""
    return OverflowError(f"the factorization overflowed {dtype}: A's entries are too large; scale A down{hint}")


@dataclass(frozen=True)
class _Blocks:
    """What a block's task needs to know of the whole: dtypes, the sketch, M's column offsets, M = A or A^T."""

    declared: np.dtype
    dtype: np.dtype
    sketch: object  # the JL MatrixSpec of Omega^T (l x q)
    col_starts: tuple
    transposed: bool = False

    @property
    def whole_rows(self):
        return len(self.col_starts) == 1

    def where(self, r, c):
        """A's index of M's block (r, c): what errors name."""
        return (c, r) if self.transposed else (r, c)


@dataclass(frozen=True)
class _Operand:
    """The factored M (p x q): A, or A^T read from A's blocks (a block's transpose is a view), never built."""

    A: object
    transposed: bool

    @property
    def shape(self):
        return self.A.shape[::-1] if self.transposed else self.A.shape

    @property
    def chunks(self):
        return self.A.chunks[::-1] if self.transposed else self.A.chunks

    @property
    def numblocks(self):
        return self.A.numblocks[::-1] if self.transposed else self.A.numblocks

    def key(self, r, c):
        return (self.A.name, c, r) if self.transposed else (self.A.name, r, c)


def _block(a, r, c, ctx):
    """M's block (r, c) from A's block, checked (the errors name A's block)."""
    check_block_dtype(a, "A", ctx.where(r, c), ctx.declared)
    a = dense_or_sparse(a, "A", integers=True, formats=("csr", "csc"))
    return a.T if ctx.transposed else a  # CSR <-> CSC, C <-> F order: no copy


def _dense(x):
    return x.toarray() if issparse(x) else np.asarray(x)


@functools.lru_cache(maxsize=2)
def _omega_rows(sketch, dtype):
    """Omega^T (l x q), materialized once per process for column-chunked and sparse blocks: O(l q) memory."""
    return _jl_cpu.components(sketch, dtype)


# --------------------------------------------------------------------------- block tasks


def _sketch_part(a, r, c, ctx):
    """A_rc Omega_c; NaN or infinity in the block is an error naming it."""
    a = _block(a, r, c, ctx)
    if ctx.sketch.kind == "sparse":  # skips entries: scan the block itself, as in memory
        check_block_finite(a, "A", ctx.where(r, c))
    if ctx.whole_rows and not (issparse(a) and ctx.sketch.kind != "sparse"):
        part = _jl_cpu.project(a.tocsr() if issparse(a) else a, ctx.sketch)
    else:  # as in memory, a CSR block meets a materialized gaussian or SRHT Omega
        c0 = ctx.col_starts[c]
        rows = _omega_rows(ctx.sketch, ctx.dtype)[:, c0 : c0 + a.shape[1]]
        if issparse(a) and not issparse(rows):
            part = _product(a, rows.T, False, ctx.dtype)
        else:  # a dense block, or the sparse kind's sparse Omega
            part = np.ascontiguousarray(_dense(rows @ a.T).T, dtype=ctx.dtype)
    if not np.isfinite(part).all():
        check_block_finite(a, "A", ctx.where(r, c))
        raise _overflowed(ctx.dtype)
    return part


def _product(a, x, adjoint, dtype):
    """a @ x, or a.T @ x when adjoint, in dtype: a sparse block through the
    in-memory factorization's CSR kernels (a CSC block as the CSR of its transpose)."""
    if issparse(a):
        if a.format == "csc":
            return _rsvd_cpu.csr_product(a.T, x, not adjoint).astype(dtype, copy=False)
        return _rsvd_cpu.csr_product(a, x, adjoint).astype(dtype, copy=False)
    return np.asarray((a.T if adjoint else a) @ x, dtype=dtype)


def _apply_part(a, z, r, c, ctx):
    """A_rc Z_c."""
    return _product(_block(a, r, c, ctx), z, False, ctx.dtype)


def _outer(u, w):
    """u w^T, with u None standing for the ones vector (broadcast, never built)."""
    return w if u is None else np.outer(u, w)


def _row_sum(parts, u, w):
    """Y_r = sum of the row block's partial products, in chunk order, minus u_r w^T when centering (w given)."""
    y = parts[0].copy() if len(parts) > 1 or w is not None else parts[0]
    for p in parts[1:]:
        y += p
    if w is not None:
        y -= _outer(u, w)
    return y


def _apply_t_part(a, y, t, center, r, c, ctx):
    """(M_rc - u_r v_c^T)^T Q_r with Q_r = Y_r T: one (1, q_c, l) term of M^T Q.

    ``center`` is None, or (u_r, v_c) with None for a ones vector.
    """
    q = y if t is None else y @ t
    w = _product(_block(a, r, c, ctx), q, True, ctx.dtype)
    if center is not None:
        u, v = center
        w -= _outer(v, q.sum(axis=0) if u is None else u @ q)
    return w[None]


def _gram(y, t):
    q = y if t is None else y @ t
    return (q.T @ q)[None]


def _largest(y, t):
    """Per column of U_r = Y_r t: the largest |entry| (first on ties) and its value, (1, 2, k)."""
    u = y @ t
    at = np.argmax(np.abs(u), axis=0)
    value = u[at, np.arange(u.shape[1])]
    return np.stack([np.abs(value), value])[None]


# --------------------------------------------------------------------------- graphs


def _starts(chunks):
    return tuple(int(s) for s in np.cumsum((0,) + tuple(chunks[:-1])))


def _context(M, spec):
    A = M.A
    declared = A.dtype
    dtype = check_array(A, "A", integers=True)
    q = M.shape[1]
    sketch = matrix_spec(spec.l, q, spec.sketch, resolve_density("auto", q), spec.seed)
    return _Blocks(declared, dtype, sketch, _starts(M.chunks[1]), M.transposed)


def _slices(x, chunks):
    """x cut along M's chunks; None (a ones vector, or no centering) stays None for every block."""
    return [None if x is None else x[s : s + size] for s, size in zip(_starts(chunks), chunks)]


def _panel(M, ctx, z, centering):
    """Y = M Z (z a q x l ndarray) or M Omega (z None), minus u w^T: a dask array of M's row chunks.

    ``centering`` is None or (u, w): u (p,) or None for ones, w (l,).
    """
    name, parts = new_name("logsketch-panel"), new_name("logsketch-part")
    l = ctx.sketch.k  # noqa: E741
    u, w = (None, None) if centering is None else centering
    layer = {}
    for c, c0 in enumerate(ctx.col_starts):
        if z is not None:
            layer[(name + "-z", c)] = z[c0 : c0 + M.chunks[1][c]]
    for r, u_r in enumerate(_slices(u, M.chunks[0])):
        for c in range(M.numblocks[1]):
            if z is None:
                layer[(parts, r, c)] = (_sketch_part, M.key(r, c), r, c, ctx)
            else:
                layer[(parts, r, c)] = (_apply_part, M.key(r, c), (name + "-z", c), r, c, ctx)
        layer[(name, r, 0)] = (_row_sum, [(parts, r, c) for c in range(M.numblocks[1])], u_r, w)
    return array_from_layer(name, layer, (M.chunks[0], (l,)), ctx.dtype, [M.A])


def _apply_t(M, ctx, panel, center):
    """M^T Q (q x l ndarray) for the panel Q = Y T (Y persisted, T None or l x l), minus v (u^T Q) when
    ``center`` = (u, v) is given (None for a ones vector)."""
    Y, t = panel
    u, v = (None, None) if center is None else center
    name = new_name("logsketch-apply-t")
    layer = {}
    for r, u_r in enumerate(_slices(u, M.chunks[0])):
        for c, v_c in enumerate(_slices(v, M.chunks[1])):
            part = None if center is None else (u_r, v_c)
            layer[(name, r, c, 0)] = (_apply_t_part, M.key(r, c), (Y.name, r, 0), t, part, r, c, ctx)
    W = sum_over_blocks(name, layer, M.numblocks[0], (M.chunks[1], (Y.shape[1],)), ctx.dtype, [M.A, Y]).compute()
    if not np.isfinite(W).all():
        raise _overflowed(ctx.dtype)
    return W


def _row_block_layer(Y, func, t):
    name = new_name("logsketch-rows")
    return name, {(name, r, 0, 0): (func, (Y.name, r, 0), t) for r in range(Y.numblocks[0])}


def _per_row_block(Y, func, t, chunks, dtype):
    name, layer = _row_block_layer(Y, func, t)
    return array_from_layer(name, layer, ((1,) * Y.numblocks[0],) + chunks, dtype, [Y])


def _gram_of(Y, t):
    l = Y.shape[1]  # noqa: E741
    name, layer = _row_block_layer(Y, _gram, t)
    return sum_over_blocks(name, layer, Y.numblocks[0], ((l,), (l,)), Y.dtype, [Y]).compute()


def _column_sums(a, r, c, ctx):
    """(1, 2, n_c): the block's column sums and sums of squares, in float64."""
    a = _block(a, r, c, ctx)
    a = a.astype(np.float64) if issparse(a) else np.asarray(a, dtype=np.float64)  # scipy sums in a's dtype
    squares = a.multiply(a) if issparse(a) else a * a
    return np.vstack([np.asarray(a.sum(axis=0)).ravel(), np.asarray(squares.sum(axis=0)).ravel()])[None]


def _column_totals(A):
    A = as_input(A)
    ctx = _Blocks(A.dtype, check_array(A, "A", integers=True), None, (0,) * A.numblocks[1])
    name = new_name("logsketch-colsum")
    layer = {(name, r, 0, c): (_column_sums, (A.name, r, c), r, c, ctx)
             for r in range(A.numblocks[0]) for c in range(A.numblocks[1])}
    return sum_over_blocks(name, layer, A.numblocks[0], ((2,), A.chunks[1]), np.float64, [A]).compute()


def column_mean(A):
    """The column means of a dask array A (float64 ndarray (n,)): one pass, a dask reduction."""
    return _column_totals(A)[0] / max(A.shape[0], 1)


def column_moments(A, center):
    """(mean, total variance) of A's columns in one pass, as the estimators compute them in memory:
    the variance with ddof=1 when centering (PCA), 0 otherwise."""
    sums, squares = _column_totals(A)
    m = A.shape[0]
    mean = sums / max(m, 1)
    total = float((squares - m * mean**2).sum())
    return mean, total / max(m - (1 if center and m > 1 else 0), 1)


# --------------------------------------------------------------------------- normalization


def _cholesky(G, rows):
    """(R, state): R upper triangular with R^T R = G, or G + s I (shifted Cholesky QR, the in-memory rule)."""
    import scipy.linalg

    if not np.isfinite(G).all():
        return None, "failed"
    try:
        return scipy.linalg.cholesky(G, lower=False, check_finite=False), "ok"
    except np.linalg.LinAlgError:
        pass
    l = G.shape[0]  # noqa: E741
    eps, trace = np.finfo(G.dtype).eps, float(np.trace(G))
    most = 11.0 * (rows * l + l * (l + 1)) * eps * trace
    if not (most > 0 and np.isfinite(most)):
        return None, "failed"
    shift = (l + 1) * eps * trace
    while True:
        shift = min(shift, most)
        try:
            return scipy.linalg.cholesky(G + shift * np.eye(l, dtype=G.dtype), lower=False, check_finite=False), "shifted"
        except np.linalg.LinAlgError:
            if shift >= most:
                return None, "failed"
            shift *= 10


def _inverse_upper(R):
    import scipy.linalg

    return scipy.linalg.solve_triangular(R, np.eye(R.shape[0], dtype=R.dtype), lower=False)


def _normalize_local(X, how):
    """The in-memory normalizers on the driver's q x l panel."""
    import scipy.linalg

    if how == "none":
        most = float(np.abs(X).max())
        return X if not (most > 0 and np.isfinite(most)) else np.ldexp(X, -np.frexp(most)[1]).astype(X.dtype)
    if how == "lu":
        return scipy.linalg.lu(X, permute_l=True, check_finite=False)[0].astype(X.dtype)
    if how == "cholqr":
        for _ in range(2):
            R, state = _cholesky(X.T @ X, X.shape[0])
            if state == "failed":
                break
            X = X @ _inverse_upper(R)
            if state == "ok":
                return X
    return np.linalg.qr(X)[0]


def _tsqr(Y, t):
    import dask.array as da

    Q = Y if t is None else Y.map_blocks(np.matmul, t, dtype=Y.dtype)
    return da.linalg.tsqr(Q)[0].persist(), None


def _cholqr_passes(Y, t, passes):
    """Cholesky QR passes on Y t until one needs no shift: (t, True) then, (t, False) when none did."""
    for _ in range(passes):
        R, state = _cholesky(_gram_of(Y, t), Y.shape[0])
        if state == "failed":
            return t, False
        inverse = _inverse_upper(R)
        t = inverse if t is None else t @ inverse
        if state == "ok":
            return t, True
    return t, False


def _normalize_panel(Y, how):
    """A well-conditioned basis of Y's span, as (Y, T) for Y T lazily, or (Q, None)."""
    if how == "none":
        import dask.array as da

        most = float(da.absolute(Y).max().compute())
        if not (most > 0 and np.isfinite(most)):
            return Y, None
        return Y, np.ldexp(np.eye(Y.shape[1], dtype=Y.dtype), -np.frexp(most)[1])
    if how == "cholqr":
        t, ok = _cholqr_passes(Y, None, 2)
        if ok:
            return Y, t
        return _tsqr(Y, t)
    return _tsqr(Y, None)  # "qr", and "lu": no distributed P L, Householder keeps the same span


def _orthonormalize_panel(Y, how):
    """An orthonormal basis of Y's span: CholQR2 (shifted CholQR3) checked to 100 l eps, else TSQR."""
    if how == "cholqr":
        t, ok = _cholqr_passes(Y, None, 2)
        if ok:
            t, ok = _cholqr_passes(Y, t, 1)
        if ok:
            l = Y.shape[1]  # noqa: E741
            off = np.abs(_gram_of(Y, t) - np.eye(l, dtype=Y.dtype)).max()
            if off <= 100 * l * np.finfo(Y.dtype).eps:
                return Y, t
    return _tsqr(Y, None)


# --------------------------------------------------------------------------- the factorization


def _flip_signs(panel, t, Vt):
    """Each column of U = panel t with its largest |entry| positive (first on ties), as in memory."""
    Y, t0 = panel
    tu = t if t0 is None else t0 @ t
    k = tu.shape[1]
    found = _per_row_block(Y, _largest, tu, ((2,), (k,)), Y.dtype).compute()
    block = np.argmax(found[:, 0, :], axis=0)  # the first block holding the largest
    signs = np.where(found[block, 1, np.arange(k)] < 0, -1, 1).astype(Y.dtype)
    return t * signs, Vt * signs[:, None]


def _small_svd(Bt, k):
    """Ub[:, :k], S[:k], Vb^T[:k] of B = Bt^T (l x q) through Bt = Q2 R and the SVD of the l x l R^T.

    As in memory, the tall q x l factor goes through a QR (Householder here)
    and only the l x l R through the SVD: an SVD of the wide B itself was
    several times slower (one LAPACK call, single-threaded).
    """
    Q2, R = np.linalg.qr(Bt)
    if not np.isfinite(R).all():  # LAPACK's SVD may not return on non-finite input
        raise _overflowed(Bt.dtype)
    Ur, S, Vrt = np.linalg.svd(R.T)
    return Ur[:, :k], S[:k], Vrt[:k] @ Q2.T


def _centering(M, ctx, mean):
    """(u, v) with M - u v^T the factored matrix (None for a ones vector), or None without a mean.

    A - 1 mean^T is M - 1 mean^T for M = A, and M - mean 1^T for M = A^T (a
    shift of M's rows): either way the blocks stay as they are, sparse or dense.
    """
    if mean is None:
        return None
    mean = np.ascontiguousarray(mean, dtype=ctx.dtype)
    return (mean, None) if M.transposed else (None, mean)


def _shift(ctx, center, z):
    """(u, v^T Z), or (u, v^T Omega) for z None: what centering takes off M Z (or M Omega); None without centering."""
    if center is None:
        return None
    u, v = center
    if z is None:
        v = np.ones(ctx.sketch.d, dtype=ctx.dtype) if v is None else v
        return u, _jl_cpu.project(v[None], ctx.sketch)[0]
    return u, (z.sum(axis=0) if v is None else v @ z)


def _signs(U):
    """+-1 per column of U (ndarray): its largest |entry| (the first on ties) made positive, the in-memory rule."""
    at = np.argmax(np.abs(U), axis=0)
    return np.where(U[at, np.arange(U.shape[1])] < 0, -1, 1).astype(U.dtype)


def _range_basis(M, ctx, spec, center):
    """The orthonormal basis of M's sketched range as a panel (Y persisted, T or None), after the power iterations."""
    how = spec.normalizer
    Y = _panel(M, ctx, None, _shift(ctx, center, None)).persist()
    for _ in range(spec.n_iter):
        Z = _normalize_local(_apply_t(M, ctx, _normalize_panel(Y, how), center), how)
        Y = _panel(M, ctx, Z, _shift(ctx, center, Z)).persist()
    return _orthonormalize_panel(Y, how)


def factor(A, spec, mean=None):
    """U (lazy dask array, A's row chunks), S, Vt (ndarrays) of A, or of A - 1 mean^T when mean (n,) is given.

    With ``spec.transpose`` M = A^T is factored (its sketch, its panels) and
    the factors swapped back: A's U is then M's small Vt^T, wrapped as a dask
    array, and A's Vt is M's distributed U, computed.
    """
    import dask.array as da

    M = _Operand(A, spec.transpose)
    ctx = _context(M, spec)
    dtype = ctx.dtype
    center = _centering(M, ctx, mean)
    panel = _range_basis(M, ctx, spec, center)
    Bt = _apply_t(M, ctx, panel, center)  # B^T = M^T Q, q x l
    Ub, S, Vt = _small_svd(Bt, spec.k)
    if not (np.isfinite(S).all() and np.isfinite(Vt).all()):
        raise _overflowed(dtype)
    t = np.ascontiguousarray(Ub, dtype=dtype)
    S = np.ascontiguousarray(S, dtype=dtype)
    Vt = np.ascontiguousarray(Vt, dtype=dtype)
    Yq, t0 = panel
    if M.transposed:  # A's U = M's Vt^T (m x k, on the driver): its signs are found here
        U = np.ascontiguousarray(Vt.T)
        if spec.flip_sign:
            signs = _signs(U)
            U *= signs
            t = t * signs
        tu = t if t0 is None else (t0 @ t).astype(dtype)
        Vt = Yq.map_blocks(np.matmul, tu, chunks=(Yq.chunks[0], (spec.k,)), dtype=dtype).compute()
        return da.from_array(U, chunks=(A.chunks[0], (spec.k,))), S, np.ascontiguousarray(Vt.T)
    if spec.flip_sign:
        t, Vt = _flip_signs(panel, t, Vt)
    tu = t if t0 is None else (t0 @ t).astype(dtype)
    U = Yq.map_blocks(np.matmul, tu, chunks=(Yq.chunks[0], (spec.k,)), dtype=dtype)
    return U, S, np.ascontiguousarray(Vt)
