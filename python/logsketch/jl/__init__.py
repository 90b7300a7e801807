"""JL random projection: N x d data to k dimensions with a random matrix that
is generated from a seed, tile by tile, and never stored.

The Johnson-Lindenstrauss lemma: N points keep their pairwise squared
distances within a factor 1 +- eps under a random projection to
k = O(log N / eps^2) dimensions (:func:`jl_min_dim`).  Three kinds of random
matrix R (n_components x n_features):

- ``"gaussian"``: entries N(0, 1/k).  A GEMM against R generated on the fly
  into cache (the fused kernel beat materializing R and calling OpenBLAS at
  every size measured in bench/bench_jl.py, so there is no BLAS path).
- ``"sparse"``: entries +-sqrt(s/k) with probability 1/(2s) each, 0
  otherwise, s = 1/density (Achlioptas 2003: density 1/3; Li, Hastie & Church
  2006: ``density="auto"`` = 1/sqrt(d)).  Applied with additions only; the
  scale multiplies each output once.
- ``"srht"``: sqrt(d'/k) R_s H D with D random signs, H the orthonormal
  Walsh-Hadamard matrix of order d' (d rounded up to a power of two) and R_s
  k sampled rows (Ailon & Chazelle's FJLT family): every entry is
  +-1/sqrt(k), and a row costs O(d' log d') through a fast Walsh-Hadamard
  transform.

The random matrix, bit for bit
------------------------------
R is a pure function of (kind, n_components k, n_features d, density, seed),
built from Philox4x32-10 (Salmon, Moraes, Dror & Shaw, SC 2011), so any
implementation (this CPU one, a CUDA one) can rebuild it exactly:

- key ``(k0, k1) = (seed mod 2**32, seed >> 32)``; seed in [0, 2**64).
- Entry (c, j) reads the block ``x0..x3 = Philox4x32-10(counter, key)`` with
  ``counter = (q mod 2**32, q >> 32, c, tag)``, ``q = j >> 2``, and its word
  ``x_w``, ``w = j & 3``.
- gaussian (tag 1): Box-Muller on (x0, x1) gives columns 4q (cosine) and
  4q+1 (sine); on (x2, x3) columns 4q+2 and 4q+3.  For words (a, b):
  ``u = ((a >> 8) + 1) * 2**-24`` in [2**-24, 1], ``r = sqrt(-2 ln u)``,
  ``t = 2 pi ((b >> 8) * 2**-24)``, ``z = (r cos t, r sin t)``, all in float32
  with IEEE +, -, *, / and sqrt only, in a fixed order: ln from the exponent
  and an atanh series, sin/cos from Taylor polynomials on the exactly reduced
  octant (the op-by-op definition is cpp/common/philox.hpp, mirrored in numpy
  by :func:`logsketch.reference.box_muller`).  |z - exact| < 3e-7 max(1, |z|);
  |z| <= 5.77.  The entry is ``z * sqrt(1/k)`` in the output dtype.
- sparse (tag 2): ``h = floor(density * 2**31 + 0.5)`` (float64); the entry
  is ``+sqrt(1/(density k))`` where ``x_w < h``, the negative where
  ``h <= x_w < 2h``, 0 elsewhere.
- srht: ``D_j = -1`` where bit 31 of word ``x_w`` of block (0, j >> 2, tag 3)
  is set.  The sampled rows s_0..s_{k-1} of H come from a Fisher-Yates
  shuffle of range(d'): step t reads block (0, t, tag 4) and swaps position t
  with ``t + floor((x0 + 2**32 x1) (d' - t) / 2**64)``; s_c is the value left
  at position c.  ``R[c, j] = sqrt(1/k) (-1)**popcount(s_c & j) D_j``.
- Scales are computed in float64 and rounded once to the dtype; entries are
  ``dtype(z) * dtype(scale)`` (so float32 and float64 matrices differ only by
  that rounding).

Results
-------
``jl_project(X, k, seed=s)`` equals ``X @ jl_components(k, d, seed=s).T``
within float summation error, and is bit-identical for any thread count and
any split of X into row chunks (each output row depends only on its input
row).  The sparse and srht kinds give the same bits at every SIMD level; the
gaussian kind too, except that the scalar level (no FMA) rounds each product
separately.  NaN and inf in X propagate: to every output of their row for
gaussian and srht, to the outputs whose row of R has a nonzero in their
column for sparse.

On the GPU
----------
CUDA arrays (torch tensors, CuPy arrays) run on their device and come back as
the same framework's arrays, on its current stream (logsketch/jl/_cuda.py):
the same argument checks, the same R bit for bit, and ``X @ R.T`` within float
summation error (not the CPU's bits: the GPU sums in another order).  float16
and bfloat16 are widened to float32; kind="srht" needs n_features <= 2**14
there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._backend import backend_of
from .._validate import check_choice, check_int, issparse, real_array
from . import _cpu
from ._spec import KINDS  # noqa: F401  (the kinds, for users of this module)
from ._spec import components_dtype, data_spec, matrix_spec

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)

__all__ = ["JLDistortion", "jl_components", "jl_distortion", "jl_min_dim", "jl_project"]


def jl_min_dim(n_samples, eps=0.1, *, rule="jl"):
    """The number of components that keeps N points' distances within 1 +- eps.

    Parameters
    ----------
    n_samples : int, float or array_like
        N, the number of points (>= 1, finite).
    eps : float or array_like
        The distortion, in (0, 1).  Broadcast against ``n_samples``.
    rule : {"jl", "entropy"}
        ``"jl"``: scikit-learn's ``johnson_lindenstrauss_min_dim``, exactly:
        ``int(4 ln N / (eps**2 / 2 - eps**3 / 3))``, truncated.
        ``"entropy"``: the minimum-entropy word-vector rule k > 8.33 ln N, the
        smallest such integer; ``eps`` is checked but unused.

    Returns
    -------
    int for scalar inputs, int64 ndarray of the broadcast shape otherwise.

    The lemma's bound holds with high probability, not for every seed: at
    k = jl_min_dim(N, eps) the tests (tests/test_jl_distortion.py) see every
    pair within eps at eps = 0.5 and at least 99.9% of pairs within eps at
    eps = 0.3 and 0.2, for every kind; check your own data with
    :func:`jl_distortion`.

    Raises
    ------
    TypeError
        Non-numeric ``n_samples`` or ``eps``, or a ``rule`` that is not a str.
    ValueError
        ``eps`` outside (0, 1), ``n_samples`` below 1, either not finite, or an
        unknown ``rule``.
    OverflowError
        ``eps`` so small that the number of components exceeds int64.

    Examples
    --------
    >>> import logsketch
    >>> logsketch.jl_min_dim(1_000_000, eps=0.5)
    663
    >>> logsketch.jl_min_dim([1e4, 1e5, 1e6], eps=0.1)
    array([ 7894,  9868, 11841])
    >>> logsketch.jl_min_dim(1_000_000, rule="entropy")
    116
    """
    rule = check_choice(rule, "rule", ("jl", "entropy"))
    n = real_array(n_samples, "n_samples")
    e = real_array(eps, "eps")
    if np.any(~np.isfinite(e)) or np.any(e <= 0) or np.any(e >= 1):
        raise ValueError(f"eps must be in (0, 1) (where the JL bound is defined); got {eps!r}")
    if np.any(~np.isfinite(n)) or np.any(n < 1):
        raise ValueError(f"n_samples must be a finite number >= 1; got {n_samples!r}")
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        if rule == "jl":
            k = 4 * np.log(n) / ((e**2 / 2) - (e**3 / 3))
        else:
            k = np.floor(8.33 * np.log(n)) + 1
    if np.any(~(k < 2.0**63)):  # eps**2 underflowing to 0 gives inf
        raise OverflowError(f"eps={eps!r} is too small: the number of components for n_samples={n_samples!r} "
                            "does not fit in an int64")
    out = k.astype(np.int64)
    return int(out) if out.ndim == 0 else out


def jl_components(n_components, n_features, *, kind="gaussian", density="auto", seed=0, dtype=np.float32):
    """The random matrix R that :func:`jl_project` multiplies by, materialized.

    For inspection and references: it takes O(n_components x n_features)
    memory, which :func:`jl_project` never does.

    Parameters
    ----------
    n_components : int
        k, in [1, 2**32).  For ``kind="srht"`` at most n_features rounded up
        to a power of two.
    n_features : int
        d, in [1, 2**32).
    kind : {"gaussian", "sparse", "srht"}
    density : "auto" or float
        The sparse kind's fraction of nonzeros, in [2**-32, 1]; "auto" is
        1/sqrt(n_features).  Checked for every kind, used by "sparse" only.
    seed : int
        In [0, 2**64).
    dtype : float32 or float64

    Returns
    -------
    ndarray (n_components, n_features) for "gaussian" and "srht";
    scipy.sparse.csr_array for "sparse".  Bit-identical for the same
    arguments on every call, thread count and SIMD level (the mapping is in
    this module's docstring).

    Raises
    ------
    TypeError
        Non-integer ``n_components``, ``n_features`` or ``seed``; a ``dtype``
        other than float32/float64; a non-str ``kind``.
    ValueError
        Values out of range (named), an unknown ``kind``, a dense R with more
        bytes than an address space holds.
    MemoryError
        R does not fit in memory (the message names n_components and
        n_features).

    Examples
    --------
    >>> import numpy as np, logsketch
    >>> R = logsketch.jl_components(3, 8, seed=1)
    >>> R.shape, R.dtype
    ((3, 8), dtype('float32'))
    >>> X = np.ones((2, 8), dtype=np.float32)
    >>> np.allclose(logsketch.jl_project(X, 3, seed=1), X @ R.T, rtol=1e-5)
    True
    """
    spec = matrix_spec(n_components, n_features, kind, density, seed)
    return _cpu.components(spec, components_dtype(dtype))


def jl_project(X, n_components, *, kind="gaussian", density="auto", seed=0):
    """Project the rows of X to ``n_components`` dimensions: ``X @ R.T``.

    R is :func:`jl_components` of the same arguments (and X's dtype), generated
    tile by tile: the memory beyond X and the result stays a few MiB whatever
    n_components x n_features is (the srht kind also keeps the n_features
    signs and one padded row per thread).  R is generated again on every
    call, k x n_features random numbers: for many calls on small chunks with a
    large k x n_features, a materialized R (:func:`jl_components`) and a
    matmul can be faster, if it fits.

    Parameters
    ----------
    X : array_like (n_samples, n_features), scipy.sparse matrix/array, or dask array
        float32 or float64 (float16 is widened to float32; a documented copy);
        C or Fortran order or any strides.  Sparse input of any format is
        converted to CSR with sorted indices (a copy unless it already is).
        n_samples may be 0.  A dask array (dense or scipy.sparse chunks, known
        chunk sizes) gives a lazy dask array with X's row chunks, bit-identical
        to the call on ``X.compute()``; column chunks are joined per row block
        (see logsketch/jl/_dask.py and docs/scale-out.md).
    n_components : int
        k, in [1, 2**32); for ``kind="srht"`` at most n_features rounded up to
        a power of two.
    kind, density, seed
        As :func:`jl_components`.

    Returns
    -------
    ndarray (n_samples, n_components), C-contiguous, of X's float dtype
    (dense for sparse X too).  Equal to ``X @ jl_components(...).T`` within
    float summation error, and bit-identical for any thread count and any split
    of X into row chunks; see the module docstring for SIMD levels and NaN/inf.

    Raises
    ------
    TypeError
        X of a non-float dtype (int, bool, complex, object), a CUDA array
        that is neither a torch tensor nor a CuPy array, or bad argument
        types (named).
    ValueError
        X not 2-D or with no columns, argument values out of range (named),
        or kind="srht" with n_features above 2**14 for a CUDA array.

    Examples
    --------
    >>> import numpy as np, logsketch
    >>> X = np.random.default_rng(0).standard_normal((1000, 4096), dtype=np.float32)
    >>> Y = logsketch.jl_project(X, 256, kind="srht", seed=7)
    >>> Y.shape, Y.dtype
    ((1000, 256), dtype('float32'))
    >>> d = logsketch.jl_distortion(X, Y, seed=0)
    >>> bool(d.max_distortion < 0.5)
    True
    """
    if type(X) is np.ndarray:  # the common call: an aligned C-contiguous float32/float64 matrix, used in place
        dtype = X.dtype
        if (dtype is _F32 or dtype is _F64) and X.ndim == 2:
            flags = X.flags
            if flags.aligned and flags.c_contiguous:
                return _cpu.project_dense(X, data_spec(X.shape, n_components, kind, density, seed))
    where = backend_of(X)
    if where == "dask":
        from . import _dask

        return _dask.project(X, n_components, kind, density, seed)
    if where == "cuda":
        from . import _cuda as backend
    else:
        backend = _cpu
    X = backend.as_input(X)
    return backend.project(X, data_spec(X.shape, n_components, kind, density, seed))


# --------------------------------------------------------------------------- distortion


@dataclass(frozen=True)
class JLDistortion:
    """Squared-distance ratios ||y_i - y_j||^2 / ||x_i - x_j||^2 on sampled pairs.

    Attributes
    ----------
    ratios : float64 ndarray (n,)
    pairs : int64 ndarray (n, 2), i < j: the pairs the ratios belong to (pairs
        of identical points, whose ratio is undefined, are left out).
    min, max, mean, std : float
        Summary of ``ratios`` (NaN when there are none).
    max_distortion : float
        max |ratio - 1|: the smallest eps the sample satisfies.
    """

    ratios: np.ndarray
    pairs: np.ndarray
    min: float
    max: float
    mean: float
    std: float
    max_distortion: float

    def fraction_within(self, eps):
        """The fraction of pairs with |ratio - 1| <= eps."""
        if self.ratios.size == 0:
            return float("nan")
        return float(np.mean(np.abs(self.ratios - 1) <= eps))


def _sample_pairs(n, n_pairs, seed):
    """Distinct pairs (i < j) of range(n): all of them, or n_pairs drawn from seed."""
    total = n * (n - 1) // 2
    if n_pairs is None or n_pairs >= total:
        i, j = np.triu_indices(n, k=1)
        return np.stack([i, j], axis=1).astype(np.int64)
    t = np.sort(np.random.default_rng(seed).choice(total, size=n_pairs, replace=False)).astype(np.int64)
    # Pair t in row-major order of the upper triangle: row i starts at
    # S(i) = i (2n - i - 1) / 2; invert with a float estimate, then fix it up.
    i = np.floor(((2 * n - 1) - np.sqrt((2.0 * n - 1) ** 2 - 8.0 * t)) / 2).astype(np.int64)
    start = lambda r: r * (2 * n - r - 1) // 2  # noqa: E731
    i = np.where(start(i) > t, i - 1, i)
    i = np.where(start(i + 1) <= t, i + 1, i)
    j = t - start(i) + i + 1
    return np.stack([i, j], axis=1)


def _squared_distances(Z, pairs):
    out = np.empty(len(pairs), dtype=np.float64)
    for s in range(0, len(pairs), 4096):  # bounded temporaries
        p = pairs[s : s + 4096]
        diff = Z[p[:, 0]] - Z[p[:, 1]]
        if issparse(diff):
            out[s : s + 4096] = np.asarray(diff.multiply(diff).sum(axis=1), dtype=np.float64).ravel()
        else:
            diff = diff.astype(np.float64)
            out[s : s + 4096] = np.einsum("ij,ij->i", diff, diff)
    return out


def jl_distortion(X, Y, n_pairs=1000, *, seed=0):
    """How well Y = projection(X) keeps the pairwise squared distances of X.

    Parameters
    ----------
    X : array_like (n_samples, n_features) or scipy.sparse
        The original points (any real dtype).
    Y : array_like (n_samples, n_components)
        Their projections.
    n_pairs : int or None
        How many distinct pairs to sample; None (or at least all pairs) uses
        every pair.
    seed : int
        Seed of the pair sample (numpy's default_rng), an int >= 0.

    Returns
    -------
    JLDistortion
        The ratios, the pairs, and summary statistics (``max_distortion`` is
        the smallest eps the sampled pairs satisfy).

    Raises
    ------
    TypeError
        Non-numeric X or Y, a non-integer n_pairs or seed.
    ValueError
        X or Y not 2-D, different numbers of rows, fewer than 2 rows,
        n_pairs < 1 or seed < 0.

    Examples
    --------
    >>> import numpy as np, logsketch
    >>> X = np.random.default_rng(1).standard_normal((200, 1000))
    >>> k = logsketch.jl_min_dim(200, eps=0.5)
    >>> result = logsketch.jl_distortion(X, logsketch.jl_project(X, k), n_pairs=None)
    >>> result.fraction_within(0.5)
    1.0
    """
    if not issparse(X):
        X = real_array(X, "X", ndim=2)
    elif X.ndim != 2:
        raise ValueError(f"X must be 2-D; got shape {X.shape}")
    Y = real_array(Y, "Y", ndim=2)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must have the same number of rows; got {X.shape[0]} and {Y.shape[0]}")
    if X.shape[0] < 2:
        raise ValueError(f"X and Y need at least 2 rows to form a pair; got {X.shape[0]}")
    if n_pairs is not None:
        n_pairs = check_int(n_pairs, "n_pairs", 1)
    seed = check_int(seed, "seed", 0)
    if issparse(X):
        X = X.tocsr()
    pairs = _sample_pairs(X.shape[0], n_pairs, seed)
    dx = _squared_distances(X, pairs)
    dy = _squared_distances(Y, pairs)
    keep = dx > 0
    ratios, pairs = dy[keep] / dx[keep], pairs[keep]
    if ratios.size == 0:
        nan = float("nan")
        return JLDistortion(ratios, pairs, nan, nan, nan, nan, nan)
    return JLDistortion(
        ratios,
        pairs,
        float(ratios.min()),
        float(ratios.max()),
        float(ratios.mean()),
        float(ratios.std()),
        float(np.abs(ratios - 1).max()),
    )
