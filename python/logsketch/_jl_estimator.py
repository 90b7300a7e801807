"""JLProjection, the scikit-learn face of the JL family.

:func:`build_class` makes the class once, on first use of
``logsketch.JLProjection``, on scikit-learn's base classes when it is
importable and on a plain stand-in otherwise (``_estimator_base``).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._estimator_base import NotFittedError, build_estimator_class  # noqa: F401 (NotFittedError re-exported)
from .jl import _check_int, _check_matrix, _issparse, jl_components, jl_min_dim, jl_project

_PARAMS = ("n_components", "eps", "kind", "density", "seed")


class _JLProjectionLogic:
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
            k = _check_int(self.n_components, "n_components", 1)
            if k > n_features:
                warnings.warn(
                    f"n_components={k} is larger than n_features={n_features}: the dimension is not reduced",
                    self._dimensionality_warning,
                    stacklevel=2,
                )
        _check_matrix(k, n_features, self.kind, self.density, self.seed)
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
        X = np.asarray(X.toarray() if _issparse(X) else X)
        if X.ndim != 2 or X.shape[1] != self.n_components_:
            raise ValueError(f"X must have shape (n_samples, {self.n_components_}); got {X.shape}")
        if X.dtype.kind not in "iuf":
            raise TypeError(f"X must hold real numbers; got dtype {X.dtype}")
        inverse = self.__dict__.get("_inverse_components")
        if inverse is None:
            r = self.components_
            inverse = np.linalg.pinv(r.toarray() if _issparse(r) else r)
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

    @property
    def _n_features_out(self):
        return self.n_components_


def build_class():
    """JLProjection on scikit-learn's base classes if it imports, else the plain one."""
    return build_estimator_class(_JLProjectionLogic, "JLProjection", _PARAMS, module="logsketch.jl", allow_nan=True)
