"""RandomizedSVD and JLProjection on dask arrays (threaded scheduler): the in-memory fit, lazy transforms."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
sparse = pytest.importorskip("scipy.sparse")

import dask  # noqa: E402

import logsketch  # noqa: E402
from logsketch.sklearn import JLProjection, RandomizedSVD  # noqa: E402

K = 5
ATTRIBUTES = ("components_", "singular_values_", "explained_variance_", "explained_variance_ratio_", "mean_",
              "noise_variance_")


@pytest.fixture(autouse=True)
def threaded():
    with dask.config.set(scheduler="threads"):
        yield


def decaying(m, n, dtype, seed=0):
    """A (m, n) with singular values exp(-j / 10) and a nonzero mean: a spectrum the power iterations resolve."""
    rng = np.random.default_rng(seed)
    left = np.linalg.qr(rng.standard_normal((m, n)))[0]
    right = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return ((left * np.exp(-np.arange(n) / 10)) @ right.T + 0.01).astype(dtype)


def tolerance(dtype):
    """10 times the blocked factorization's own tolerance against memory (tests/test_dask_rsvd.py): 20 l eps."""
    return 10 * 20 * (K + 10) * np.finfo(dtype).eps


def assert_lazy(Y, X, width):
    assert isinstance(Y, da.Array)
    assert Y.chunks[0] == X.chunks[0] and Y.shape[1] == width


def assert_fits_match(got, expected, dtype):
    tol = tolerance(dtype)
    for name in ATTRIBUTES:
        g, e = getattr(got, name), getattr(expected, name)
        assert type(g) is type(e) and np.asarray(g).dtype == np.asarray(e).dtype == dtype, name
        scale = max(float(np.abs(e).max()), 1e-30)
        assert float(np.abs(g - e).max()) <= tol * scale, name
    for name in ("n_components_", "n_samples_", "n_features_in_"):
        assert getattr(got, name) == getattr(expected, name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("chunks", [(70, 40), (90, 15)], ids=str)
def test_rsvd_dense_matches_in_memory(dtype, center, whiten, chunks):
    X = decaying(300, 40, dtype)
    Xd = da.from_array(X, chunks=chunks)
    expected = RandomizedSVD(K, center=center, whiten=whiten, n_iter=3, seed=4)
    got = RandomizedSVD(K, center=center, whiten=whiten, n_iter=3, seed=4)
    Y0, Y = expected.fit_transform(X), got.fit_transform(Xd)
    assert_fits_match(got, expected, dtype)
    tol = tolerance(dtype) * float(np.abs(Y0).max())
    assert_lazy(Y, Xd, K)
    assert Y.dtype == dtype and np.abs(Y.compute() - Y0).max() <= tol
    T = got.transform(Xd)
    assert_lazy(T, Xd, K)
    assert np.abs(T.compute() - expected.transform(X)).max() <= tol
    Yd = da.from_array(Y0, chunks=(110, K))
    back = got.inverse_transform(Yd)
    assert_lazy(back, Yd, 40)
    assert back.dtype == dtype
    assert np.abs(back.compute() - expected.inverse_transform(Y0)).max() <= tolerance(dtype) * float(np.abs(X).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("sparse_chunks", [False, True])
def test_rsvd_wide_matches_in_memory(dtype, center, sparse_chunks):
    """A wide X is factored through X^T on dask as in memory: the same fit, lazy transforms."""
    X = np.ascontiguousarray(decaying(300, 40, dtype).T)
    Xd = da.from_array(X, chunks=(15, 120))
    if sparse_chunks:
        X = sparse.csr_matrix(np.where(np.abs(X) < 0.02, 0, X).astype(dtype))
        Xd = da.from_array(X, chunks=(15, 120), asarray=False)
    expected = RandomizedSVD(K, center=center, n_iter=3, seed=4)
    got = RandomizedSVD(K, center=center, n_iter=3, seed=4)
    Y0, Y = expected.fit_transform(X), got.fit_transform(Xd)
    assert_fits_match(got, expected, dtype)
    assert_lazy(Y, Xd, K)
    tol = tolerance(dtype) * float(np.abs(Y0).max())
    assert np.abs(Y.compute() - Y0).max() <= tol
    assert np.abs(got.transform(Xd).compute() - expected.transform(X)).max() <= tol


def test_rsvd_fit_returns_self_and_ints_become_float64():
    X = np.random.default_rng(1).integers(0, 9, size=(120, 12))
    est = RandomizedSVD(3, center=True, seed=2)
    assert est.fit(da.from_array(X, chunks=(50, 12))) is est
    expected = RandomizedSVD(3, center=True, seed=2).fit(X)
    assert_fits_match(est, expected, np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("center", [False, True])
def test_rsvd_sparse_chunks_match_in_memory_and_stay_sparse(dtype, center, monkeypatch):
    S = sparse.random(600, 50, density=0.05, format="csr", random_state=3, dtype=dtype)
    S = S + sparse.diags(np.linspace(1, 2, 50).astype(dtype), shape=(600, 50), format="csr")
    Sd = da.from_array(S, chunks=(150, 25), asarray=False)
    expected = RandomizedSVD(K, center=center, n_iter=3, seed=6).fit(S)
    got = RandomizedSVD(K, center=center, n_iter=3, seed=6).fit(Sd)
    assert_fits_match(got, expected, dtype)

    from logsketch import sklearn as module

    seen = []
    product = module._block_product

    def spy(block, M, c, declared, finite, block_id=None):  # map_blocks passes block_id by the signature
        seen.append(sparse.issparse(block))
        return product(block, M, c, declared, finite, block_id=block_id)

    monkeypatch.setattr(module, "_block_product", spy)
    T = got.transform(Sd)
    assert_lazy(T, Sd, K)
    tol = tolerance(dtype) * float(np.abs(expected.transform(S)).max())
    assert np.abs(T.compute() - expected.transform(S)).max() <= tol
    assert seen and all(seen)  # the blocks reached the product as scipy.sparse, never densified


def test_rsvd_sparse_shape_too_large_to_densify():
    """A 200000 x 100000 CSR-chunked matrix (80 GB dense in float32): fit and transform never densify it."""
    m, n = 200_000, 100_000
    rng = np.random.default_rng(0)

    def block(rows, nnz=20_000):
        coo = (rng.random(nnz, dtype=np.float32), (rng.integers(0, rows, nnz), rng.integers(0, n, nnz)))
        return sparse.csr_matrix(coo, shape=(rows, n))

    blocks = [block(50_000) for _ in range(4)]
    Sd = da.concatenate([da.from_array(b, chunks=b.shape, asarray=False) for b in blocks], axis=0)
    assert Sd.shape == (m, n)
    est = RandomizedSVD(2, center=True, n_iter=1, n_oversamples=2, seed=0).fit(Sd)
    assert est.components_.shape == (2, n) and np.isfinite(est.components_).all()
    assert est.transform(Sd).compute().shape == (m, 2)


def test_transform_with_column_chunks_sums_partial_products():
    X = decaying(200, 40, np.float64)
    est = RandomizedSVD(K, center=True, seed=1).fit(X)
    T = est.transform(da.from_array(X, chunks=(64, 7)))
    assert T.chunks == ((64, 64, 64, 8), (K,))
    np.testing.assert_allclose(T.compute(), est.transform(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["gaussian", "sparse", "srht"])
def test_jl_matches_in_memory_and_is_lazy(dtype, kind):
    X = np.random.default_rng(2).standard_normal((250, 60)).astype(dtype)
    Xd = da.from_array(X, chunks=(64, 30))
    expected = JLProjection(16, kind=kind, seed=9).fit(X)
    got = JLProjection(16, kind=kind, seed=9).fit(Xd)
    assert (got.n_components_, got.n_features_in_, got._dtype) == (expected.n_components_, 60, expected._dtype)
    for Y in (got.transform(Xd), JLProjection(16, kind=kind, seed=9).fit_transform(Xd)):
        assert_lazy(Y, Xd, 16)
        assert Y.dtype == dtype
        np.testing.assert_array_equal(Y.compute(), expected.transform(X))  # the in-memory bits
    dense = [r.toarray() if sparse.issparse(r) else r for r in (got.components_, expected.components_)]
    np.testing.assert_array_equal(*dense)
    Y0 = expected.transform(X)
    back = got.inverse_transform(da.from_array(Y0, chunks=(100, 16)))
    assert isinstance(back, da.Array) and back.chunks[0] == (100, 100, 50)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(back.compute(), expected.inverse_transform(Y0), rtol=tol, atol=tol)


def test_jl_sparse_chunks_and_auto_components():
    S = sparse.random(400, 3000, density=0.01, format="csr", random_state=1)
    Sd = da.from_array(S, chunks=(100, 3000), asarray=False)
    got = JLProjection(eps=0.5, kind="sparse", seed=3).fit(Sd)
    expected = JLProjection(eps=0.5, kind="sparse", seed=3, dense_output=True).fit(S)
    assert got.n_components_ == expected.n_components_
    Y = got.transform(Sd)
    assert_lazy(Y, Sd, got.n_components_)
    np.testing.assert_array_equal(Y.compute(), expected.transform(S))  # dask input always gives dense output


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("est", [RandomizedSVD(2), JLProjection(2)], ids=lambda e: type(e).__name__)
def test_unknown_chunk_sizes_refused(est):
    X = da.from_array(np.ones((20, 6)), chunks=5)
    X = X[X[:, 0] > 0]
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        est.fit(X)


@pytest.mark.parametrize("est", [RandomizedSVD(2), JLProjection(2)], ids=lambda e: type(e).__name__)
def test_complex_refused_and_feature_count_checked(est):
    with pytest.raises(TypeError, match="X must hold real numbers"):
        est.fit(da.zeros((10, 4), dtype=np.complex128))
    est.fit(da.from_array(np.random.default_rng(0).standard_normal((10, 4)), chunks=5))
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 4 features"):
        est.transform(da.zeros((10, 3)))


def test_not_fitted_on_dask_input():
    with pytest.raises(logsketch.exceptions.NotFittedError):
        RandomizedSVD(2).transform(da.zeros((4, 3)))


def test_nan_in_a_block_named_when_computed():
    X = np.random.default_rng(0).standard_normal((60, 8))
    est = RandomizedSVD(2, seed=0).fit(X)
    X[45, 3] = np.nan
    T = est.transform(da.from_array(X, chunks=(20, 8)))  # lazy: nothing checked yet
    with pytest.raises(ValueError, match=r"X block \(2, 0\) contains NaN or infinity"):
        T.compute()
    with pytest.raises(ValueError, match="NaN or infinity"):
        RandomizedSVD(2, seed=0).fit(da.from_array(X, chunks=(20, 8)))


def test_k_too_large_and_inverse_shape():
    Xd = da.from_array(np.random.default_rng(0).standard_normal((30, 4)), chunks=10)
    with pytest.raises(ValueError, match="n_components=5 must be between 1 and"):
        RandomizedSVD(5).fit(Xd)
    est = RandomizedSVD(2).fit(Xd)
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 2\)"):
        est.inverse_transform(da.zeros((3, 3)))


def test_score_samples_refuses_dask():
    Xd = da.from_array(np.random.default_rng(0).standard_normal((30, 4)), chunks=10)
    est = RandomizedSVD(2).fit(Xd)
    with pytest.raises(TypeError, match="runs on numpy arrays and scipy.sparse matrices; got a dask array"):
        est.score_samples(Xd)
