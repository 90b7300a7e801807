"""JLProjection: scikit-learn's check_estimator, the lazy components_, the
inverse, and the plain class used when scikit-learn is not installed."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

import logsketch

KINDS = ("gaussian", "sparse", "srht")


def data(n=60, d=300, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(dtype)


@pytest.mark.filterwarnings("ignore:Skipping check")  # array-API checks need SCIPY_ARRAY_API
@pytest.mark.parametrize("kind", KINDS)
def test_check_estimator(kind):
    """n_components=2, as scikit-learn's own suite runs its random projections:
    with "auto" the small check data sets ask for more components than
    features, which is an error by design (scikit-learn's estimators too)."""
    checks = pytest.importorskip("sklearn.utils.estimator_checks")
    checks.check_estimator(logsketch.JLProjection(n_components=2, kind=kind, seed=1))


def test_importing_logsketch_does_not_import_scikit_learn():
    code = "import sys, logsketch; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("kind", KINDS)
def test_transform_is_jl_project(kind):
    X = data(dtype=np.float32)
    est = logsketch.JLProjection(n_components=40, kind=kind, density=0.2, dense_output=True, seed=5).fit(X)
    assert est.n_components_ == 40 and est.n_features_in_ == 300
    y = est.transform(X)
    assert y.dtype == np.float32
    assert np.array_equal(y, logsketch.jl_project(X, 40, kind=kind, density=0.2, seed=5))
    assert np.array_equal(est.fit_transform(X), y)
    assert np.array_equal(est.transform(sp.csr_array(X)), logsketch.jl_project(sp.csr_array(X), 40, kind=kind,
                                                                                density=0.2, seed=5))


def test_auto_components_from_eps():
    X = data(n=500, d=2000)
    est = logsketch.JLProjection(eps=0.5).fit(X)
    assert est.n_components_ == logsketch.jl_min_dim(500, eps=0.5) == 298


def test_auto_components_beyond_the_features_is_an_error():
    with pytest.raises(ValueError, match="n_features=300"):
        logsketch.JLProjection(eps=0.1).fit(data())


def test_more_components_than_features_warns():
    with pytest.warns(UserWarning, match="not reduced"):
        logsketch.JLProjection(n_components=400).fit(data())


@pytest.mark.parametrize("kind", KINDS)
def test_components_are_lazy_and_in_the_fit_dtype(kind):
    X = data(dtype=np.float32)
    est = logsketch.JLProjection(n_components=16, kind=kind, seed=2).fit(X)
    assert "_components" not in vars(est)
    r = est.components_
    assert r is est.components_  # materialized once
    expected = logsketch.jl_components(16, 300, kind=kind, seed=2, dtype=np.float32)
    assert (r != expected).nnz == 0 if sp.issparse(r) else np.array_equal(r, expected)
    est.fit(data(d=100, dtype=np.float64))
    assert est.components_.shape == (16, 100) and est.components_.dtype == np.float64


def test_inverse_transform_through_the_pseudo_inverse():
    X = data(n=20, d=30)
    est = logsketch.JLProjection(n_components=30, kind="gaussian", seed=4).fit(X)
    np.testing.assert_allclose(est.inverse_transform(est.transform(X)), X, atol=1e-8)  # square R: exact inverse
    est = logsketch.JLProjection(n_components=10, seed=4).fit(X)
    back = est.inverse_transform(est.transform(X))
    np.testing.assert_allclose(est.transform(back), est.transform(X), atol=1e-10)  # a projection onto R's row space
    with pytest.raises(ValueError, match="shape"):
        est.inverse_transform(np.ones((3, 11)))


@pytest.mark.parametrize("kind", KINDS)
def test_sparse_output_for_the_sparse_kind_only(kind):
    X = data(dtype=np.float32)
    S = sp.csr_array(X)
    est = logsketch.JLProjection(n_components=20, kind=kind, seed=1).fit(X)
    out = est.transform(S)
    assert sp.issparse(out) == (kind == "sparse")
    dense = logsketch.jl_project(S, 20, kind=kind, seed=1)
    np.testing.assert_allclose(out.toarray() if sp.issparse(out) else out, dense, rtol=1e-5, atol=1e-5)
    assert out.dtype == np.float32
    assert isinstance(est.transform(X), np.ndarray)
    assert isinstance(est.set_params(dense_output=True).transform(S), np.ndarray)
    assert sp.issparse(logsketch.JLProjection(20, kind=kind, seed=1).fit_transform(S)) == (kind == "sparse")


@pytest.mark.parametrize("kind", KINDS)
def test_density_and_inverse_components_attributes(kind):
    X = data(n=20, d=50)
    est = logsketch.JLProjection(n_components=12, kind=kind, compute_inverse_components=True, seed=3).fit(X)
    assert hasattr(est, "density_") == (kind == "sparse")
    if kind == "sparse":
        assert est.density_ == 1 / np.sqrt(50)
    r = est.components_
    np.testing.assert_allclose(est.inverse_components_, np.linalg.pinv(r.toarray() if sp.issparse(r) else r),
                               atol=1e-10)
    assert est.inverse_components_.shape == (50, 12)
    Y = est.transform(X)
    np.testing.assert_allclose(est.inverse_transform(sp.csr_array(Y)), est.inverse_transform(Y), atol=1e-12)
    assert not hasattr(logsketch.JLProjection(n_components=12, kind=kind).fit(X), "inverse_components_")


@pytest.mark.parametrize("fmt", ["lil", "dok", "coo"])
def test_other_sparse_formats_are_converted_as_scikit_learn_does(fmt):
    X = sp.random_array((30, 200), density=0.1, format="csr", rng=np.random.default_rng(1))
    est = logsketch.JLProjection(n_components=10, kind="sparse", dense_output=True, seed=2).fit(X)
    np.testing.assert_allclose(est.transform(X.asformat(fmt)), est.transform(X), rtol=1e-12)


def test_pickle_clone_and_params():
    est = logsketch.JLProjection(n_components=8, kind="srht", seed=9).fit(data())
    again = pickle.loads(pickle.dumps(est))
    assert np.array_equal(again.transform(data()), est.transform(data()))
    assert est.get_params() == {"n_components": 8, "eps": 0.1, "kind": "srht", "density": "auto", "dense_output": False,
                                "compute_inverse_components": False, "seed": 9}
    assert est.set_params(seed=10).seed == 10


def test_errors():
    est = logsketch.JLProjection(n_components=8)
    with pytest.raises(AttributeError):  # NotFittedError is an AttributeError and a ValueError
        est.transform(data())
    with pytest.raises(ValueError):
        est.components_
    est.fit(data())
    with pytest.raises(ValueError, match="features"):
        est.transform(data(d=10))
    assert np.isnan(est.transform(np.full((2, 300), np.nan))).all()  # allow_nan: NaN passes through
    with pytest.raises(ValueError, match="kind"):
        logsketch.JLProjection(n_components=8, kind="dense").fit(data())
    with pytest.raises(TypeError, match="dense_output"):
        logsketch.JLProjection(n_components=8, dense_output="no").fit(data())
    with pytest.raises(ValueError, match="n_components"):
        logsketch.JLProjection(n_components="many").fit(data())
    with pytest.raises(ValueError, match="n_features=300"), pytest.warns(UserWarning, match="not reduced"):
        logsketch.JLProjection(n_components=600, kind="srht").fit(data())


def test_plain_class_without_scikit_learn():
    code = textwrap.dedent(
        """
        import sys, pickle, warnings
        sys.modules["sklearn"] = None  # import sklearn now raises ImportError
        import numpy as np, scipy.sparse as sp, logsketch
        from logsketch.exceptions import NotFittedError
        X = np.random.default_rng(0).standard_normal((50, 200))
        est = logsketch.JLProjection(n_components=20, kind="sparse", seed=3)
        assert type(est).__mro__[1].__module__ == "logsketch.sklearn"
        assert repr(est).startswith("JLProjection(n_components=20")
        try:
            est.transform(X)
        except NotFittedError:
            pass
        y = est.fit_transform(X)
        assert np.array_equal(y, logsketch.jl_project(X, 20, kind="sparse", seed=3))
        assert np.allclose(est.transform(sp.csr_array(X)).toarray(), y)
        assert est.transform(X.astype(np.int64)).dtype == np.float64
        assert est.get_params()["seed"] == 3 and est.set_params(seed=4).seed == 4
        assert np.isnan(est.transform(np.full((1, 200), np.nan))).all()
        for bad, match in [(np.ones((2, 5)), "features"), (np.ones(200), "2-D"), (np.ones((0, 200)), "1 sample"),
                           (np.ones((2, 200), dtype=complex), "real")]:
            try:
                est.transform(bad)
            except ValueError as e:
                assert match in str(e), (match, e)
            else:
                raise AssertionError(match)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            logsketch.JLProjection(n_components=300).fit(X)
        assert "not reduced" in str(caught[0].message)
        assert logsketch.JLProjection(eps=0.5).fit(np.ones((10, 500))).n_components_ == logsketch.jl_min_dim(10, 0.5)
        again = pickle.loads(pickle.dumps(est.fit(X)))
        assert np.array_equal(again.transform(X), est.transform(X))
        try:
            est.set_params(bogus=1)
        except ValueError:
            print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
