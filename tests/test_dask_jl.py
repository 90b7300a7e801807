"""jl_project on dask arrays: lazy, X's row blocks, and the in-memory bits whatever the chunking."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
sparse = pytest.importorskip("scipy.sparse")

import dask  # noqa: E402

import logsketch  # noqa: E402

KINDS = ("gaussian", "sparse", "srht")
CHUNKS = {
    "rows": (25, 41),
    "columns": (97, 7),
    "both": (13, 16),
    "uneven": ((50, 1, 0, 46), (3, 30, 8)),
}


@pytest.fixture(autouse=True)
def threaded():
    with dask.config.set(scheduler="threads"):
        yield


def _data(dtype, shape=(97, 41), seed=0):
    X = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    X[np.abs(X) < 0.8] = 0  # zeros, so the sparse blocks are sparse
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("chunks", list(CHUNKS), ids=str)
def test_dense_chunks_bit_identical(dtype, kind, chunks):
    X = _data(dtype)
    Y = logsketch.jl_project(da.from_array(X, chunks=CHUNKS[chunks]), 24, kind=kind, seed=7)
    assert isinstance(Y, da.Array)
    assert Y.chunks[0] == da.from_array(X, chunks=CHUNKS[chunks]).chunks[0] and Y.dtype == dtype
    expected = logsketch.jl_project(X, 24, kind=kind, seed=7)
    assert np.array_equal(Y.compute(), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("chunks", list(CHUNKS), ids=str)
def test_sparse_chunks_bit_identical(dtype, kind, chunks):
    X = _data(dtype, seed=1)
    D = da.from_array(X, chunks=CHUNKS[chunks]).map_blocks(sparse.csr_matrix, dtype=dtype)
    Y = logsketch.jl_project(D, 24, kind=kind, seed=3, density=0.25)
    expected = logsketch.jl_project(sparse.csr_matrix(X), 24, kind=kind, seed=3, density=0.25)
    assert np.array_equal(Y.compute(), expected)


def test_float16_widened_and_nan_propagates():
    X = _data(np.float16)
    X[5, 3] = np.nan
    Y = logsketch.jl_project(da.from_array(X, chunks=(10, 41)), 8)
    assert Y.dtype == np.float32
    got = Y.compute()
    assert np.array_equal(got, logsketch.jl_project(X, 8), equal_nan=True)
    assert np.isnan(got[5]).all() and np.isfinite(np.delete(got, 5, axis=0)).all()


def test_errors():
    X = da.from_array(_data(np.float64), chunks=(20, 41))
    with pytest.raises(ValueError, match="X has unknown chunk sizes"):
        logsketch.jl_project(X[X[:, 0] > 0], 4)
    with pytest.raises(TypeError, match="X must have a float dtype"):
        logsketch.jl_project(X.astype(np.int64), 4)
    with pytest.raises(ValueError, match="n_components"):
        logsketch.jl_project(X, 0)
    with pytest.raises(ValueError, match="2-D"):
        logsketch.jl_project(X[:, 0], 4)
    mixed = X.map_blocks(lambda b, block_id=None: b.astype(np.float32) if block_id[0] == 3 else b, dtype=np.float64)
    Y = logsketch.jl_project(mixed, 4)  # lazy: the block is found when computed
    with pytest.raises(TypeError, match=r"X block \(3, 0\) has dtype float32"):
        Y.compute()


def test_nothing_broadcast():
    """The graph carries the seed, not R: pickled, it is far smaller than R (512 x 5000 float32 = 10 MB)."""
    import pickle

    X = da.zeros((1000, 5000), chunks=(250, 5000), dtype=np.float32)
    for kind in KINDS:
        Y = logsketch.jl_project(X, 512, kind=kind, seed=1)
        assert len(pickle.dumps(dict(Y.__dask_graph__()))) < 100_000
