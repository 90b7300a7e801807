"""Randomized SVD: the rank-k U S V^T of Halko, Martinsson & Tropp (2011).

:func:`randomized_svd` is scikit-learn's ``sklearn.utils.extmath.randomized_svd``
with the same arguments, defaults and sign convention, so switching is a
change of import (``random_state`` becomes ``seed``).  What it adds:

- The whole algorithm runs in the compiled core with the GIL released: BLAS
  and LAPACK from the scipy-openblas32 library, multithreaded CSR products,
  and no copy or transpose of A (dense C or F order; CSR and CSC as given).
- One thread pool: OpenBLAS runs single-threaded inside logsketch's threads,
  each call on a fixed chunk of rows, so the result is bit-identical for any
  thread count (``set_num_threads``), and no second pool spins against the
  first on small machines.
- float32 stays float32 end to end (scikit-learn does the same); float64
  stays float64.
- The test matrix Omega is the transpose of a JL random matrix
  (:func:`logsketch.jl_components` with ``n_components = l`` rows, the
  factored matrix's column count as ``n_features``, and ``sketch`` as the
  kind), generated from ``seed`` on the fly: results are a pure function of
  the seed, with any thread count.
- A faster default normalizer (see ``normalizer`` below).

The steps, with M = A^T when ``transpose`` else A (p x q) and
l = min(n_components + n_oversamples, p, q)::

    Y = M Omega
    n_iter times:  Y = normalize(Y);  Z = normalize(M^T Y);  Y = M Z
    Q = orthonormalize(Y);  B = Q^T M;  B = Ub S Vb^T
    U = Q Ub[:, :k];  S = S[:k];  Vt = Vb^T[:k]   (swapped back if transposed)

which is scikit-learn's range finder and factorization.  B's SVD goes
through a Cholesky QR of B^T = Q2 R and LAPACK's gesdd of the small l x l R
(the same factors; B^T is q x l, tall), and LAPACK's gesdd of B itself when
B is numerically rank-deficient.  Capping l at
min(p, q) changes nothing where scikit-learn would succeed: the sketch then
already spans M's whole range.
"""

from __future__ import annotations

from .._backend import backend_of
from . import _cpu
from ._spec import NORMALIZERS, resolve  # noqa: F401  (NORMALIZERS: the public list)

__all__ = ["randomized_svd"]


def randomized_svd(A, n_components, *, n_oversamples=10, n_iter="auto", normalizer="auto", transpose="auto",
                   flip_sign=True, sketch="gaussian", seed=0):
    """Rank-k truncated SVD by randomized range finding: ``A ~ U @ diag(S) @ Vt``.

    Parameters
    ----------
    A : array_like (m, n), scipy.sparse matrix/array, or a CUDA array
        float32 or float64 (float16 is widened to float32; integers and bools
        become float64, as in scikit-learn).  Dense: C or Fortran order is
        used in place; other strides are copied to C order once.  Sparse:
        CSR and CSC are used as they are (other formats are converted to CSR,
        duplicates summed); the core builds the CSR of the transpose once
        (one more copy of the nonzeros) and never densifies.  CUDA arrays
        (torch, CuPy) run on the GPU when logsketch._cuda is built.  A dask
        array (dense or scipy.sparse chunks, chunked along rows and/or
        columns) is factored block by block without gathering it: U comes
        back as a lazy dask array with A's row chunks, S and Vt as ndarrays
        (the in-memory result to rounding, ``transpose`` included: a wide A
        is factored through A^T read block by block, so the driver holds
        min(m, n) x l panels), and NaN or infinity is reported with its
        block when computed (logsketch/rsvd/_dask.py, docs/scale-out.md).
    n_components : int
        k, in [1, min(m, n)].
    n_oversamples : int, default 10
        Extra sketch columns: l = min(k + n_oversamples, m, n).
    n_iter : int or "auto"
        Power iterations; "auto" is 7 if k < 0.1 min(m, n), else 4
        (scikit-learn's rule).
    normalizer : {"auto", "none", "lu", "qr", "cholqr"}
        How the power iterations keep the sketch well conditioned (case is
        ignored, so scikit-learn's "LU" and "QR" work):

        - "none": not at all, beyond a power-of-two rescaling (fine for
          n_iter <= 2 or fast-decaying spectra in float64; loses the small
          components otherwise);
        - "lu": P L of an LU factorization (scikit-learn's default);
        - "qr": Householder QR (the most stable, the slowest);
        - "cholqr": Cholesky QR, Y R^-1 with R^T R = Y^T Y: two BLAS-3 calls
          on the tall panel and one l x l Cholesky.  When Y^T Y is singular to
          working precision it shifts the Gram matrix (shifted Cholesky QR),
          and falls back to Householder if even that fails.  The final basis
          is Cholesky QR applied twice, checked orthonormal to 100 l eps, and
          Householder QR otherwise (rank-deficient sketches).
        - "auto": "cholqr", the fastest here at scikit-learn's accuracy.

        With "none", "lu" and "qr" the final basis is Householder QR, as in
        scikit-learn.
    transpose : bool or "auto"
        Factor A^T instead (cheaper when m < n); "auto" is ``m < n``.  The
        result is for A either way.
    flip_sign : bool, default True
        Make each column of U have its largest-magnitude entry positive
        (first on ties), negating the matching row of Vt: scikit-learn's
        ``svd_flip(U, Vt)`` convention, deterministic output.
    sketch : {"gaussian", "sparse", "srht"}
        The JL kind of the test matrix (:func:`logsketch.jl_components`); the
        sparse kind uses density 1/sqrt(q).
    seed : int
        In [0, 2**64); the result is a pure function of it.

    Returns
    -------
    U : ndarray (m, k), S : ndarray (k,), Vt : ndarray (k, n)
        C-contiguous, A's float dtype; S descending and non-negative; U and V
        have orthonormal columns to working precision.  For a CUDA A: the
        same framework's arrays on A's device.

    Raises
    ------
    TypeError
        A of complex, object or string dtype; argument of the wrong type
        (named).
    ValueError
        A not 2-D or with an empty dimension; n_components outside
        [1, min(m, n)]; negative n_oversamples or n_iter; unknown normalizer
        or sketch; A containing NaN or infinity.  With the "gaussian" and
        "srht" sketches every entry of A reaches the first sketch, so NaN and
        infinity are found there (a scan of the m x l sketch, not of A); the
        "sparse" sketch skips entries, so A is scanned first.
    OverflowError
        A finite A whose products overflow its dtype (entries within a few
        orders of magnitude of the float32 or float64 limit, say): scale A
        down, or pass float64.

    Notes
    -----
    Any finite magnitude is factored, tiny or huge: Cholesky QR hands its
    panel to Householder QR when the Gram matrix would overflow or vanish,
    and "none" rescales the sketch by a power of two between products (no
    rounding), so the power iterations' growth ``|A| ** (2 n_iter + 1)``
    neither overflows nor underflows.

    Examples
    --------
    >>> import numpy as np, logsketch
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((2000, 50)) @ rng.standard_normal((50, 1000))
    >>> U, S, Vt = logsketch.randomized_svd(A, 10, seed=1)
    >>> U.shape, S.shape, Vt.shape
    ((2000, 10), (10,), (10, 1000))
    >>> bool(np.allclose(S, np.linalg.svd(A, compute_uv=False)[:10]))
    True
    """
    args = (n_components, n_oversamples, n_iter, normalizer, transpose, flip_sign, sketch, seed)
    where = backend_of(A)
    if where == "dask":
        from . import _dask

        a = _dask.as_input(A)
        return _dask.factor(a, resolve(a.shape, *args))
    if where == "cuda":
        from . import _cuda

        a = _cuda.as_input(A)
        return _cuda.factor(a, resolve(a.shape, *args))
    fmt, A = _cpu.as_input(A)
    return _cpu.factor(fmt, A, resolve(A.shape, *args))
