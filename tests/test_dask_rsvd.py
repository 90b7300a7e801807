"""randomized_svd on dask arrays (threaded scheduler): the in-memory factorization, block by block."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
sparse = pytest.importorskip("scipy.sparse")

import dask  # noqa: E402

import logsketch  # noqa: E402
from logsketch.rsvd import _cpu, _dask, resolve  # noqa: E402

K = 8


@pytest.fixture(autouse=True)
def threaded():
    with dask.config.set(scheduler="threads"):
        yield


def decaying(m, n, dtype, seed=0):
    """A (m, n) with singular values exp(-j / 15): a spectrum the power iterations can resolve."""
    rng = np.random.default_rng(seed)
    left = np.linalg.qr(rng.standard_normal((m, n)))[0]
    right = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return ((left * np.exp(-np.arange(n) / 15)) @ right.T).astype(dtype)


def tolerance(dtype, l):  # noqa: E741
    """A few l eps: the in-memory and the blocked sums round differently, the steps are the same."""
    return 20 * l * np.finfo(dtype).eps


def assert_matches(got, expected, dtype, l):  # noqa: E741
    U, S, Vt = got
    U0, S0, Vt0 = expected
    assert isinstance(U, da.Array) and isinstance(S, np.ndarray) and isinstance(Vt, np.ndarray)
    assert U.dtype == S.dtype == Vt.dtype == dtype
    tol = tolerance(dtype, l)
    np.testing.assert_allclose(S, S0, rtol=tol)
    U = U.compute()
    # The same signs (flipped as in memory), so the factors themselves agree.
    assert np.abs(U - U0).max() <= 100 * tol and np.abs(Vt - Vt0).max() <= 100 * tol


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunks", [(100, 60), (130, 17), ((300, 1, 99), (60,))], ids=str)
@pytest.mark.parametrize("sketch", ["gaussian", "sparse", "srht"])
def test_dense_matches_in_memory(dtype, chunks, sketch):
    A = decaying(400, 60, dtype)
    got = logsketch.randomized_svd(da.from_array(A, chunks=chunks), K, n_iter=3, sketch=sketch, seed=5)
    assert got[0].chunks[0] == da.from_array(A, chunks=chunks).chunks[0]
    assert_matches(got, logsketch.randomized_svd(A, K, n_iter=3, sketch=sketch, seed=5), dtype, K + 10)


@pytest.mark.parametrize("normalizer", ["none", "lu", "qr", "cholqr"])
def test_normalizers(normalizer):
    A = decaying(300, 50, np.float64, seed=2)
    got = logsketch.randomized_svd(da.from_array(A, chunks=(70, 25)), K, n_iter=2, normalizer=normalizer, seed=1)
    assert_matches(got, logsketch.randomized_svd(A, K, n_iter=2, normalizer=normalizer, seed=1), np.float64, K + 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_chunks_centered(dtype):
    S = sparse.random(600, 80, density=0.05, random_state=3, format="csr", dtype=dtype)
    D = da.from_array(S.toarray(), chunks=(150, 40)).map_blocks(sparse.csr_matrix, dtype=dtype)
    mean = _dask.column_mean(D)
    np.testing.assert_allclose(mean, np.asarray(S.astype(np.float64).mean(axis=0)).ravel(), rtol=1e-12)
    mean2, total = _dask.column_moments(D, True)
    dense = S.toarray().astype(np.float64)
    assert np.array_equal(mean2, mean) and np.isclose(total, ((dense - dense.mean(axis=0)) ** 2).sum() / 599, rtol=1e-12)
    spec = resolve(S.shape, K, 10, 4, "auto", False, True, "gaussian", 0)
    U, s, Vt = _dask.factor(_dask.as_input(D), spec, mean.astype(dtype))
    assert sparse.issparse(D.blocks[0, 0].compute())  # the input stays sparse: centering is implicit
    expected = _cpu.factor("csr", S, spec, mean.astype(dtype))
    assert_matches((U, s, Vt), expected, dtype, K + 10)
    # The factorization is of A - 1 mean^T: U is orthogonal to the ones vector.
    assert np.abs(U.sum(axis=0).compute()).max() < 1e3 * np.finfo(dtype).eps * np.sqrt(600)


def test_integers_become_float64_on_a_wide_array():
    A = np.random.default_rng(0).integers(-5, 5, size=(40, 90))
    U, S, Vt = logsketch.randomized_svd(da.from_array(A, chunks=(10, 30)), 5, n_iter=6, seed=0)
    assert U.dtype == S.dtype == np.float64 and U.shape == (40, 5) and Vt.shape == (5, 90)
    exact = np.linalg.svd(A.astype(np.float64), compute_uv=False)[:5]
    np.testing.assert_allclose(S, exact, rtol=1e-2)
    U = U.compute()
    np.testing.assert_allclose(U.T @ U, np.eye(5), atol=1e-12)


def wide(m, n, dtype, seed=0):
    """A wide (m < n) matrix with the decaying spectrum."""
    return np.ascontiguousarray(decaying(n, m, dtype, seed).T)


def sparse_chunks(A, chunks, fmt="csr"):
    """A dask array of A's values (small entries zeroed) with scipy.sparse chunks, and the in-memory CSR."""
    A = np.where(np.abs(A) < np.quantile(np.abs(A), 0.7), 0, A).astype(A.dtype)
    make = sparse.csr_matrix if fmt == "csr" else sparse.csc_matrix
    return da.from_array(A, chunks=chunks).map_blocks(make, dtype=A.dtype), sparse.csr_matrix(A)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunks", [(60, 100), (25, 400), (25, 130), ((7, 53), (400,))], ids=str)
@pytest.mark.parametrize("transpose", ["auto", False])
@pytest.mark.parametrize("sketch", ["gaussian", "sparse"])
def test_wide_dense_matches_in_memory(dtype, chunks, transpose, sketch):
    A = wide(60, 400, dtype)
    D = da.from_array(A, chunks=chunks)
    got = logsketch.randomized_svd(D, K, n_iter=3, transpose=transpose, sketch=sketch, seed=5)
    assert got[0].chunks == (D.chunks[0], (K,))
    expected = logsketch.randomized_svd(A, K, n_iter=3, transpose=transpose, sketch=sketch, seed=5)
    assert_matches(got, expected, dtype, K + 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunks", [(60, 100), (20, 400), (25, 130)], ids=str)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_wide_sparse_chunks_match_in_memory(dtype, chunks, fmt):
    D, S = sparse_chunks(wide(60, 400, dtype), chunks, fmt)
    got = logsketch.randomized_svd(D, K, n_iter=3, seed=3)
    assert_matches(got, logsketch.randomized_svd(S, K, n_iter=3, seed=3), dtype, K + 10)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("chunks", [(100, 60), (130, 17)], ids=str)
@pytest.mark.parametrize("sketch", ["gaussian", "sparse", "srht"])
def test_tall_sparse_chunks_each_sketch(fmt, chunks, sketch):
    # Sparse blocks of whole rows or of column chunks, against each sketch's
    # Omega (the sparse kind's is itself sparse): the in-memory result.
    D, S = sparse_chunks(decaying(400, 60, np.float64, seed=4), chunks, fmt)
    got = logsketch.randomized_svd(D, K, n_iter=2, sketch=sketch, seed=9)
    assert_matches(got, logsketch.randomized_svd(S, K, n_iter=2, sketch=sketch, seed=9), np.float64, K + 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunks", [(100, 60), (130, 17)], ids=str)
def test_tall_transposed_explicitly(dtype, chunks):
    A = decaying(400, 60, dtype)
    got = logsketch.randomized_svd(da.from_array(A, chunks=chunks), K, n_iter=3, transpose=True, seed=7)
    assert_matches(got, logsketch.randomized_svd(A, K, n_iter=3, transpose=True, seed=7), dtype, K + 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(60, 300), (300, 60)], ids=str)
@pytest.mark.parametrize("transpose", [True, False])
@pytest.mark.parametrize("sparse_blocks", [False, True])
def test_centered_either_way(dtype, shape, transpose, sparse_blocks, monkeypatch):
    m, n = shape
    A = decaying(m, n, dtype) if m >= n else wide(m, n, dtype)
    A = (A + 0.05).astype(dtype)  # a mean worth subtracting
    if sparse_blocks:
        D, X = sparse_chunks(A, (25, 70))
        fmt = "csr"
    else:
        D, X, fmt = da.from_array(A, chunks=(25, 70)), A, "dense"
    mean = _dask.column_mean(D).astype(dtype)
    spec = resolve(A.shape, K, 10, 4, "auto", transpose, True, "gaussian", 0)
    seen = []
    block = _dask._block

    def spy(a, r, c, ctx):
        out = block(a, r, c, ctx)
        seen.append(sparse.issparse(out))
        return out

    monkeypatch.setattr(_dask, "_block", spy)
    got = _dask.factor(_dask.as_input(D), spec, mean)
    assert seen and all(seen) == sparse_blocks  # centering is implicit: sparse blocks stay sparse
    assert_matches(got, _cpu.factor(fmt, X, spec, mean), dtype, K + 10)
    # The factorization is of A - 1 mean^T: U is orthogonal to the ones vector.
    assert np.abs(got[0].sum(axis=0).compute()).max() < 1e3 * np.finfo(dtype).eps * np.sqrt(m)


def test_wide_driver_panels_are_m_by_l(monkeypatch):
    """Transposed, the driver's panels (M^T Q, the normalized Z) have A's row count, not its column count."""
    A = wide(30, 2000, np.float64)
    shapes = []
    apply_t = _dask._apply_t

    def spy(*args):
        out = apply_t(*args)
        shapes.append(out.shape)
        return out

    monkeypatch.setattr(_dask, "_apply_t", spy)
    U, S, Vt = logsketch.randomized_svd(da.from_array(A, chunks=(30, 500)), 4, n_iter=2, seed=0)
    assert shapes and all(s == (30, 14) for s in shapes)
    assert U.shape == (30, 4) and Vt.shape == (4, 2000) and Vt.flags.c_contiguous


def test_u_is_lazy_and_never_gathers_a():
    A = decaying(200, 30, np.float64)
    D = da.from_array(A, chunks=(50, 30))
    U, _, _ = logsketch.randomized_svd(D, 4, seed=0)
    assert isinstance(U, da.Array) and U.numblocks == (4, 1)
    assert not any(D.name in str(k) for k in dict(U.__dask_graph__()))  # U is built from the persisted sketch


def test_nan_named_with_its_block():
    A = decaying(120, 20, np.float64)
    A[95, 13] = np.inf
    for sketch in ("gaussian", "sparse", "srht"):
        with pytest.raises(ValueError, match=r"A block \(3, 1\) contains NaN or infinity"):
            logsketch.randomized_svd(da.from_array(A, chunks=(30, 10)), 3, sketch=sketch)


@pytest.mark.parametrize("transpose", [True, False])
def test_nan_named_with_its_block_wide(transpose):
    A = wide(20, 120, np.float64)
    A[13, 95] = np.nan
    for sketch in ("gaussian", "sparse", "srht"):
        with pytest.raises(ValueError, match=r"A block \(1, 3\) contains NaN or infinity"):
            logsketch.randomized_svd(da.from_array(A, chunks=(10, 30)), 3, sketch=sketch, transpose=transpose)
    D, _ = sparse_chunks(A, (10, 30))
    with pytest.raises(ValueError, match=r"A block \(1, 3\) contains NaN or infinity"):
        logsketch.randomized_svd(D, 3, sketch="sparse", transpose=transpose)


def test_wide_block_dtype_named():
    D = da.from_array(wide(20, 60, np.float64), chunks=(10, 20))
    mixed = D.map_blocks(lambda b, block_id=None: b.astype(np.float32) if block_id == (1, 2) else b, dtype=np.float64)
    with pytest.raises(TypeError, match=r"A block \(1, 2\) has dtype float32"):
        logsketch.randomized_svd(mixed, 2)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # numpy's, on the way to the OverflowError
def test_errors():
    D = da.from_array(decaying(60, 20, np.float64), chunks=(20, 20))
    with pytest.raises(ValueError, match="A has unknown chunk sizes"):
        logsketch.randomized_svd(D[D[:, 0] > 0], 2)
    with pytest.raises(TypeError, match="A must hold real numbers"):
        logsketch.randomized_svd(D.astype(np.complex128), 2)
    with pytest.raises(ValueError, match="n_components"):
        logsketch.randomized_svd(D, 21)
    mixed = D.map_blocks(lambda b, block_id=None: b.astype(np.float32) if block_id[0] == 1 else b, dtype=np.float64)
    with pytest.raises(TypeError, match=r"A block \(1, 0\) has dtype float32"):
        logsketch.randomized_svd(mixed, 2)
    with pytest.raises(OverflowError, match="overflowed float32"):
        logsketch.randomized_svd(da.full((50, 10), 3e37, dtype=np.float32, chunks=(10, 10)), 2)
    with pytest.raises(OverflowError, match="overflowed float32"):  # found in the sketch
        logsketch.randomized_svd(da.full((50, 10), 3e38, dtype=np.float32, chunks=(10, 10)), 2)
