"""RandomizedSVD, the scikit-learn face of the randomized SVD (TruncatedSVD / PCA)."""

from __future__ import annotations

import numpy as np

from ._estimator_base import build_estimator_class
from .jl import _issparse
from .rsvd import _check_flag, _factor

_PARAMS = ("n_components", "n_oversamples", "n_iter", "center", "normalizer", "seed")


def _column_moments(X, center):
    """(mean, total variance) of X's columns; the variance uses ddof=1 when centering (PCA), 0 otherwise."""
    n_samples = X.shape[0]
    if _issparse(X):
        mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
        squares = np.asarray(X.multiply(X).sum(axis=0), dtype=np.float64).ravel()
        total = float((squares - n_samples * mean**2).sum())
    else:
        mean = X.mean(axis=0, dtype=np.float64)
        total = float(((X - mean) ** 2).sum())
    ddof = 1 if center and n_samples > 1 else 0
    return mean, total / max(n_samples - ddof, 1)


class _RandomizedSVDLogic:
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
        center = _check_flag(self.center, "center", allow_auto=False)
        n_samples, n_features = X.shape
        k = self.n_components
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and not 1 <= k <= min(X.shape):
            raise ValueError(
                f"n_components={k} must be in [1, min(n_samples, n_features)]; got n_samples={n_samples}, "
                f"n_features={n_features}"
            )
        mean, total_var = _column_moments(X, center)
        U, S, Vt = _factor(X, k, self.n_oversamples, self.n_iter, self.normalizer, False, True, "gaussian",
                           self.seed, mean.astype(X.dtype) if center else None)
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
        X = np.asarray(X.toarray() if _issparse(X) else X)
        if X.dtype.kind not in "iuf":
            raise TypeError(f"X must hold real numbers; got dtype {X.dtype}")
        if X.ndim != 2 or X.shape[1] != self.n_components_:
            raise ValueError(f"X must have shape (n_samples, {self.n_components_}); got {X.shape}")
        return X @ self.components_ + self.mean_

    @property
    def _n_features_out(self):
        return self.n_components_


def build_class():
    """RandomizedSVD on scikit-learn's base classes if it imports, else the plain one."""
    return build_estimator_class(_RandomizedSVDLogic, "RandomizedSVD", _PARAMS, module="logsketch.rsvd",
                                 allow_nan=False)
