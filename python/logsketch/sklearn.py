"""The scikit-learn estimators: JLProjection and RandomizedSVD.

scikit-learn is imported here only (``import logsketch`` never imports it).
When it is installed the estimators are ``TransformerMixin`` /
``BaseEstimator`` subclasses that pass
``sklearn.utils.estimator_checks.check_estimator``; without it they stand on
a small plain base with the same interface (``get_params``, ``set_params``,
``fit_transform``, a repr) and the same input checks, built from
:mod:`logsketch._validate`.

They are drop-ins for scikit-learn's ``GaussianRandomProjection`` /
``SparseRandomProjection`` (:class:`JLProjection`) and ``TruncatedSVD`` /
``PCA(svd_solver="randomized")`` (:class:`RandomizedSVD`): scikit-learn's own
tests of those estimators run against them (tests/sklearn_suite/), and
docs/sklearn-migration.md maps every argument.  Data enters through
``_Estimator._checked``, which names the backend of X
(:func:`logsketch._backend.backend_of`) before anything converts it: numpy
and scipy.sparse through scikit-learn's checks, dask arrays (fit, transform,
fit_transform, inverse_transform) lazily, dask imported only then.
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np

from . import exceptions
from ._backend import backend_of
from ._validate import as_dense_matrix, as_sparse, check_bool, check_int, issparse
from .jl import jl_components, jl_min_dim, jl_project
from .jl._spec import matrix_spec
from .rsvd import _cpu as _rsvd_cpu
from .rsvd._spec import resolve

__all__ = ["JLProjection", "RandomizedSVD"]

try:
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
    from sklearn.exceptions import DataDimensionalityWarning as _SklearnDimensionalityWarning
    from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
    from sklearn.utils.validation import validate_data
except ImportError:
    _SKLEARN = False
else:
    _SKLEARN = True


def _params(cls):
    """The constructor's parameter names (scikit-learn's convention: one attribute each)."""
    return tuple(p for p in inspect.signature(cls.__init__).parameters if p != "self")


def _check_features(est, X, reset):
    if reset:
        est.n_features_in_ = X.shape[1]
    elif X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting {est.n_features_in_} features as input"
        )


def _is_dask(X):
    return backend_of(X) == "dask"


def _lazy_product(X, M, shift=None, finite=False):
    """X @ M - shift as a lazy dask array with X's row chunks; scipy.sparse blocks stay sparse.

    X (dask, a float dtype) may be chunked along columns: the partial products
    of a row block's column chunks are summed in chunk order.  With ``finite``
    a block holding NaN or infinity is a ValueError naming it, when computed.
    """
    import functools
    import operator

    starts = np.cumsum((0,) + X.chunks[1][:-1])
    meta = np.empty((0, 0), dtype=M.dtype)
    parts = [
        X.blocks[:, c].map_blocks(_block_product, M[c0 : c0 + width], c, X.dtype, finite, dtype=M.dtype, meta=meta,
                                  chunks=(X.chunks[0], (M.shape[1],)))
        for c, (c0, width) in enumerate(zip(starts, X.chunks[1]))
    ]
    out = functools.reduce(operator.add, parts)
    return out if shift is None else out - shift


def _block_product(block, M, c, declared, finite, block_id=None):
    from ._backend.dask import check_block_dtype, check_block_finite, dense_or_sparse

    where = (block_id[0], c)
    check_block_dtype(block, "X", where, declared)
    block = dense_or_sparse(block, "X", integers=True, formats=("csr", "csc"))
    if finite:
        check_block_finite(block, "X", where)
    return np.asarray(block @ M, dtype=M.dtype)


class _PlainBase:
    """get_params, set_params, a repr and scikit-learn's input checks, without scikit-learn."""

    def get_params(self, deep=True):
        return {p: getattr(self, p) for p in _params(type(self))}

    def set_params(self, **values):
        params = _params(type(self))
        for p, value in values.items():
            if p not in params:
                raise ValueError(f"invalid parameter {p!r} for {type(self).__name__}; valid ones: {params}")
            setattr(self, p, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in _params(type(self)))
        return f"{type(self).__name__}({args})"

    def _validate(self, X, reset):
        try:
            if issparse(X):
                X = as_sparse(X, "X", integers=True, formats=("csr", "csc"))
                values = X.data
            else:
                X = values = as_dense_matrix(X, "X", integers=True, what="a 2-D array of real numbers")
        except TypeError as exc:  # scikit-learn's validate_data raises ValueError for these
            raise ValueError(str(exc)) from None
        if X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"Found array with shape {X.shape}; at least 1 sample and 1 feature are required")
        if not self._allow_nan and not np.isfinite(values).all():
            raise ValueError("X must not contain NaN or infinity")
        _check_features(self, X, reset)
        return X


if _SKLEARN:

    class _NotFittedError(exceptions.NotFittedError, _SklearnNotFittedError):
        """Caught as logsketch's NotFittedError and as scikit-learn's."""

    class _DimensionalityWarning(exceptions.DataDimensionalityWarning, _SklearnDimensionalityWarning):
        """Caught as logsketch's DataDimensionalityWarning and as scikit-learn's."""

    class _Base(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
        def _validate(self, X, reset):
            return validate_data(self, X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], reset=reset,
                                 ensure_all_finite=not self._allow_nan)

        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.sparse = True
            tags.input_tags.allow_nan = self._allow_nan
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
            return tags

else:
    _NotFittedError = exceptions.NotFittedError
    _DimensionalityWarning = exceptions.DataDimensionalityWarning
    _Base = _PlainBase


class _Estimator(_Base):
    """What both estimators share: fitted state is ``n_components_``."""

    _allow_nan = False

    def _backend(self, X, dask=True):
        """The backend that runs X (:func:`logsketch._backend.backend_of`), named before anything converts X.

        numpy always; dask where the method has a lazy path (``dask``).
        """
        backend = backend_of(X)
        if backend == "numpy" or (backend == "dask" and dask):
            return backend
        runs_on = ("numpy arrays, scipy.sparse matrices and dask arrays" if dask
                   else "numpy arrays and scipy.sparse matrices")
        raise TypeError(
            f"{type(self).__name__} runs on {runs_on}; got a {backend} array ({type(X).__name__}): call the "
            "functions of logsketch on it, or convert it to numpy"
        )

    def _checked(self, X, reset, dask=True):
        """X checked and converted for its backend: the one door data comes in by.

        numpy arrays, anything ``np.asarray`` takes and scipy.sparse run on the
        CPU through scikit-learn's checks (:meth:`_validate`).  A dask array
        (``dask``: the methods with a lazy path) gets the checks that need no
        computing (2-D, known chunks, at least one sample and feature, the
        feature count), ints and float16 become a lazy ``astype`` to the float
        dtype; the blocks' checks run in their tasks.
        """
        if self._backend(X, dask) == "dask":
            return self._checked_dask(X, reset)
        return self._validate(X, reset=reset)

    def _checked_dask(self, X, reset, features=True):
        from ._backend.dask import check_array

        dtype = check_array(X, "X", integers=True)
        if X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"Found array with shape {X.shape}; at least 1 sample and 1 feature are required")
        if reset:
            self.__dict__.pop("feature_names_in_", None)  # a dask array has no column names
        if features:
            _check_features(self, X, reset)
        return X if X.dtype == dtype else X.astype(dtype)

    def _checked_output_space(self, X):
        """X of shape (n_samples, n_components_) for inverse_transform: float32/float64 kept, ints -> float64."""
        if self._backend(X) == "dask":
            X = self._checked_dask(X, False, features=False)
        elif issparse(X):
            X = as_sparse(X, "X", integers=True, formats=("csr", "csc"))
        else:
            X = as_dense_matrix(X, "X", integers=True, what="a 2-D array of real numbers")
        if X.shape[1] != self.n_components_:
            raise ValueError(f"X must have shape (n_samples, {self.n_components_}); got {X.shape}")
        return X

    def _check_fitted(self):
        if not hasattr(self, "n_components_"):
            raise _NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments "
                "before using this estimator."
            )

    @property
    def _n_features_out(self):
        return self.n_components_


class JLProjection(_Estimator):
    """Random projection to ``n_components`` dimensions (Johnson-Lindenstrauss).

    A drop-in for scikit-learn's ``GaussianRandomProjection``
    (``kind="gaussian"``) and ``SparseRandomProjection`` (``kind="sparse"``):
    the same parameters with ``random_state`` spelled ``seed``, the same
    attributes, and ``kind="srht"`` besides.

    Parameters
    ----------
    n_components : int or "auto"
        The target dimension k.  "auto" takes ``jl_min_dim(n_samples, eps)``
        at fit time (an error if that exceeds n_features, as in
        scikit-learn's random projections).
    eps : float
        The distortion "auto" aims for, in (0, 1).
    kind : {"gaussian", "sparse", "srht"}
    density : "auto" or float
        The sparse kind's fraction of nonzeros ("auto": 1/sqrt(n_features)).
    dense_output : bool, default False
        For ``kind="sparse"`` and sparse X: False (scikit-learn's default)
        returns ``X @ components_.T`` as a scipy.sparse CSR matrix, which
        materializes the sparse R once (``components_``: about
        k * n_features * density nonzeros) and multiplies with scipy;
        True returns a dense array from the matrix-free kernel.  Dense X, and
        the dense kinds (whose R has no zeros), always give a dense array.
    compute_inverse_components : bool, default False
        Compute ``inverse_components_`` at fit time (materializes R and its
        pseudo-inverse: O(k x n_features) memory and O(k^2 n_features) time).
    seed : int
        In [0, 2**64); the projection is a pure function of it (see
        :mod:`logsketch.jl` for the exact mapping).

    Attributes
    ----------
    n_components_ : int
        The resolved k.
    density_ : float
        The resolved density; ``kind="sparse"`` only (as scikit-learn's
        ``SparseRandomProjection``).
    inverse_components_ : ndarray (n_features, n_components_)
        The pseudo-inverse of ``components_``; only with
        ``compute_inverse_components=True``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on data with string column names (scikit-learn only).
    components_ : ndarray (k, n_features) or scipy.sparse.csr_array
        The random matrix in the dtype of the data seen by fit (sparse for the
        sparse kind).  Not stored by fit: a property that materializes it on
        first access, O(k x n_features) memory for the dense kinds and
        O(k x n_features x density) for the sparse one, then keeps it;
        ``transform`` of dense X never needs it.

    Notes
    -----
    ``fit`` learns only the number of features and k; ``transform(X)`` is
    ``jl_project(X, n_components_, kind=..., density=..., seed=...)`` (except
    for sparse output, above), and ``fit_transform`` reads X's values once.
    Inputs follow scikit-learn's conventions (integer and bool data are
    converted to float64; COO, LIL and DOK input is converted to CSR, as
    scikit-learn does), except that NaN and inf pass through to the output as
    in :func:`logsketch.jl_project` (the ``allow_nan`` tag): checking for them
    took a pass over X as long as a sparse projection.  The random matrix is
    logsketch's own (Philox, matrix-free), not scikit-learn's stream: the
    same ``seed`` gives the same R on every machine, but not the R that
    ``random_state`` gives scikit-learn.  ``inverse_transform`` multiplies by
    the pseudo-inverse of ``components_``; it is computed on the first call
    and kept (scikit-learn recomputes it on every call unless
    ``compute_inverse_components``).

    Dask arrays (dense or scipy.sparse chunks, known chunk sizes): ``fit``
    reads only the shape and dtype; ``transform`` and ``fit_transform`` are
    :func:`logsketch.jl_project` on the dask array, a lazy dask array with X's
    row chunks that equals the in-memory result bit for bit, always dense
    (``dense_output`` does not apply); ``inverse_transform`` is lazy too.
    Integer dask arrays are converted to float64 lazily; a block's wrong dtype
    is reported, naming the block, when computed (docs/scale-out.md).

    Examples
    --------
    >>> import numpy as np, logsketch
    >>> X = np.random.default_rng(0).standard_normal((500, 2000))
    >>> est = logsketch.JLProjection(eps=0.5, kind="sparse", seed=3).fit(X)
    >>> est.n_components_
    298
    >>> est.transform(X).shape
    (500, 298)
    """

    _allow_nan = True

    def __init__(self, n_components="auto", *, eps=0.1, kind="gaussian", density="auto", dense_output=False,
                 compute_inverse_components=False, seed=0):
        self.n_components = n_components
        self.eps = eps
        self.kind = kind
        self.density = density
        self.dense_output = dense_output
        self.compute_inverse_components = compute_inverse_components
        self.seed = seed

    def fit(self, X, y=None):
        """Learn n_features_in_ and n_components_ from X's shape (y is ignored)."""
        self._fit(self._checked(X, reset=True))
        return self

    def fit_transform(self, X, y=None):
        """fit(X) then transform(X), converting and checking X once."""
        X = self._checked(X, reset=True)
        self._fit(X)
        return self._project(X)

    def _fit(self, X):
        n_samples, n_features = X.shape
        if isinstance(self.n_components, str):
            if self.n_components != "auto":
                raise ValueError(f"n_components must be an int or 'auto'; got {self.n_components!r}")
            k = jl_min_dim(n_samples, eps=self.eps)
            if k <= 0:
                raise ValueError(f"eps={self.eps} and n_samples={n_samples} lead to a target dimension of {k}")
            if k > n_features:
                raise ValueError(
                    f"eps={self.eps:f} and n_samples={n_samples} lead to a target dimension of {k} which is larger "
                    f"than the original space with n_features={n_features}"
                )
        else:
            k = check_int(self.n_components, "n_components", 1)
            if k > n_features:
                warnings.warn(
                    f"The number of components is higher than the number of features: n_features < n_components "
                    f"({n_features} < {k}): the dimension is not reduced",
                    _DimensionalityWarning,
                    stacklevel=3,
                )
        spec = matrix_spec(k, n_features, self.kind, self.density, self.seed)
        check_bool(self.dense_output, "dense_output")
        inverse = check_bool(self.compute_inverse_components, "compute_inverse_components")
        for stale in ("_components", "_inverse_components", "inverse_components_", "density_"):
            self.__dict__.pop(stale, None)
        self.n_components_ = k
        self._dtype = X.dtype
        if spec.kind == "sparse":
            self.density_ = spec.density
        if inverse:
            self.inverse_components_ = self._inverse()

    def transform(self, X):
        """Project X: (n_samples, n_features) -> (n_samples, n_components_), X's float dtype.

        Sparse X with ``kind="sparse"`` and ``dense_output=False`` gives a
        scipy.sparse CSR result; a dask array a lazy dense dask array with X's
        row chunks; every other input a C-contiguous ndarray.
        """
        self._check_fitted()
        return self._project(self._checked(X, reset=False))

    def _project(self, X):
        if issparse(X) and self.kind == "sparse" and not self.dense_output:  # never a dask array
            R = self.components_
            return (X @ R.astype(X.dtype, copy=False).T).tocsr()
        return jl_project(X, self.n_components_, kind=self.kind, density=self.density, seed=self.seed)

    def inverse_transform(self, X):
        """Map projected points back: X @ pinv(components_).T, (n, n_components_) -> (n, n_features_in_).

        X may be dense or sparse; the result is dense (n_samples x
        n_features_in_).  Applying ``transform`` to it gives X back when
        ``components_`` has full row rank.
        """
        self._check_fitted()
        X = self._checked_output_space(X)
        inverse = self.__dict__.get("inverse_components_")
        if inverse is None:
            inverse = self.__dict__.get("_inverse_components")
        if inverse is None:
            inverse = self._inverse_components = self._inverse()
        if _is_dask(X):
            return _lazy_product(X, inverse.T.astype(np.result_type(X.dtype, inverse.dtype), copy=False))
        return np.asarray(X @ inverse.T)

    def _inverse(self):
        """pinv(components_), (n_features, k), in the components' dtype."""
        import scipy.linalg

        r = self.components_
        return scipy.linalg.pinv(r.toarray() if issparse(r) else r, check_finite=False)

    @property
    def components_(self):
        self._check_fitted()
        r = self.__dict__.get("_components")
        if r is None:
            r = jl_components(
                self.n_components_,
                self.n_features_in_,
                kind=self.kind,
                density=self.density,
                seed=self.seed,
                dtype=self._dtype,
            )
            self._components = r
        return r


def _column_moments(A):
    """(column means, sum over X's entries of (x_ij - mean_j)**2) in float64.

    A is dense or a canonical CSR/CSC matrix (never densified; the implicit
    zeros count as (0 - mean_j)**2 each).  Two passes, no cancellation.
    """
    n, d = A.shape
    if issparse(A):
        cols = A.indices if A.format == "csr" else np.repeat(np.arange(d), np.diff(A.indptr))
        data = A.data.astype(np.float64)
        mean = np.bincount(cols, weights=data, minlength=d) / n
        diff = data - mean[cols]
        zeros = n - np.bincount(cols, minlength=d)
        return mean, float(diff @ diff + zeros @ mean**2)
    mean = A.mean(axis=0, dtype=np.float64)
    total = 0.0
    for start in range(0, n, 4096):  # bounded float64 temporaries
        block = A[start : start + 4096] - mean
        total += float(np.einsum("ij,ij->", block, block))
    return mean, total


def _flip_rows_of_vt(U, Vt):
    """Make each row of Vt have its largest-magnitude entry positive (the first on ties), U's columns with it: U.

    scikit-learn's ``svd_flip(U, Vt, u_based_decision=False)``, the convention
    of its TruncatedSVD and PCA.
    """
    rows = np.arange(Vt.shape[0])
    signs = np.where(Vt[rows, np.argmax(np.abs(Vt), axis=1)] < 0, -1, 1).astype(Vt.dtype)
    Vt *= signs[:, None]
    if _is_dask(U):
        return U * signs  # lazy
    U *= signs
    return U


class RandomizedSVD(_Estimator):
    """Truncated SVD (``center=False``) or PCA (``center=True``) by :func:`logsketch.randomized_svd`.

    A drop-in for scikit-learn's ``TruncatedSVD(algorithm="randomized")``
    (``center=False``) and ``PCA(svd_solver="randomized")`` (``center=True``):
    the same attributes and methods, with ``random_state`` spelled ``seed``,
    ``power_iteration_normalizer`` spelled ``normalizer`` and PCA's
    ``iterated_power`` spelled ``n_iter`` (docs/sklearn-migration.md).

    Parameters
    ----------
    n_components : int or None, default 2
        k, in [1, min(n_samples, n_features)] at fit time; None takes
        min(n_samples, n_features) (PCA's default).
    n_oversamples : int, default 10
    n_iter : int or "auto", default 5
        Power iterations (5 as scikit-learn's TruncatedSVD; PCA's default is
        "auto").
    center : bool, default False
        Factor X - mean (PCA) instead of X.  The mean is subtracted inside the
        products (M x - 1 (mean . x)), so sparse X stays sparse and is never
        copied or densified (scikit-learn's PCA refuses sparse X with the
        randomized solver).
    whiten : bool, default False
        Divide the projections by sqrt(explained_variance_), so that the
        components of ``fit_transform(X)`` have unit variance (PCA's
        ``whiten``); ``inverse_transform`` undoes it.
    normalizer : {"auto", "none", "lu", "qr", "cholqr"}
        As :func:`logsketch.randomized_svd` ("LU" and "QR" are accepted too).
    seed : int
        In [0, 2**64); the fit is a pure function of it.

    Attributes
    ----------
    components_ : ndarray (n_components, n_features)
        Vt: the right singular vectors, each row flipped so that its
        largest-magnitude entry is positive (scikit-learn's TruncatedSVD and
        PCA convention, ``svd_flip(U, Vt, u_based_decision=False)``; the
        function :func:`logsketch.randomized_svd` keeps its U-based flip, as
        scikit-learn's ``randomized_svd`` does).
    singular_values_ : ndarray (n_components,)
    explained_variance_ : ndarray (n_components,)
        center=True: S**2 / (n_samples - 1), PCA's, which is exactly the
        variance (ddof=1) of the columns of ``fit_transform(X)``;
        center=False: the variance (ddof=0) of the columns of
        ``fit_transform(X)``, TruncatedSVD's.
    explained_variance_ratio_ : ndarray (n_components,)
        explained_variance_ over the total variance of X's columns (ddof=1
        with center=True, as PCA; ddof=0 otherwise, as TruncatedSVD).
    noise_variance_ : float
        The probabilistic PCA model's noise variance (Tipping & Bishop 1999):
        the total variance not explained, averaged over the
        min(n_samples, n_features) - k remaining directions; 0 when
        k = min(n_samples, n_features).
    mean_ : ndarray (n_features,)
        The column means subtracted (zeros when center=False).
    n_components_ : int
    n_samples_ : int
    n_features_in_ : int

    Notes
    -----
    Everything is in the dtype of the data seen by fit (float32 stays
    float32).  ``transform(X)`` is ``(X - mean_) @ components_.T`` (sparse X
    stays sparse), divided by sqrt(explained_variance_) with whiten.
    ``fit_transform(X)`` is, as in scikit-learn, ``U * S`` with center=True
    (``U * sqrt(n_samples - 1)`` with whiten), which differs from
    ``transform(X)`` by the factorization's residual, and ``transform(X)``
    of the fitted X with center=False.  ``inverse_transform(Y)`` is
    ``Y @ components_ + mean_`` (whitening undone first).

    The factorization is :func:`logsketch.randomized_svd` with
    ``transpose="auto"`` (wide X is factored through its transpose, as
    scikit-learn does); its random test matrix is logsketch's own (any
    sketch kind, a pure function of ``seed``), so results match
    scikit-learn's to the accuracy of the method, not bit for bit.

    ``get_covariance``, ``get_precision``, ``score_samples`` and ``score``
    are PCA's probabilistic model (with whiten, scikit-learn's convention:
    the components scaled by sqrt(explained_variance_)).  They are defined
    for center=False too, with mean_ = 0.  ``score_samples`` works in the
    k-dimensional subspace (O(nnz(X) + n_samples k n_features), sparse X
    never densified) when noise_variance_ > 0, and through the
    n_features x n_features precision otherwise.

    fit raises what :func:`randomized_svd` raises: ValueError for NaN or
    infinity in X, OverflowError when a finite X's products overflow its
    dtype.

    Dask arrays (dense or scipy.sparse chunks, chunked along rows and/or
    columns, known chunk sizes): ``fit`` factors X block by block without
    gathering it (:func:`logsketch.randomized_svd` on dask, the mean
    subtracted implicitly, so sparse chunks stay sparse; a wide X through
    X^T, as in memory) after one pass for the column moments, and one more for
    the explained variance with center=False.  The fitted attributes are
    ndarrays, equal to the fit of ``X.compute()`` with the same seed up to
    rounding.  ``fit_transform``, ``transform`` and ``inverse_transform``
    return lazy dask arrays with X's row chunks; NaN or infinity is a
    ValueError naming its block, raised when computed.  ``score_samples``,
    ``score`` take numpy and scipy.sparse only (TypeError).

    Examples
    --------
    >>> import numpy as np, logsketch
    >>> X = np.random.default_rng(0).standard_normal((300, 40))
    >>> pca = logsketch.RandomizedSVD(n_components=5, center=True, seed=0).fit(X)
    >>> pca.components_.shape, pca.transform(X).shape
    ((5, 40), (300, 5))
    """

    def __init__(self, n_components=2, *, n_oversamples=10, n_iter=5, center=False, whiten=False, normalizer="auto",
                 seed=0):
        self.n_components = n_components
        self.n_oversamples = n_oversamples
        self.n_iter = n_iter
        self.center = center
        self.whiten = whiten
        self.normalizer = normalizer
        self.seed = seed

    def fit(self, X, y=None):
        """Factor X (n_samples, n_features); y is ignored."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit, then return the projections of X (n_samples, n_components_); see the class notes."""
        X = self._checked(X, reset=True)
        center = check_bool(self.center, "center")
        whiten = check_bool(self.whiten, "whiten")
        n_samples, n_features = X.shape
        k = self._resolved_k(X.shape)
        ddof = 1 if center and n_samples > 1 else 0
        if _is_dask(X):
            U, S, Vt, mean, total_var = self._factor_dask(X, k, center)
        else:
            fmt, A = _rsvd_cpu.as_input(X)
            mean, sum_of_squares = _column_moments(A)
            spec = resolve(A.shape, k, self.n_oversamples, self.n_iter, self.normalizer, "auto", False, "gaussian",
                           self.seed)
            U, S, Vt = self._factor(fmt, A, spec, mean.astype(X.dtype) if center else None)
            total_var = sum_of_squares / (n_samples - ddof)
        U = _flip_rows_of_vt(U, Vt)

        self.components_ = Vt
        self.mean_ = (mean if center else np.zeros(n_features)).astype(X.dtype)
        self.n_components_ = k
        self.n_samples_ = n_samples
        self.singular_values_ = S
        if center:
            explained = S.astype(np.float64) ** 2 / (n_samples - ddof)
            projected = U * S
        else:
            projected = self._project(X, whiten=False)
            explained = projected.var(axis=0, dtype=np.float64)
            if _is_dask(X):
                explained = explained.compute()
        self.explained_variance_ = explained.astype(X.dtype)
        ratio = explained / total_var if total_var > 0 else np.zeros_like(explained)
        self.explained_variance_ratio_ = ratio.astype(X.dtype)
        rest = min(n_samples, n_features) - k
        noise = max(total_var - float(explained.sum()), 0.0) / rest if rest > 0 else 0.0
        self.noise_variance_ = X.dtype.type(noise)
        if whiten:
            projected = U * X.dtype.type(math.sqrt(n_samples - ddof)) if center else projected / self._scale()
        return projected

    def _resolved_k(self, shape):
        small = min(shape)
        k = self.n_components
        if k is None:
            return small
        if isinstance(k, str):
            raise ValueError(f"n_components={k!r} cannot be a string with svd_solver='randomized'")
        k = check_int(k, "n_components", -(2**63))
        if not 1 <= k <= small:
            raise ValueError(
                f"n_components={k} must be between 1 and min(n_samples, n_features)={small} (n_samples={shape[0]}, "
                f"n_features={shape[1]})"
            )
        return k

    def _factor(self, fmt, A, spec, mean):
        """U, S, Vt of A - 1 mean^T (of A when mean is None), U-flip off: the CPU core."""
        return _rsvd_cpu.factor(fmt, A, spec, mean)

    def _factor_dask(self, X, k, center):
        """U (a dask array, X's row chunks), S, Vt, the column means and the total variance of a dask X, U-flip off.

        ``transpose="auto"`` as in memory (a wide X through X^T); the moments
        take one pass over X, the factorization never gathers it.
        """
        from .rsvd import _dask as _rsvd_dask

        A = _rsvd_dask.as_input(X)
        mean, total_var = _rsvd_dask.column_moments(A, center)
        spec = resolve(A.shape, k, self.n_oversamples, self.n_iter, self.normalizer, "auto", False, "gaussian",
                       self.seed)
        U, S, Vt = _rsvd_dask.factor(A, spec, mean.astype(X.dtype) if center else None)
        return U, S, Vt, mean, total_var

    def transform(self, X):
        """(X - mean_) @ components_.T (whitened if asked): (n_samples, n_features) -> (n_samples, n_components_)."""
        self._check_fitted()
        return self._project(self._checked(X, reset=False), whiten=self.whiten)

    def _scale(self):
        """sqrt(explained_variance_), kept away from zero (a whitened near-null component stays finite)."""
        scale = np.sqrt(self.explained_variance_)
        return np.maximum(scale, np.finfo(scale.dtype).eps)

    def _project(self, X, whiten):
        V = self.components_.T.astype(X.dtype, copy=False)
        shift = self.mean_.astype(X.dtype) @ V if np.any(self.mean_) else None
        if _is_dask(X):
            out = _lazy_product(X, V, shift, finite=True)
        else:
            out = np.asarray(X @ V)
            if shift is not None:
                out = out - shift
        if whiten:
            out = out / self._scale().astype(X.dtype)
        return out

    def inverse_transform(self, X):
        """Y @ components_ + mean_ (whitening undone): (n_samples, n_components_) -> (n_samples, n_features_in_)."""
        self._check_fitted()
        X = self._checked_output_space(X)
        components = self.components_
        if self.whiten:
            components = components * np.sqrt(self.explained_variance_)[:, None]
        if _is_dask(X):
            dtype = np.result_type(X.dtype, components.dtype)
            return _lazy_product(X, components.astype(dtype, copy=False), -self.mean_.astype(dtype))
        return np.asarray(X @ components) + self.mean_

    # ---------------------------------------------------------------- the probabilistic PCA model

    def _model(self):
        """(V (k, d), lam (k,), noise), float64: covariance = V^T diag(lam) V + noise I."""
        V = self.components_.astype(np.float64)
        explained = self.explained_variance_.astype(np.float64)
        noise = float(self.noise_variance_)
        lam = np.where(explained > noise, explained - noise, 0.0)
        if self.whiten:
            lam = lam * explained  # scikit-learn's convention: the components scaled by sqrt(explained variance)
        return V, lam, noise

    def get_covariance(self):
        """The model's covariance of X: components_.T diag(explained - noise) components_ + noise I (d x d)."""
        self._check_fitted()
        V, lam, noise = self._model()
        cov = (V.T * lam) @ V
        cov.flat[:: cov.shape[0] + 1] += noise
        return cov.astype(self.components_.dtype)

    def get_precision(self):
        """The inverse of :meth:`get_covariance` (d x d), through the k x k structure when noise_variance_ > 0."""
        self._check_fitted()
        V, lam, noise = self._model()
        if noise == 0.0:
            return np.linalg.inv(self.get_covariance().astype(np.float64)).astype(self.components_.dtype)
        precision = (V.T * (1.0 / (lam + noise) - 1.0 / noise)) @ V
        precision.flat[:: precision.shape[0] + 1] += 1.0 / noise
        return precision.astype(self.components_.dtype)

    def score_samples(self, X):
        """The log-likelihood of each sample under the model (n_samples,), X's dtype."""
        self._check_fitted()
        X = self._checked(X, reset=False, dask=False)
        V, lam, noise = self._model()
        mean = self.mean_.astype(np.float64)
        d = X.shape[1]
        if noise > 0.0:
            quad, logdet = self._quadratic_low_rank(X, V, lam, noise, mean)
        else:
            precision = self.get_precision().astype(np.float64)
            sign, logdet_precision = np.linalg.slogdet(precision)
            logdet = -logdet_precision if sign > 0 else np.inf
            quad = _quadratic_form(X, precision, mean)
        return (-0.5 * (quad + d * math.log(2.0 * math.pi) + logdet)).astype(X.dtype)

    @staticmethod
    def _quadratic_low_rank(X, V, lam, noise, mean):
        """(x - mean)^T C^-1 (x - mean) per row and log det C, C = V^T diag(lam) V + noise I, in O(k d) per row."""
        d, k = X.shape[1], V.shape[0]
        if issparse(X):
            proj = np.asarray(X @ V.T) - mean @ V.T
            norms = (np.asarray(X.multiply(X).sum(axis=1)).ravel() - 2.0 * np.asarray(X @ mean).ravel()
                     + float(mean @ mean))
        else:
            Xc = X.astype(np.float64) - mean
            proj = Xc @ V.T
            norms = np.einsum("ij,ij->i", Xc, Xc)
        quad = norms / noise + (proj**2) @ (1.0 / (lam + noise) - 1.0 / noise)
        logdet = float(np.log(lam + noise).sum()) + (d - k) * math.log(noise)
        return quad, logdet

    def score(self, X, y=None):
        """The mean log-likelihood of the samples of X under the model (a float)."""
        return float(np.mean(self.score_samples(X)))


def _quadratic_form(X, P, mean):
    """(x - mean)^T P (x - mean) per row of X (dense or sparse, never densified)."""
    if issparse(X):
        Z = np.asarray(X @ P) - mean @ P
        return np.asarray(X.multiply(Z).sum(axis=1)).ravel() - Z @ mean
    Xc = X.astype(np.float64) - mean
    return np.einsum("ij,ij->i", Xc, Xc @ P)
