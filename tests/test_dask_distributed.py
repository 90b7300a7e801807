"""The dask backend on a real dask.distributed LocalCluster: 2 worker processes, 1 thread each.

Tasks run in other processes, so the random matrices are regenerated there
from the seed: the results must still equal the single-machine calls.
"""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
sparse = pytest.importorskip("scipy.sparse")

import logsketch  # noqa: E402
from logsketch.rsvd import _cpu, _dask, resolve  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit="1GiB") as cluster, distributed.Client(cluster) as client:
        yield client


def _low_rank(m, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    A = (rng.standard_normal((m, 12)) * np.geomspace(10, 1, 12)) @ rng.standard_normal((12, n))
    return (A + 0.01 * rng.standard_normal((m, n))).astype(dtype)


def test_runs_on_two_worker_processes(client):
    assert len(client.scheduler_info()["workers"]) == 2


@pytest.mark.parametrize("kind", ["gaussian", "sparse", "srht"])
@pytest.mark.parametrize("sparse_chunks", [False, True])
def test_jl_bit_identical(client, kind, sparse_chunks):
    X = _low_rank(500, 70, np.float32)
    D = da.from_array(X, chunks=(60, 30))
    if sparse_chunks:
        X[np.abs(X) < 2] = 0
        D = da.from_array(X, chunks=(60, 30)).map_blocks(sparse.csr_matrix, dtype=np.float32)
        X = sparse.csr_matrix(X)
    Y = client.compute(logsketch.jl_project(D, 32, kind=kind, seed=11)).result()
    assert np.array_equal(Y, logsketch.jl_project(X, 32, kind=kind, seed=11))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rsvd_matches_in_memory(client, dtype):
    A = _low_rank(2000, 90, dtype)
    U, S, Vt = logsketch.randomized_svd(da.from_array(A, chunks=(250, 45)), 10, n_iter=3, seed=2)
    U0, S0, Vt0 = logsketch.randomized_svd(A, 10, n_iter=3, seed=2)
    tol = 20 * 20 * np.finfo(dtype).eps
    np.testing.assert_allclose(S, S0, rtol=tol)
    U = U.compute()
    np.testing.assert_allclose(U, U0, atol=100 * tol)
    np.testing.assert_allclose(Vt, Vt0, atol=100 * tol)


def test_rsvd_centered_sparse(client):
    S = sparse.random(1500, 120, density=0.03, random_state=4, format="csr", dtype=np.float64)
    D = da.from_array(S.toarray(), chunks=(300, 120)).map_blocks(sparse.csr_matrix, dtype=np.float64)
    mean = _dask.column_mean(D)
    spec = resolve(S.shape, 6, 10, 4, "auto", False, True, "gaussian", 0)
    _, s, Vt = _dask.factor(_dask.as_input(D), spec, mean)
    _, s0, Vt0 = _cpu.factor("csr", S, spec, mean)
    np.testing.assert_allclose(s, s0, rtol=1e-12)
    np.testing.assert_allclose(Vt, Vt0, atol=1e-10)


def test_block_error_crosses_processes(client):
    A = _low_rank(200, 20, np.float64)
    A[170, 2] = np.nan
    with pytest.raises(ValueError, match=r"A block \(3, 0\) contains NaN or infinity"):
        logsketch.randomized_svd(da.from_array(A, chunks=(50, 20)), 3)


@pytest.mark.parametrize("sparse_chunks", [False, True])
def test_rsvd_wide_matches_in_memory(client, sparse_chunks):
    """A wide A goes through A^T on the workers, as in memory; U comes back with A's row chunks."""
    A = _low_rank(40, 600, np.float64)
    D = da.from_array(A, chunks=(20, 200))
    X = A
    if sparse_chunks:
        A[np.abs(A) < 2] = 0
        D = da.from_array(A, chunks=(20, 200)).map_blocks(sparse.csr_matrix, dtype=np.float64)
        X = sparse.csr_matrix(A)
    U, S, Vt = logsketch.randomized_svd(D, 8, n_iter=3, seed=4)
    U0, S0, Vt0 = logsketch.randomized_svd(X, 8, n_iter=3, seed=4)
    assert U.chunks[0] == D.chunks[0]
    tol = 20 * 18 * np.finfo(np.float64).eps
    np.testing.assert_allclose(S, S0, rtol=tol)
    np.testing.assert_allclose(U.compute(), U0, atol=100 * tol)
    np.testing.assert_allclose(Vt, Vt0, atol=100 * tol)
    mean = _dask.column_mean(D)
    spec = resolve(A.shape, 8, 10, 3, "auto", "auto", True, "gaussian", 4)
    got = _dask.factor(_dask.as_input(D), spec, mean)
    expected = _cpu.factor("csr" if sparse_chunks else "dense", X, spec, mean)
    np.testing.assert_allclose(got[1], expected[1], rtol=tol)
    np.testing.assert_allclose(got[2], expected[2], atol=100 * tol)


def test_wide_block_error_crosses_processes(client):
    A = _low_rank(20, 200, np.float64)
    A[12, 170] = np.inf
    with pytest.raises(ValueError, match=r"A block \(1, 3\) contains NaN or infinity"):
        logsketch.randomized_svd(da.from_array(A, chunks=(10, 50)), 3)


# --------------------------------------------------------------------------- the estimators


def _assert_close(got, expected, dtype):
    """To 10 times the factorization's own tolerance (20 l eps, l = 15), relative to the expected scale."""
    scale = max(float(np.abs(expected).max()), 1e-30)
    assert float(np.abs(np.asarray(got) - expected).max()) <= 10 * 20 * 15 * np.finfo(dtype).eps * scale


@pytest.mark.parametrize(("shape", "dtype", "sparse_chunks"), [((400, 30), np.float64, False),
                                                                ((30, 400), np.float32, False),
                                                                ((30, 400), np.float64, True)], ids=str)
@pytest.mark.parametrize("center", [False, True])
def test_rsvd_estimator_matches_in_memory(client, shape, dtype, sparse_chunks, center):
    from logsketch.sklearn import RandomizedSVD

    X = _low_rank(*shape, dtype, seed=1) + dtype(0.5)
    Xd = da.from_array(X, chunks=(100, 30) if shape[0] > shape[1] else (15, 200))
    if sparse_chunks:
        X[np.abs(X) < 2] = 0
        Xd = da.from_array(X, chunks=(15, 200)).map_blocks(sparse.csr_matrix, dtype=dtype)
        X = sparse.csr_matrix(X)
    expected = RandomizedSVD(5, center=center, whiten=center, n_iter=3, seed=3)
    got = RandomizedSVD(5, center=center, whiten=center, n_iter=3, seed=3)
    Y0, Y = expected.fit_transform(X), got.fit_transform(Xd)
    for name in ("components_", "singular_values_", "explained_variance_", "explained_variance_ratio_", "mean_"):
        g, e = getattr(got, name), getattr(expected, name)
        assert isinstance(g, np.ndarray) and g.dtype == dtype, name
        _assert_close(g, e, dtype)
    assert isinstance(Y, da.Array) and Y.chunks[0] == Xd.chunks[0]
    _assert_close(client.compute(Y).result(), Y0, dtype)
    _assert_close(client.compute(got.transform(Xd)).result(), expected.transform(X), dtype)
    back = got.inverse_transform(da.from_array(Y0, chunks=(200, 5)))
    _assert_close(client.compute(back).result(), expected.inverse_transform(Y0), dtype)


@pytest.mark.parametrize("kind", ["gaussian", "sparse"])
@pytest.mark.parametrize("sparse_chunks", [False, True])
def test_jl_estimator_bit_identical(client, kind, sparse_chunks):
    from logsketch.sklearn import JLProjection

    X = _low_rank(300, 50, np.float32, seed=2)
    Xd = da.from_array(X, chunks=(150, 25))
    if sparse_chunks:
        X[np.abs(X) < 2] = 0
        Xd = da.from_array(X, chunks=(150, 25)).map_blocks(sparse.csr_matrix, dtype=np.float32)
        X = sparse.csr_matrix(X)
    expected = JLProjection(12, kind=kind, seed=5, dense_output=True).fit(X)
    got = JLProjection(12, kind=kind, seed=5).fit(Xd)
    Y0 = expected.transform(X)
    for Y in (got.transform(Xd), JLProjection(12, kind=kind, seed=5).fit_transform(Xd)):
        assert isinstance(Y, da.Array) and Y.chunks[0] == Xd.chunks[0]
        assert np.array_equal(client.compute(Y).result(), Y0)
    back = client.compute(got.inverse_transform(da.from_array(Y0, chunks=(150, 12)))).result()
    np.testing.assert_allclose(back, expected.inverse_transform(Y0), rtol=1e-5, atol=1e-5)
