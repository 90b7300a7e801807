"""The scikit-learn estimators: JLProjection and RandomizedSVD.

scikit-learn is imported here only (``import logsketch`` never imports it).
When it is installed the estimators are ``TransformerMixin`` /
``BaseEstimator`` subclasses that pass
``sklearn.utils.estimator_checks.check_estimator``; without it they stand on
a small plain base with the same interface (``get_params``, ``set_params``,
``fit_transform``, a repr) and the same input checks, built from
:mod:`logsketch._validate`.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np

from . import exceptions
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
    seed : int
        In [0, 2**64); the projection is a pure function of it (see
        :mod:`logsketch.jl` for the exact mapping).

    Attributes
    ----------
    n_components_ : int
        The resolved k.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on data with string column names (scikit-learn only).
    components_ : ndarray (k, n_features) or scipy.sparse.csr_array
        The random matrix in the dtype of the data seen by fit, materialized
        on first access (O(k x n_features) memory; ``transform`` never needs it).

    Notes
    -----
    ``fit`` learns only the number of features and k; ``transform(X)`` is
    ``jl_project(X, n_components_, kind=..., density=..., seed=...)``, and
    ``fit_transform`` reads X's values once.  Inputs follow scikit-learn's
    conventions (integer and bool data are converted to float64), except that
    NaN and inf pass through to the output as in :func:`logsketch.jl_project`
    (the ``allow_nan`` tag): checking for them took a pass over X as long as
    a sparse projection.  ``inverse_transform`` multiplies by the
    pseudo-inverse of ``components_`` (computed once, O(k x n_features)
    memory).

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

    def __init__(self, n_components="auto", *, eps=0.1, kind="gaussian", density="auto", seed=0):
        self.n_components = n_components
        self.eps = eps
        self.kind = kind
        self.density = density
        self.seed = seed

    def fit(self, X, y=None):
        """Learn n_features_in_ and n_components_ from X's shape (y is ignored)."""
        self._fit(self._validate(X, reset=True))
        return self

    def fit_transform(self, X, y=None):
        """fit(X) then transform(X), converting and checking X once."""
        X = self._validate(X, reset=True)
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
                    f"eps={self.eps} and n_samples={n_samples} lead to a target dimension of {k}, larger than "
                    f"the original space with n_features={n_features}"
                )
        else:
            k = check_int(self.n_components, "n_components", 1)
            if k > n_features:
                warnings.warn(
                    f"n_components={k} is larger than n_features={n_features}: the dimension is not reduced",
                    _DimensionalityWarning,
                    stacklevel=2,
                )
        matrix_spec(k, n_features, self.kind, self.density, self.seed)
        self.n_components_ = k
        self._dtype = X.dtype
        self.__dict__.pop("_components", None)
        self.__dict__.pop("_inverse_components", None)

    def transform(self, X):
        """Project X: (n_samples, n_features) -> (n_samples, n_components_), X's float dtype."""
        self._check_fitted()
        return self._project(self._validate(X, reset=False))

    def _project(self, X):
        return jl_project(X, self.n_components_, kind=self.kind, density=self.density, seed=self.seed)

    def inverse_transform(self, X):
        """Map projected points back: X @ pinv(components_).T, (n, n_components_) -> (n, n_features_in_)."""
        self._check_fitted()
        X = np.asarray(X.toarray() if issparse(X) else X)
        if X.ndim != 2 or X.shape[1] != self.n_components_:
            raise ValueError(f"X must have shape (n_samples, {self.n_components_}); got {X.shape}")
        if X.dtype.kind not in "iuf":
            raise TypeError(f"X must hold real numbers; got dtype {X.dtype}")
        inverse = self.__dict__.get("_inverse_components")
        if inverse is None:
            r = self.components_
            inverse = np.linalg.pinv(r.toarray() if issparse(r) else r)
            self._inverse_components = inverse
        return X @ inverse.T

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


def _column_moments(X, center):
    """(mean, total variance) of X's columns; the variance uses ddof=1 when centering (PCA), 0 otherwise."""
    n_samples = X.shape[0]
    if issparse(X):
        mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
        squares = np.asarray(X.multiply(X).sum(axis=0), dtype=np.float64).ravel()
        total = float((squares - n_samples * mean**2).sum())
    else:
        mean = X.mean(axis=0, dtype=np.float64)
        total = float(((X - mean) ** 2).sum())
    ddof = 1 if center and n_samples > 1 else 0
    return mean, total / max(n_samples - ddof, 1)


class RandomizedSVD(_Estimator):
    """Truncated SVD (``center=False``) or PCA (``center=True``) by :func:`logsketch.randomized_svd`.

    Parameters
    ----------
    n_components : int, default 2
        k, in [1, min(n_samples, n_features)] at fit time.
    n_oversamples : int, default 10
    n_iter : int or "auto", default 5
        Power iterations (5 as scikit-learn's TruncatedSVD).
    center : bool, default False
        Factor X - mean (PCA) instead of X.  The mean is subtracted inside the
        products (M x - 1 (mean . x)), so sparse X stays sparse and is never
        copied or densified.
    normalizer : {"auto", "none", "lu", "qr", "cholqr"}
        As :func:`logsketch.randomized_svd`.
    seed : int
        In [0, 2**64); the fit is a pure function of it.

    Attributes
    ----------
    components_ : ndarray (n_components, n_features)
        Vt: the right singular vectors, sign-fixed as in scikit-learn.
    singular_values_ : ndarray (n_components,)
    explained_variance_ : ndarray (n_components,)
        Variance of each projected component: with center=True,
        S**2 / (n_samples - 1) (scikit-learn's PCA); with center=False, the
        variance of the columns of fit_transform(X) (TruncatedSVD's).
    explained_variance_ratio_ : ndarray (n_components,)
        explained_variance_ over the total variance of X's columns (same
        ddof as explained_variance_).
    mean_ : ndarray (n_features,)
        The column means subtracted (zeros when center=False).
    n_components_ : int
    n_features_in_ : int

    Notes
    -----
    Everything is in the dtype of the data seen by fit (float32 stays
    float32).  ``transform(X)`` is ``(X - mean_) @ components_.T`` (sparse X
    stays sparse), and ``fit_transform(X)`` returns exactly that for the
    fitted X (as scikit-learn's TruncatedSVD does; it differs from U * S by the
    factorization's residual); ``inverse_transform(Y)`` is
    ``Y @ components_ + mean_``.  fit raises what :func:`randomized_svd`
    raises: ValueError for NaN or infinity in X, OverflowError when a finite
    X's products overflow its dtype.

    Examples
    --------
    >>> import numpy as np, logsketch
    >>> X = np.random.default_rng(0).standard_normal((300, 40))
    >>> pca = logsketch.RandomizedSVD(n_components=5, center=True, seed=0).fit(X)
    >>> pca.components_.shape, pca.transform(X).shape
    ((5, 40), (300, 5))
    """

    def __init__(self, n_components=2, *, n_oversamples=10, n_iter=5, center=False, normalizer="auto", seed=0):
        self.n_components = n_components
        self.n_oversamples = n_oversamples
        self.n_iter = n_iter
        self.center = center
        self.normalizer = normalizer
        self.seed = seed

    def fit(self, X, y=None):
        """Factor X (n_samples, n_features); y is ignored."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit, then return transform(X) (n_samples, n_components)."""
        X = self._validate(X, reset=True)
        center = check_bool(self.center, "center")
        n_samples, n_features = X.shape
        k = self.n_components
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and not 1 <= k <= min(X.shape):
            raise ValueError(
                f"n_components={k} must be in [1, min(n_samples, n_features)]; got n_samples={n_samples}, "
                f"n_features={n_features}"
            )
        mean, total_var = _column_moments(X, center)
        fmt, A = _rsvd_cpu.as_input(X)
        spec = resolve(A.shape, k, self.n_oversamples, self.n_iter, self.normalizer, False, True, "gaussian", self.seed)
        U, S, Vt = _rsvd_cpu.factor(fmt, A, spec, mean.astype(X.dtype) if center else None)
        self.components_ = Vt
        self.mean_ = (mean if center else np.zeros(n_features)).astype(X.dtype)
        projected = self._project(X)
        if center:
            explained = S.astype(np.float64) ** 2 / max(n_samples - 1, 1)
        else:
            explained = projected.var(axis=0, dtype=np.float64)
        self.singular_values_ = S
        self.explained_variance_ = explained.astype(X.dtype)
        ratio = explained / total_var if total_var > 0 else np.zeros_like(explained)
        self.explained_variance_ratio_ = ratio.astype(X.dtype)
        self.n_components_ = Vt.shape[0]
        return projected

    def transform(self, X):
        """(X - mean_) @ components_.T: (n_samples, n_features) -> (n_samples, n_components_)."""
        self._check_fitted()
        return self._project(self._validate(X, reset=False))

    def _project(self, X):
        V = self.components_.T.astype(X.dtype, copy=False)
        out = np.asarray(X @ V)
        if np.any(self.mean_):
            out = out - self.mean_.astype(X.dtype) @ V
        return out

    def inverse_transform(self, X):
        """Y @ components_ + mean_: (n_samples, n_components_) -> (n_samples, n_features_in_)."""
        self._check_fitted()
        X = np.asarray(X.toarray() if issparse(X) else X)
        if X.dtype.kind not in "iuf":
            raise TypeError(f"X must hold real numbers; got dtype {X.dtype}")
        if X.ndim != 2 or X.shape[1] != self.n_components_:
            raise ValueError(f"X must have shape (n_samples, {self.n_components_}); got {X.shape}")
        return X @ self.components_ + self.mean_
