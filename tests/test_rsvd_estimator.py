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
    # U * S, as PCA: transform(X) up to the factorization's residual
    np.testing.assert_allclose(ours.fit_transform(X), Z, rtol=1e-9, atol=1e-9 * np.abs(Z).max())
    np.testing.assert_allclose(ours.inverse_transform(Z), theirs.inverse_transform(theirs.transform(X)), atol=1e-6)
    np.testing.assert_allclose(ours.noise_variance_, theirs.noise_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.get_covariance(), theirs.get_covariance(), atol=1e-8)
    np.testing.assert_allclose(ours.get_precision(), theirs.get_precision(), atol=1e-8)
    np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-9)
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=1e-10)
    assert ours.n_samples_ == 300


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


def test_components_signs_are_truncated_svds():
    """Each row's largest-magnitude entry positive, as TruncatedSVD and PCA (svd_flip, u_based_decision=False)."""
    from sklearn.decomposition import PCA, TruncatedSVD

    X = np.random.default_rng(0).standard_normal((60, 55)) * np.linspace(3, 0.1, 55)
    a = logsketch.RandomizedSVD(5, seed=0).fit(X).components_
    b = TruncatedSVD(5, random_state=0).fit(X).components_
    np.testing.assert_array_equal(np.sign((a * b).sum(1)), np.ones(5))
    a = logsketch.RandomizedSVD(5, center=True, seed=0).fit(X).components_
    b = PCA(5, svd_solver="randomized", random_state=0).fit(X).components_
    np.testing.assert_array_equal(np.sign((a * b).sum(1)), np.ones(5))
    rows = np.arange(5)
    assert (a[rows, np.abs(a).argmax(axis=1)] > 0).all()


def test_wide_data_is_factored_through_its_transpose():
    """transpose="auto": scikit-learn's accuracy on wide X (its test_singular_values_expected)."""
    X = np.random.RandomState(42).randn(100, 110)
    est = logsketch.RandomizedSVD(n_components=3, seed=0)
    Z = est.fit_transform(X)
    gram = Z.T @ Z
    assert np.abs(gram - np.diag(np.diag(gram))).max() < 1e-13 * np.abs(gram).max()
    Z /= np.sqrt((Z**2).sum(axis=0))
    Z *= [3.142, 2.718, 1.0]
    np.testing.assert_allclose(est.fit(Z @ est.components_).singular_values_, [3.142, 2.718, 1.0], rtol=1e-14)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pca_explained_variance_is_the_variance_of_fit_transform(sparse, dtype):
    X = low_rank_plus_noise(m=200, n=80, seed=3, dtype=dtype)
    est = logsketch.RandomizedSVD(n_components=6, center=True, seed=2)
    Z = est.fit_transform(sp.csr_array(X) if sparse else X)
    rtol = 1e-14 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(est.explained_variance_, Z.var(axis=0, ddof=1, dtype=np.float64), rtol=rtol)
    total = X.astype(np.float64).var(axis=0, ddof=1).sum()
    np.testing.assert_allclose(est.explained_variance_ / est.explained_variance_ratio_, total, rtol=rtol)
    assert Z.dtype == dtype and est.score_samples(X).dtype == dtype and est.get_covariance().dtype == dtype


def test_whiten_like_pca():
    from sklearn.decomposition import PCA

    X = low_rank_plus_noise(seed=4)
    ours = logsketch.RandomizedSVD(n_components=4, center=True, whiten=True, seed=0)
    Z = ours.fit_transform(X)
    np.testing.assert_allclose(Z.std(axis=0, ddof=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(ours.transform(X), Z, rtol=1e-6, atol=1e-9)
    plain = logsketch.RandomizedSVD(n_components=4, center=True, seed=0).fit(X)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)), plain.inverse_transform(plain.transform(X)),
                               atol=1e-9)
    theirs = PCA(n_components=4, whiten=True, svd_solver="full").fit(X)
    np.testing.assert_allclose(np.abs(ours.transform(X)), np.abs(theirs.transform(X)), atol=1e-6)
    np.testing.assert_allclose(ours.get_covariance(), theirs.get_covariance(), rtol=1e-7, atol=1e-8)
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=1e-7)


def test_sparse_pca_model_matches_dense():
    rng = np.random.default_rng(5)
    X = sp.random_array((150, 40), density=0.2, format="csr", rng=rng) * 10
    dense = logsketch.RandomizedSVD(n_components=5, center=True, n_iter=10, seed=1).fit(X.toarray())
    est = logsketch.RandomizedSVD(n_components=5, center=True, n_iter=10, seed=1).fit(X)
    np.testing.assert_allclose(est.noise_variance_, dense.noise_variance_, rtol=1e-10)
    np.testing.assert_allclose(est.score_samples(X), dense.score_samples(X.toarray()), rtol=1e-9)
    cov, precision = est.get_covariance(), est.get_precision()
    np.testing.assert_allclose(cov @ precision, np.eye(40), atol=1e-10)


def test_all_components_have_no_noise_variance():
    X = low_rank_plus_noise(m=100, n=3, seed=6)
    est = logsketch.RandomizedSVD(n_components=None, center=True).fit(X)
    assert est.n_components_ == 3 and est.noise_variance_ == 0
    np.testing.assert_allclose(est.get_covariance() @ est.get_precision(), np.eye(3), atol=1e-9)
    assert np.isfinite(est.score(X))
    wide = logsketch.RandomizedSVD(n_components=None, center=True).fit(X.T)
    assert wide.n_components_ == 3 and wide.noise_variance_ == 0


def test_randomized_svd_warns_on_lil_and_dok():
    """The function warns as scikit-learn's randomized_svd; the estimators convert silently, as scikit-learn's."""
    X = sp.random_array((40, 30), density=0.3, format="csr", rng=np.random.default_rng(0))
    for fmt in ("lil", "dok"):
        with pytest.warns(sp.SparseEfficiencyWarning, match="CSR format is more efficient"):
            logsketch.randomized_svd(X.asformat(fmt), 3)
    logsketch.RandomizedSVD(3).fit(X.tolil())


def test_device_arrays_are_refused_by_name():
    class OnDevice:
        __cuda_array_interface__ = {}

    with pytest.raises(TypeError, match="cuda"):
        logsketch.RandomizedSVD().fit(OnDevice())


def test_errors():
    X = low_rank_plus_noise()
    with pytest.raises(ValueError, match="n_components=61"):
        logsketch.RandomizedSVD(n_components=61).fit(X)
    with pytest.raises(ValueError, match="cannot be a string"):
        logsketch.RandomizedSVD(n_components="mle").fit(X)
    with pytest.raises(TypeError, match="whiten"):
        logsketch.RandomizedSVD(whiten="yes").fit(X)
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
        assert Z.shape == (50, 3) and np.allclose(est.transform(sp.csr_array(X)), est.transform(X))
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


def test_docstring_example():
    import doctest

    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in doctest.DocTestFinder(recurse=False).find(logsketch.RandomizedSVD, "RandomizedSVD", globs={}):
        runner.run(test)
    assert runner.tries and runner.failures == 0
