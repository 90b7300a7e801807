"""GPU JL projection against the CPU.

The random matrix is defined bit by bit (logsketch/jl.py's docstring), so the
GPU's materialized R must equal logsketch.jl_components bit for bit (the
sparse kind as its dense .toarray()).  The projection sums in another order
than the CPU, so it is checked against X @ R.T within the summation bound of
tests/logsketch_test_helpers.py.  Every test runs with torch and with CuPy
where installed (the ``xp`` fixture).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import logsketch
from logsketch.jl import _cuda as _jl_gpu

from logsketch_test_helpers import assert_within_summation_bound
from .gpu_test_helpers import assert_bits_equal

KINDS = ("gaussian", "sparse", "srht")
SHAPES = [(1, 1), (7, 3), (97, 1), (97, 33), (1025, 64), (1025, 1025)]  # (d, k); k <= padded d


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _cpu_components(k, d, kind, seed, dtype):
    R = logsketch.jl_components(k, d, kind=kind, seed=seed, dtype=dtype)
    return R.toarray() if kind == "sparse" else R


def _device(xp):
    return xp.device.index if xp.name == "torch" else xp.mod.cuda.Device().id


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("d,k", SHAPES)
def test_components_bit_identical_to_cpu(xp, kind, dtype, d, k):
    seed = 2**40 + 17
    got = _jl_gpu.components(k, d, kind=kind, seed=seed, dtype=dtype, framework=xp.name, device=_device(xp))
    assert_bits_equal(xp.numpy(got), _cpu_components(k, d, kind, seed, dtype))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 7, 97, 130])
@pytest.mark.parametrize("d,k", SHAPES)
def test_project_within_summation_bound(xp, kind, dtype, n, d, k):
    X = _rng(kind, dtype, n, d, k).standard_normal((n, d)).astype(dtype)
    Y = logsketch.jl_project(xp.asarray(X), k, kind=kind, seed=5)
    assert xp.dtype_name(Y) == dtype and tuple(Y.shape) == (n, k)
    R = _cpu_components(k, d, kind, 5, dtype)
    assert_within_summation_bound(xp.numpy(Y), X, R, f"{kind} {dtype} n={n} d={d} k={k}")


@pytest.mark.parametrize("kind", KINDS)
def test_project_empty_rows(xp, kind):
    Y = logsketch.jl_project(xp.asarray(np.zeros((0, 9), np.float32)), 4, kind=kind)
    assert tuple(Y.shape) == (0, 4) and xp.dtype_name(Y) == "float32"


@pytest.mark.parametrize("kind", KINDS)
def test_project_strided_and_transposed_inputs(xp, kind):
    X = _rng("layout", kind).standard_normal((40, 50)).astype(np.float32)
    R = _cpu_components(16, 40, kind, 3, "float32")
    Y = logsketch.jl_project(xp.transpose(xp.asarray(X)), 16, kind=kind, seed=3)  # (50, 40), Fortran order
    assert_within_summation_bound(xp.numpy(Y), X.T, R, f"{kind} transposed")
    W = xp.asarray(_rng("wide", kind).standard_normal((50, 90)).astype(np.float32))
    Y = logsketch.jl_project(W[:, 5:45], 16, kind=kind, seed=3)  # row stride 90
    assert_within_summation_bound(xp.numpy(Y), xp.numpy(W)[:, 5:45], R, f"{kind} column slice")


def test_float16_is_widened(xp):
    X = _rng("f16").standard_normal((9, 20)).astype(np.float16)
    Y = logsketch.jl_project(xp.asarray(X), 5, seed=1)
    assert xp.dtype_name(Y) == "float32"
    assert_within_summation_bound(xp.numpy(Y), X.astype(np.float32), _cpu_components(5, 20, "gaussian", 1, "float32"))


def test_nan_propagates_to_its_row(xp):
    X = np.ones((3, 8), np.float32)
    X[1, 2] = np.nan
    for kind in ("gaussian", "srht"):
        Y = xp.numpy(logsketch.jl_project(xp.asarray(X), 4, kind=kind))
        assert np.isnan(Y[1]).all() and not np.isnan(Y[[0, 2]]).any(), kind


def test_errors_match_the_cpu(xp):
    X = xp.asarray(np.ones((3, 8), np.float32))
    with pytest.raises(ValueError, match="n_components"):
        logsketch.jl_project(X, 0)
    with pytest.raises(ValueError, match="kind"):
        logsketch.jl_project(X, 2, kind="dense")
    with pytest.raises(ValueError, match="n_components <= 8"):
        logsketch.jl_project(X, 9, kind="srht")
    with pytest.raises(TypeError, match="seed"):
        logsketch.jl_project(X, 2, seed=1.5)
    with pytest.raises(TypeError, match="float dtype"):
        logsketch.jl_project(xp.asarray(np.ones((3, 8), np.int32)), 2)
    with pytest.raises(ValueError, match="2-D"):
        logsketch.jl_project(xp.asarray(np.ones(8, np.float32)), 2)
    with pytest.raises(ValueError, match="2\\*\\*14"):
        logsketch.jl_project(xp.asarray(np.ones((1, 2**14 + 1), np.float32)), 2, kind="srht")
