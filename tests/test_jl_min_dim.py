"""jl_min_dim: scikit-learn's johnson_lindenstrauss_min_dim exactly (rule="jl"),
the minimum-entropy rule, and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import logsketch

sklearn_rp = pytest.importorskip("sklearn.random_projection")

N_GRID = [1, 2, 3, 10, 17, 100, 1000, 12345, 1e6, 1e9, 2**40]
EPS_GRID = [1e-4, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999]


@pytest.mark.parametrize("n", N_GRID)
@pytest.mark.parametrize("eps", EPS_GRID)
def test_equals_scikit_learn(n, eps):
    got = logsketch.jl_min_dim(n, eps=eps)
    assert isinstance(got, int)
    assert got == int(sklearn_rp.johnson_lindenstrauss_min_dim(n, eps=eps))


def test_arrays_broadcast_like_scikit_learn():
    n = np.array(N_GRID, dtype=np.float64)[:, None]
    eps = np.array(EPS_GRID)[None, :]
    got = logsketch.jl_min_dim(n, eps=eps)
    assert got.dtype == np.int64 and got.shape == (len(N_GRID), len(EPS_GRID))
    assert np.array_equal(got, sklearn_rp.johnson_lindenstrauss_min_dim(n, eps=eps))
    assert np.array_equal(logsketch.jl_min_dim([1e4, 1e5, 1e6], eps=0.1), [7894, 9868, 11841])


@pytest.mark.parametrize("n", [1, 2, 100, 10**6, 10**9])
def test_entropy_rule_is_the_smallest_integer_above_8_33_ln_n(n):
    k = logsketch.jl_min_dim(n, rule="entropy")
    assert k > 8.33 * math.log(n) >= k - 1


@pytest.mark.parametrize("eps", [0, 1, -0.1, 1.5, float("nan"), [0.5, 1.0]])
def test_bad_eps(eps):
    with pytest.raises(ValueError, match="eps"):
        logsketch.jl_min_dim(100, eps=eps)
    with pytest.raises(ValueError):  # scikit-learn refuses them too (its error class derives from ValueError)
        sklearn_rp.johnson_lindenstrauss_min_dim(100, eps=eps)


@pytest.mark.parametrize("n", [0, -5, 0.5, float("inf"), [10, 0]])
def test_bad_n_samples(n):
    with pytest.raises(ValueError, match="n_samples"):
        logsketch.jl_min_dim(n)


@pytest.mark.parametrize("arg", ["n_samples", "eps"])
@pytest.mark.parametrize("bad", ["100", None, True, 1 + 2j])
def test_non_numbers_are_type_errors(arg, bad):
    kwargs = {"n_samples": 100, "eps": 0.1, arg: bad}
    with pytest.raises(TypeError, match=arg):
        logsketch.jl_min_dim(kwargs["n_samples"], eps=kwargs["eps"])


def test_bad_rule():
    with pytest.raises(ValueError, match="rule"):
        logsketch.jl_min_dim(100, rule="fast")
    with pytest.raises(TypeError, match="rule"):
        logsketch.jl_min_dim(100, rule=1)
