"""jl_project against X @ jl_components(...).T, and the invariances it promises.

Parity: every kind, dtype, layout, dense and sparse input, at every SIMD
level, within the summation bound of assert_within_summation_bound (derived
in logsketch_test_helpers.py).  R itself is checked bit for bit against the
numpy reference in test_jl_random.py, so it is taken from jl_components here.
Invariances (bit for bit): thread counts, row chunks of X, SIMD levels where
the docstring promises them; the dense SRHT path equals the numpy
Walsh-Hadamard reference exactly.  Sizes cross every tile boundary of the
kernels (gaussian: 1024-column slices, 8 MiB CSR tiles; sparse: 4096-column
transposed blocks, 16 MiB list tiles).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import logsketch
from logsketch import reference
from logsketch_test_helpers import SUPPORTED_SIMD_LEVELS, assert_bits_equal, assert_within_summation_bound

KINDS = ("gaussian", "sparse", "srht")
DTYPES = (np.float32, np.float64)
DTYPE_IDS = ["float32", "float64"]


def components(k, d, kind, dtype, seed=3, density="auto"):
    r = logsketch.jl_components(k, d, kind=kind, density=density, seed=seed, dtype=dtype)
    return r.toarray() if sp.issparse(r) else r


def data(n, d, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(dtype)


def sparse_data(n, d, dtype, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * (rng.random((n, d)) < density)
    return sp.csr_array(x.astype(dtype))


def fits_srht(kind, k, d):
    return kind != "srht" or k <= 1 << max(0, (d - 1).bit_length())


# --------------------------------------------------------------------------- parity


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("n, d, k", [(1, 1, 1), (7, 13, 5), (97, 1025, 33), (3, 1, 1), (20, 64, 64), (1, 300, 1)])
def test_dense_parity(simd_level, kind, dtype, n, d, k):
    if not fits_srht(kind, k, d):
        pytest.skip("srht needs k <= padded d")
    X = data(n, d, dtype)
    y = logsketch.jl_project(X, k, kind=kind, seed=3)
    assert y.shape == (n, k) and y.dtype == dtype and y.flags.c_contiguous
    assert_within_summation_bound(y, X, components(k, d, kind, dtype), f"{simd_level} {kind}")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("n, d, k, density", [(7, 13, 5, 0.5), (97, 1025, 33, 0.05), (30, 64, 8, 0.9)])
def test_sparse_input_parity(simd_level, kind, dtype, n, d, k, density):
    X = sparse_data(n, d, dtype, density)
    y = logsketch.jl_project(X, k, kind=kind, seed=3)
    assert isinstance(y, np.ndarray) and y.shape == (n, k) and y.dtype == dtype
    assert_within_summation_bound(y, X, components(k, d, kind, dtype), f"{simd_level} {kind}")


LAYOUTS = {
    "C": lambda x: x,
    "F": np.asfortranarray,
    "strided": lambda x: np.repeat(np.repeat(x, 2, axis=0), 3, axis=1)[::2, ::3],
    "reversed": lambda x: x[::-1, ::-1].copy()[::-1, ::-1],
    "transposed view": lambda x: np.ascontiguousarray(x.T).T,
    "unaligned": lambda x: np.frombuffer(b"\0" + np.ascontiguousarray(x).tobytes(), dtype=x.dtype, offset=1)
    .reshape(x.shape),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layouts_give_the_same_bits(simd_level, kind, dtype, layout):
    X = data(37, 130, dtype, seed=1)
    Xl = LAYOUTS[layout](X)
    assert np.array_equal(Xl, X)
    assert_bits_equal(logsketch.jl_project(Xl, 24, kind=kind, seed=8), logsketch.jl_project(X, 24, kind=kind, seed=8),
                      layout)


def test_broadcast_rows():
    row = data(1, 50, np.float32)
    X = np.broadcast_to(row, (6, 50))  # row stride 0
    y = logsketch.jl_project(X, 10, kind="gaussian")
    assert_bits_equal(y, np.repeat(logsketch.jl_project(row, 10), 6, axis=0))


@pytest.mark.parametrize("kind", KINDS)
def test_float16_is_widened_to_float32(kind):
    X = data(5, 20, np.float16)
    y = logsketch.jl_project(X, 4, kind=kind)
    assert y.dtype == np.float32
    assert_bits_equal(y, logsketch.jl_project(X.astype(np.float32), 4, kind=kind))


@pytest.mark.parametrize("kind", KINDS)
def test_srht_and_dense_paths_of_big_tiles(kind):
    """d spans several tiles of every kernel (gaussian 1024-column slices,
    sparse 4096-column blocks); float64 keeps the check sharp."""
    X = data(40, 5000, np.float64, seed=2)
    assert_within_summation_bound(logsketch.jl_project(X, 70, kind=kind, seed=1), X,
                                  components(70, 5000, kind, np.float64, seed=1), kind)


@pytest.mark.parametrize("kind", KINDS)
def test_every_blocking_edge_at_once(kind, restore_threads):
    """500 x 2500 -> 300: gaussian runs 3 column slices, 2 output blocks, edge
    panels (300 = 9 x 32 + 12) and edge rows (500 = 41 x 12 + 8); with 2 and
    3 threads splitting rows unevenly."""
    X = data(500, 2500, np.float32, seed=9)
    r = components(300, 2500, kind, np.float32, seed=4)
    for threads in (2, 3):
        logsketch.set_num_threads(threads)
        assert_within_summation_bound(logsketch.jl_project(X, 300, kind=kind, seed=4), X, r, f"{threads} threads")


def test_sparse_input_tiles():
    """Gaussian CSR tiles hold 8 MiB of Z^T (8192 columns at k=256); sparse-kind
    column lists 16 MiB (4080 columns at k=1024, density 1)."""
    X = sparse_data(12, 10000, np.float32, density=0.05, seed=3)
    assert_within_summation_bound(logsketch.jl_project(X, 256, seed=2), X, components(256, 10000, "gaussian",
                                                                                       np.float32, seed=2))
    X = sparse_data(6, 5000, np.float32, density=0.05, seed=4)
    y = logsketch.jl_project(X, 1024, kind="sparse", density=1.0, seed=2)
    assert_within_summation_bound(y, X, components(1024, 5000, "sparse", np.float32, seed=2, density=1.0))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("d", [1, 2, 7, 16, 17, 100, 4096, 5000])
def test_srht_equals_the_reference_transform_bit_for_bit(simd_level, dtype, d):
    """Dense SRHT rows are copy-with-signs, the Walsh-Hadamard stages in
    increasing h, a gather and one multiply: all exact to reproduce in numpy."""
    n = 1 << max(0, (d - 1).bit_length())
    k = min(n, 9)
    X = data(5, d, dtype, seed=d)
    flips = reference.jl_srht_signs(4, d)
    padded = np.zeros((5, n), dtype=dtype)
    padded[:, :d] = np.where(flips, -X, X)
    rows = reference.jl_srht_sample(4, k, n)
    scale = dtype(np.sqrt(1.0 / k))
    expected = reference.walsh_hadamard(padded)[:, rows] * scale
    assert_bits_equal(logsketch.jl_project(X, k, kind="srht", seed=4), expected, f"d={d}")


# --------------------------------------------------------------------------- invariances


def chunked(X, k, kind, cuts):
    bounds = [0, *cuts, X.shape[0]]
    return np.concatenate([logsketch.jl_project(X[a:b], k, kind=kind, seed=6) for a, b in zip(bounds, bounds[1:])])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_row_chunks_give_the_same_bits(simd_level, kind, sparse):
    X = sparse_data(101, 300, np.float32, density=0.3) if sparse else data(101, 300, np.float32)
    whole = logsketch.jl_project(X, 40, kind=kind, seed=6)
    for cuts in ([1], [12, 13, 50], list(range(1, 101))):
        assert_bits_equal(chunked(X, 40, kind, cuts), whole, f"cuts {cuts[:4]}")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_thread_counts_give_the_same_bits(kind, sparse, restore_threads):
    X = sparse_data(64, 2100, np.float64, density=0.3) if sparse else data(64, 2100, np.float64)
    results = []
    for threads in (1, 2, 3, 8):
        logsketch.set_num_threads(threads)
        results.append(logsketch.jl_project(X, 50, kind=kind, seed=2))
    for threads, y in zip((2, 3, 8), results[1:]):
        assert_bits_equal(y, results[0], f"{threads} threads")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_simd_levels_give_the_same_bits(kind, sparse, restore_simd):
    """sparse and srht: every level; gaussian: the FMA levels (avx2, avx512)."""
    X = sparse_data(50, 700, np.float32, density=0.3) if sparse else data(50, 700, np.float32)
    levels = [lv for lv in SUPPORTED_SIMD_LEVELS if kind != "gaussian" or lv != "scalar"]
    results = {}
    for level in levels:
        logsketch.set_simd_level(level)
        results[level] = logsketch.jl_project(X, 30, kind=kind, seed=1)
    for level in levels[1:]:
        assert_bits_equal(results[level], results[levels[0]], level)


def test_csr_srht_uses_either_path_per_row():
    """Rows dense enough take the transform, the others the direct sums;
    the choice depends on the row alone, so chunks still agree."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((20, 64)).astype(np.float32)
    x[::2, 8:] = 0  # even rows: 8 nonzeros (direct), odd rows: 64 (transform)
    X = sp.csr_array(x)
    y = logsketch.jl_project(X, 8, kind="srht", seed=1)
    assert_within_summation_bound(y, x, components(8, 64, "srht", np.float32, seed=1))
    assert_bits_equal(np.concatenate([logsketch.jl_project(X[i : i + 1], 8, kind="srht", seed=1) for i in range(20)]), y)


# --------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_no_rows(kind, sparse):
    X = sp.csr_array((0, 9), dtype=np.float64) if sparse else np.empty((0, 9), dtype=np.float64)
    y = logsketch.jl_project(X, 4, kind=kind)
    assert y.shape == (0, 4) and y.dtype == np.float64


@pytest.mark.parametrize("kind", KINDS)
def test_zero_rows_project_to_zero(kind):
    X = np.zeros((3, 40), dtype=np.float32)
    X[1, 5] = 2.0
    y = logsketch.jl_project(X, 6, kind=kind)
    assert np.all(y[[0, 2]] == 0)
    assert_bits_equal(logsketch.jl_project(sp.csr_array(X), 6, kind=kind)[[0, 2]], y[[0, 2]])


@pytest.mark.parametrize("kind", KINDS)
def test_nan_and_inf_propagate(kind):
    X = data(4, 32, np.float64)
    X[1, 3] = np.nan
    X[2, 7] = np.inf
    y = logsketch.jl_project(X, 16, kind=kind, seed=2)
    assert np.all(np.isfinite(y[[0, 3]]))
    r = components(16, 32, kind, np.float64, seed=2)
    if kind == "sparse":  # only outputs whose row of R touches the column
        assert np.array_equal(np.isnan(y[1]), r[:, 3] != 0)
        assert np.array_equal(~np.isfinite(y[2]), r[:, 7] != 0)
    else:
        assert np.all(np.isnan(y[1])) and np.all(~np.isfinite(y[2]))


@pytest.mark.parametrize("fmt", ["csc", "coo", "csr_matrix", "bsr", "lil"])
def test_sparse_formats(fmt):
    X = sparse_data(9, 30, np.float32, density=0.4)
    converted = {
        "csc": lambda: sp.csc_array(X),
        "coo": lambda: sp.coo_array(X),
        "csr_matrix": lambda: sp.csr_matrix(X),
        "bsr": lambda: sp.bsr_array(X),
        "lil": lambda: sp.lil_array(X),
    }[fmt]()
    assert_bits_equal(logsketch.jl_project(converted, 7, kind="sparse"), logsketch.jl_project(X, 7, kind="sparse"))


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_unsorted_and_duplicate_indices(index_dtype):
    dense_x = np.array([[0, 2, 0, 1.5, 0], [2, 0, 0, 0, -1]])
    messy = sp.csr_array(
        (np.array([1.0, 2.0, 0.5, -1.0, 2.0]), np.array([3, 1, 3, 4, 0], dtype=index_dtype),
         np.array([0, 3, 5], dtype=index_dtype)),
        shape=(2, 5),
    )
    assert not messy.has_canonical_format
    for kind in KINDS:
        np.testing.assert_allclose(logsketch.jl_project(messy, 3, kind=kind), logsketch.jl_project(dense_x, 3, kind=kind),
                                   rtol=1e-14, atol=1e-15)
