"""Every documented error of jl_components and jl_project, and property-based
shapes and arguments (hypothesis) against the reference."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import logsketch
from logsketch import _core, reference
from logsketch_test_helpers import assert_bits_equal, assert_within_summation_bound

X = np.ones((3, 8), dtype=np.float32)


def calls(kwargs):
    """jl_components and jl_project with the same matrix arguments."""
    kwargs = dict(kwargs)
    k = kwargs.pop("n_components", 4)
    return [lambda: logsketch.jl_components(k, 8, **kwargs), lambda: logsketch.jl_project(X, k, **kwargs)]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_components": 0}, ValueError, "n_components"),
        ({"n_components": 2**32}, ValueError, "n_components"),
        ({"n_components": 2.0}, TypeError, "n_components"),
        ({"n_components": True}, TypeError, "n_components"),
        ({"n_components": "4"}, TypeError, "n_components"),
        ({"kind": "dense"}, ValueError, "kind"),
        ({"kind": None}, TypeError, "kind"),
        ({"density": 0.0}, ValueError, "density"),
        ({"density": 1.5}, ValueError, "density"),
        ({"density": 1e-12}, ValueError, "density"),
        ({"density": "sqrt"}, ValueError, "density"),
        ({"density": [0.5]}, TypeError, "density"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 2**64}, ValueError, "seed"),
        ({"seed": 1.0}, TypeError, "seed"),
        ({"seed": None}, TypeError, "seed"),
        ({"kind": "srht", "n_components": 9}, ValueError, "srht"),
    ],
)
def test_argument_errors(kwargs, error, match):
    for call in calls(kwargs):
        with pytest.raises(error, match=match):
            call()


@pytest.mark.parametrize("n_features, error", [(0, ValueError), (2**32, ValueError), (8.0, TypeError)])
def test_n_features_errors(n_features, error):
    with pytest.raises(error, match="n_features"):
        logsketch.jl_components(4, n_features)


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.complex64, "float128", "no such type"])
def test_components_dtype_errors(dtype):
    with pytest.raises(TypeError, match="dtype"):
        logsketch.jl_components(4, 8, dtype=dtype)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.ones((3, 8), dtype=np.int64), TypeError, "X"),
        (np.ones((3, 8), dtype=bool), TypeError, "X"),
        (np.ones((3, 8), dtype=np.complex128), TypeError, "X"),
        (np.ones((3, 8), dtype=object), TypeError, "X"),
        ([[1, 2], [3]], TypeError, "X"),
        (np.ones(8, dtype=np.float32), ValueError, "2-D"),
        (np.ones((2, 3, 8), dtype=np.float32), ValueError, "2-D"),
        (np.ones((3, 0), dtype=np.float32), ValueError, "column"),
        (sp.csr_array(np.ones((3, 8), dtype=np.int64)), TypeError, "X"),
        (sp.csr_array((3, 0), dtype=np.float32), ValueError, "column"),
    ],
)
def test_input_errors(bad, error, match):
    with pytest.raises(error, match=match):
        logsketch.jl_project(bad, 4)


def test_cuda_arrays_are_refused_by_name():
    class FakeCuda:
        __cuda_array_interface__ = {"shape": (3, 8), "typestr": "<f4", "data": (0, False), "version": 3}

    with pytest.raises(TypeError, match="CUDA"):
        logsketch.jl_project(FakeCuda(), 4)


def test_the_bindings_recheck_what_the_kernels_rely_on():
    """Malformed CSR built around the Python layer never reaches the kernels."""
    y = np.empty((2, 3), dtype=np.float64)
    data = np.ones(3)
    cases = [
        (np.array([0, 1, 9], np.int32), np.array([0, 2, 3], np.int32), "outside"),
        (np.array([0, 2, 1], np.int32), np.array([0, 3, 3], np.int32), "sorted"),
        (np.array([0, 1, 2], np.int32), np.array([0, 4, 3], np.int32), "indptr"),
        (np.array([0, 1, 2], np.int64), np.array([0, 2, 3], np.int32), "int32"),
    ]
    for indices, indptr, match in cases:
        with pytest.raises((ValueError, TypeError), match=match):
            _core.jl_project_csr(data, indices, indptr, 2, 5, y, "gaussian", 3, 0, 0.5)
    with pytest.raises(ValueError, match="out"):
        _core.jl_project_dense(np.ones((2, 5)), np.empty((2, 4)), "gaussian", 3, 0, 0.5)
    with pytest.raises(TypeError, match="out"):
        _core.jl_project_dense(np.ones((2, 5)), np.empty((2, 3), np.float32), "gaussian", 3, 0, 0.5)
    with pytest.raises(ValueError, match="density"):
        _core.jl_project_dense(np.ones((2, 5)), np.empty((2, 3)), "sparse", 3, 0, 0.0)


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(0, 9),
    d=st.integers(1, 70),
    k=st.integers(1, 40),
    kind=st.sampled_from(["gaussian", "sparse", "srht"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**64 - 1),
    density=st.one_of(st.just("auto"), st.floats(2.0**-30, 1.0)),
    sparse=st.booleans(),
)
def test_random_shapes_and_arguments(n, d, k, kind, dtype, seed, density, sparse):
    if kind == "srht":
        k = min(k, 1 << max(0, (d - 1).bit_length()))
    x = np.random.default_rng(n * 1000 + d).standard_normal((n, d)).astype(dtype)
    got = logsketch.jl_project(sp.csr_array(x) if sparse else x, k, kind=kind, density=density, seed=seed)
    r = reference.jl_components(k, d, kind=kind, density=density, seed=seed, dtype=dtype)
    r_kernel = logsketch.jl_components(k, d, kind=kind, density=density, seed=seed, dtype=dtype)
    assert_bits_equal(r_kernel.toarray() if sp.issparse(r_kernel) else r_kernel, r)
    assert_within_summation_bound(got, x, r)


def test_allocation_failures_are_memory_errors_not_crashes():
    """A thread's row buffer that cannot be allocated surfaces as MemoryError
    (parallel_for carries exceptions out of the OpenMP region)."""
    import subprocess
    import sys

    code = (
        "import resource, numpy as np, logsketch\n"
        "X = np.ones((2, 1 << 26), dtype=np.float32)\n"
        "logsketch.set_num_threads(2)\n"
        "resource.setrlimit(resource.RLIMIT_AS, ({limit} << 20, {limit} << 20))\n"
        "try:\n"
        "    logsketch.jl_project(X, 1, kind='srht')\n"
        "    print('ok')\n"
        "except MemoryError:\n"
        "    print('MemoryError')\n"
    )
    for limit in (900, 1300, 1600):
        out = subprocess.run([sys.executable, "-c", code.format(limit=limit)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-500:]
        assert out.stdout.strip() in ("ok", "MemoryError")


def test_concurrent_calls_from_python_threads():
    from concurrent.futures import ThreadPoolExecutor

    x = np.random.default_rng(0).standard_normal((300, 500)).astype(np.float32)
    expected = {kind: logsketch.jl_project(x, 32, kind=kind) for kind in ("gaussian", "sparse", "srht")}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda kind: (kind, logsketch.jl_project(x, 32, kind=kind)),
                                ["gaussian", "sparse", "srht"] * 4))
    for kind, y in results:
        assert_bits_equal(y, expected[kind], kind)
