"""A pytest plugin that points scikit-learn's own tests at logsketch.

Loaded with ``-p logsketch_adapter`` (this folder on the path), it replaces,
before any test module is collected, the scikit-learn names those modules
import with thin adapters that only rename arguments:

- ``sklearn.utils.extmath.randomized_svd`` -> :func:`logsketch.randomized_svd`
  (``power_iteration_normalizer`` -> ``normalizer``, ``random_state`` ->
  ``seed``; ``svd_lapack_driver`` is dropped: logsketch picks its driver);
- ``sklearn.decomposition.TruncatedSVD(algorithm="randomized")`` ->
  ``RandomizedSVD(center=False)``; ``PCA(svd_solver="randomized")`` ->
  ``RandomizedSVD(center=True)`` (``iterated_power`` -> ``n_iter``); every
  other algorithm or solver stays scikit-learn's, as the tests compare
  against them;
- ``sklearn.random_projection``: ``GaussianRandomProjection`` and
  ``SparseRandomProjection`` -> ``JLProjection(kind="gaussian" | "sparse")``,
  ``_gaussian_random_matrix`` / ``_sparse_random_matrix`` ->
  :func:`logsketch.jl_components` (float64, as scikit-learn's),
  ``johnson_lindenstrauss_min_dim`` -> :func:`logsketch.jl_min_dim`.

``random_state`` becomes ``seed``: an int is the seed, None is seed 0, a
``RandomState`` draws the seed from its stream (once per fit, as
scikit-learn draws its random matrix once per fit).  Parameters with no
logsketch meaning (``copy``, ``tol``) are accepted and ignored.

With ``LOGSKETCH_SKLEARN_OUTCOMES=<path>`` set, every test's outcome is
appended to that file as ``<outcome> <node id>`` lines (outcome: passed,
failed or skipped; a failing setup or teardown counts as failed).
"""

from __future__ import annotations

import os

import numpy as np
import sklearn.decomposition
import sklearn.random_projection
import sklearn.utils.extmath

import logsketch
from logsketch.sklearn import JLProjection, RandomizedSVD

_SK_PCA = sklearn.decomposition.PCA
_SK_TRUNCATED_SVD = sklearn.decomposition.TruncatedSVD


def _seed(random_state):
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return random_state


def randomized_svd(M, n_components, *, n_oversamples=10, n_iter="auto", power_iteration_normalizer="auto",
                   transpose="auto", flip_sign=True, random_state=None, svd_lapack_driver="gesdd"):
    return logsketch.randomized_svd(M, n_components, n_oversamples=n_oversamples, n_iter=n_iter,
                                    normalizer=power_iteration_normalizer, transpose=transpose,
                                    flip_sign=flip_sign, seed=_seed(random_state))


class _SeedFromRandomState:
    """``seed`` read from ``random_state``, resolved once per fit."""

    @property
    def seed(self):
        if "_fit_seed" not in self.__dict__:
            self._fit_seed = _seed(self.random_state)
        return self._fit_seed

    def fit(self, X, y=None):
        self.__dict__.pop("_fit_seed", None)
        return super().fit(X, y)

    def fit_transform(self, X, y=None):
        self.__dict__.pop("_fit_seed", None)
        return super().fit_transform(X, y)


class TruncatedSVD(_SeedFromRandomState, RandomizedSVD):
    center = False
    whiten = False

    def __new__(cls, n_components=2, *, algorithm="randomized", **kwargs):
        if algorithm != "randomized":
            return _SK_TRUNCATED_SVD(n_components, algorithm=algorithm, **kwargs)
        return super().__new__(cls)

    def __init__(self, n_components=2, *, algorithm="randomized", n_iter=5, n_oversamples=10,
                 power_iteration_normalizer="auto", random_state=None, tol=0.0):
        self.n_components = n_components
        self.algorithm = algorithm
        self.n_iter = n_iter
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state
        self.tol = tol

    normalizer = property(lambda self: self.power_iteration_normalizer)


class PCA(_SeedFromRandomState, RandomizedSVD):
    center = True

    def __new__(cls, n_components=None, *, svd_solver="auto", **kwargs):
        if svd_solver != "randomized":
            return _SK_PCA(n_components, svd_solver=svd_solver, **kwargs)
        return super().__new__(cls)

    def __init__(self, n_components=None, *, copy=True, whiten=False, svd_solver="auto", tol=0.0,
                 iterated_power="auto", n_oversamples=10, power_iteration_normalizer="auto", random_state=None):
        self.n_components = n_components
        self.copy = copy
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.tol = tol
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state

    n_iter = property(lambda self: self.iterated_power)
    normalizer = property(lambda self: self.power_iteration_normalizer)


class GaussianRandomProjection(_SeedFromRandomState, JLProjection):
    kind = "gaussian"
    density = "auto"
    dense_output = True

    def __init__(self, n_components="auto", *, eps=0.1, compute_inverse_components=False, random_state=None):
        self.n_components = n_components
        self.eps = eps
        self.compute_inverse_components = compute_inverse_components
        self.random_state = random_state


class SparseRandomProjection(_SeedFromRandomState, JLProjection):
    kind = "sparse"

    def __init__(self, n_components="auto", *, density="auto", eps=0.1, dense_output=False,
                 compute_inverse_components=False, random_state=None):
        self.n_components = n_components
        self.density = density
        self.eps = eps
        self.dense_output = dense_output
        self.compute_inverse_components = compute_inverse_components
        self.random_state = random_state


def _gaussian_random_matrix(n_components, n_features, random_state=None):
    return logsketch.jl_components(n_components, n_features, kind="gaussian", seed=_seed(random_state),
                                   dtype=np.float64)


def _sparse_random_matrix(n_components, n_features, density="auto", random_state=None):
    return logsketch.jl_components(n_components, n_features, kind="sparse", density=density,
                                   seed=_seed(random_state), dtype=np.float64)


def johnson_lindenstrauss_min_dim(n_samples, *, eps=0.1):
    return logsketch.jl_min_dim(n_samples, eps=eps)


sklearn.utils.extmath.randomized_svd = randomized_svd
sklearn.decomposition.TruncatedSVD = TruncatedSVD
sklearn.decomposition.PCA = PCA
for _name in ("GaussianRandomProjection", "SparseRandomProjection", "_gaussian_random_matrix",
              "_sparse_random_matrix", "johnson_lindenstrauss_min_dim"):
    setattr(sklearn.random_projection, _name, globals()[_name])


def pytest_runtest_logreport(report):
    path = os.environ.get("LOGSKETCH_SKLEARN_OUTCOMES")
    if not path or (report.when != "call" and report.passed):
        return
    if report.when != "call" and report.skipped and report.when != "setup":
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{report.outcome} {report.nodeid}\n")
