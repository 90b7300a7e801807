"""logsketch.RandomizedSVD: TruncatedSVD / PCA behaviour, scikit-learn compatibility."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

import logsketch


def low_rank_plus_noise(m=300, n=60, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((m, 4)) @ (rng.standard_normal((4, n)) * np.array([[8.0], [5.0], [3.0], [2.0]]))
    return (signal + 0.1 * rng.standard_normal((m, n)) + 3.0).astype(dtype)


def test_center_true_is_pca():
    from sklearn.decomposition import PCA

    X = low_rank_plus_noise()
    ours = logsketch.RandomizedSVD(n_components=4, center=True, seed=0).fit(X)
    theirs = PCA(n_components=4, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.singular_values_, theirs.singular_values_, rtol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-8)
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-12)
    np.testing.assert_allclose(np.abs(ours.components_), np.abs(theirs.components_), atol=1e-8)
    Z = ours.transform(X)
    np.testing.assert_allclose(np.abs(Z), np.abs(theirs.transform(X)), atol=1e-7)
    np.testing.assert_array_equal(ours.fit_transform(X), Z)  # transform of the fitted X, as TruncatedSVD
    np.testing.assert_allclose(ours.inverse_transform(Z), theirs.inverse_transform(theirs.transform(X)), atol=1e-6)


def test_center_false_is_truncated_svd():
    from sklearn.decomposition import TruncatedSVD

    X = low_rank_plus_noise(seed=1)
    ours = logsketch.RandomizedSVD(n_components=4, seed=0).fit(X)
    theirs = TruncatedSVD(n_components=4, algorithm="arpack").fit(X)
    np.testing.assert_allclose(ours.singular_values_, theirs.singular_values_, rtol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-6)
    np.testing.assert_allclose(ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-6)
    assert np.all(ours.mean_ == 0)


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_matches_dense_and_stays_sparse(center, fmt):
    rng = np.random.default_rng(2)
    X = sp.random_array((200, 50), density=0.1, format=fmt, rng=rng) + sp.random_array(
        (200, 50), density=0.02, format=fmt, rng=rng) * 20
    X = X.asformat(fmt)
    dense = logsketch.RandomizedSVD(n_components=3, center=center, n_iter=10, seed=1).fit(X.toarray())
    est = logsketch.RandomizedSVD(n_components=3, center=center, n_iter=10, seed=1).fit(X)
    np.testing.assert_allclose(est.singular_values_, dense.singular_values_, rtol=1e-9)
    np.testing.assert_allclose(est.transform(X), dense.transform(X.toarray()), atol=1e-8)
    np.testing.assert_allclose(est.explained_variance_ratio_, dense.explained_variance_ratio_, rtol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(dtype):
    X = low_rank_plus_noise(dtype=dtype)
    est = logsketch.RandomizedSVD(n_components=3, center=True).fit(X)
    for attr in ("components_", "singular_values_", "explained_variance_", "explained_variance_ratio_", "mean_"):
        assert getattr(est, attr).dtype == dtype, attr
    assert est.transform(X).dtype == dtype


@pytest.mark.parametrize("center", [False, True])
def test_passes_check_estimator(center):
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(logsketch.RandomizedSVD(center=center))


def test_errors():
    X = low_rank_plus_noise()
    with pytest.raises(ValueError, match="n_components=61"):
        logsketch.RandomizedSVD(n_components=61).fit(X)
    with pytest.raises(TypeError, match="center"):
        logsketch.RandomizedSVD(center="yes").fit(X)
    with pytest.raises(ValueError, match="normalizer"):
        logsketch.RandomizedSVD(normalizer="svd").fit(X)
    with pytest.raises(ValueError, match="NaN|infinity"):
        logsketch.RandomizedSVD().fit(np.full((5, 5), np.nan))
    est = logsketch.RandomizedSVD(n_components=2).fit(X)
    with pytest.raises(ValueError, match="shape"):
        est.inverse_transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match="features"):
        est.transform(np.ones((3, 5)))
    with pytest.raises(AttributeError):  # NotFittedError is an AttributeError and a ValueError
        logsketch.RandomizedSVD().transform(X)


def test_plain_class_without_scikit_learn():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["sklearn"] = None  # import sklearn now raises ImportError
        import numpy as np, scipy.sparse as sp, logsketch
        from logsketch.exceptions import NotFittedError
        X = np.random.default_rng(0).standard_normal((50, 20))
        est = logsketch.RandomizedSVD(n_components=3, center=True, seed=3)
        assert repr(est).startswith("RandomizedSVD(n_components=3")
        try:
            est.transform(X)
        except NotFittedError:
            pass
        else:
            raise AssertionError("transform before fit")
        Z = est.fit_transform(X)
        assert Z.shape == (50, 3) and np.allclose(est.transform(sp.csr_array(X)), Z)
        assert est.get_params()["seed"] == 3 and est.set_params(seed=4).seed == 4
        for bad, match in [(np.ones((2, 5)), "features"), (np.full((2, 20), np.nan), "NaN")]:
            try:
                est.transform(bad)
            except ValueError as e:
                assert match in str(e), (match, e)
            else:
                raise AssertionError(match)
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
