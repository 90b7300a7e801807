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
