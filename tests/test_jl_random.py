"""The JL family's random matrices: Philox4x32-10, the normal transform, and
jl_components against logsketch.reference bit for bit.

The matrices are defined bit by bit (logsketch.jl's docstring), so parity is
identity of bit patterns at every SIMD level and thread count; the
distributions are then checked statistically at fixed seeds, with bounds of
5 standard errors of the statistic (a fixed seed makes each test
deterministic; 5 sigma keeps a correct generator far from the edge).
"""

from __future__ import annotations

import numpy as np
import pytest

import logsketch
from logsketch import _core, reference
from logsketch_test_helpers import SUPPORTED_SIMD_LEVELS, assert_bits_equal

KINDS = ("gaussian", "sparse", "srht")
DTYPES = (np.float32, np.float64)
SEED = 0x1234_5678_9ABC_DEF0  # both key words nonzero

# Random123's known-answer vectors for philox4x32-10 (tests/kat_vectors).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


def dense(r):
    return r.toarray() if hasattr(r, "toarray") else r


@pytest.mark.parametrize("ctr, key, expected", KAT)
def test_philox_known_answers(ctr, key, expected):
    counters = np.array([ctr], dtype=np.uint32)
    assert tuple(int(v) for v in _core.philox4x32_10(counters, *key)[0]) == expected
    assert tuple(int(v) for v in reference.philox4x32_10(counters, key)[0]) == expected


def test_philox_kernel_matches_reference_on_random_counters():
    rng = np.random.default_rng(1)
    counters = rng.integers(0, 2**32, size=(1000, 4), dtype=np.uint64).astype(np.uint32)
    assert np.array_equal(_core.philox4x32_10(counters, 0x89ABCDEF, 0x01234567),
                          reference.philox4x32_10(counters, (0x89ABCDEF, 0x01234567)))


def test_normal_transform_accuracy():
    """|z - r cos t| and |z - r sin t| below 3e-7 max(1, r) against float64 libm,
    on 2^20 random word pairs plus the extreme words (u = 2^-24 and 1, every
    octant boundary)."""
    rng = np.random.default_rng(2)
    a = rng.integers(0, 2**32, size=1 << 20, dtype=np.uint64).astype(np.uint32)
    b = rng.integers(0, 2**32, size=1 << 20, dtype=np.uint64).astype(np.uint32)
    edges = np.array([0, 0xFF, 0x100, 0xFFFFFFFF] + [o << 29 for o in range(8)] + [(o << 29) - 1 for o in range(1, 8)],
                     dtype=np.uint32)
    a = np.concatenate([a, edges, np.full(edges.size, 0x80000000, np.uint32)])
    b = np.concatenate([b, np.full(edges.size, 0x12345678, np.uint32), edges])
    zc, zs = reference.box_muller(a, b)
    u = ((a >> np.uint32(8)).astype(np.float64) + 1) * 2.0**-24
    t = 2 * np.pi * ((b >> np.uint32(8)).astype(np.float64) * 2.0**-24)
    r = np.sqrt(-2 * np.log(u))
    scale = np.maximum(1, r)
    assert np.max(np.abs(zc - r * np.cos(t)) / scale) < 3e-7
    assert np.max(np.abs(zs - r * np.sin(t)) / scale) < 3e-7
    assert np.max(np.abs(np.concatenate([zc, zs]))) <= np.sqrt(-2 * np.log(2.0**-24)) * (1 + 1e-6)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (33, 4), (97, 1025), (16, 16)])
def test_components_match_reference_bit_for_bit(simd_level, kind, dtype, shape):
    k, d = shape
    if kind == "srht" and k > 1 << max(0, (d - 1).bit_length()):
        pytest.skip("srht needs k <= padded d")
    got = logsketch.jl_components(k, d, kind=kind, seed=SEED, dtype=dtype)
    assert_bits_equal(dense(got), reference.jl_components(k, d, kind=kind, seed=SEED, dtype=dtype), f"{kind} {shape}")


@pytest.mark.parametrize("density", [1 / 3, 1.0, 0.01, 2.0**-32])
def test_sparse_components_at_any_density(simd_level, density):
    got = logsketch.jl_components(40, 300, kind="sparse", density=density, seed=5, dtype=np.float64)
    assert_bits_equal(got.toarray(), reference.jl_components(40, 300, kind="sparse", density=density, seed=5,
                                                              dtype=np.float64))


@pytest.mark.parametrize("kind", KINDS)
def test_components_identical_across_calls_threads_and_levels(kind, restore_threads, restore_simd):
    first = dense(logsketch.jl_components(64, 333, kind=kind, seed=9))
    for level in SUPPORTED_SIMD_LEVELS:
        logsketch.set_simd_level(level)
        for threads in (1, 2, 3):
            logsketch.set_num_threads(threads)
            assert_bits_equal(dense(logsketch.jl_components(64, 333, kind=kind, seed=9)), first, f"{level} {threads}")


def test_float64_matrix_is_the_float32_one_rounded_differently():
    """Same z, scale rounded to each dtype: the matrices agree to float32 precision."""
    for kind in KINDS:
        r32 = dense(logsketch.jl_components(20, 50, kind=kind, seed=4, dtype=np.float32))
        r64 = dense(logsketch.jl_components(20, 50, kind=kind, seed=4, dtype=np.float64))
        np.testing.assert_allclose(r32, r64, rtol=2 * np.finfo(np.float32).eps)


def test_seeds_and_kinds_give_independent_streams():
    a = logsketch.jl_components(8, 64, seed=0)
    b = logsketch.jl_components(8, 64, seed=1)
    c = logsketch.jl_components(8, 64, seed=2**32)  # differs only in the key's high word
    assert not np.array_equal(a, b) and not np.array_equal(a, c)
    assert abs(np.corrcoef(a.ravel(), c.ravel())[0, 1]) < 0.2


def test_gaussian_moments():
    k, d = 256, 4096
    z = logsketch.jl_components(k, d, seed=11, dtype=np.float64) * np.sqrt(k)
    n = z.size
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(np.mean(z**3)) < 5 * np.sqrt(15 / n)
    assert abs(np.mean(z**4) - 3) < 5 * np.sqrt(96 / n)
    # Box-Muller pairs share r: their outputs must still be uncorrelated, in
    # squares too (they are independent).
    pairs = z.reshape(k, d // 2, 2)
    assert abs(np.mean(pairs[..., 0] * pairs[..., 1])) < 5 / np.sqrt(n / 2)
    assert abs(np.mean(pairs[..., 0] ** 2 * pairs[..., 1] ** 2) - 1) < 5 * np.sqrt(8 / (n / 2))
    # Tail: P(|z| > 3) = 0.0027
    p = np.mean(np.abs(z) > 3)
    assert abs(p - 0.0026998) < 5 * np.sqrt(0.0027 / n)


@pytest.mark.parametrize("density", [1 / 3, 1 / 64])
def test_sparse_moments(density):
    k, d = 256, 4096
    r = logsketch.jl_components(k, d, kind="sparse", density=density, seed=12, dtype=np.float64)
    scale = np.sqrt(1 / (density * k))
    values = r.data
    assert np.all(np.abs(values) == scale)
    n = k * d
    assert abs(values.size / n - density) < 5 * np.sqrt(density * (1 - density) / n)
    plus = np.mean(values > 0)
    assert abs(plus - 0.5) < 5 * np.sqrt(0.25 / values.size)
    assert abs(r.power(2).sum() / n - 1 / k) < 5 * np.sqrt((1 - density) / density / n) / k
    assert np.all(np.diff(r.indices[r.indptr[0] : r.indptr[1]]) > 0)  # sorted columns


def test_srht_rows_are_orthogonal_and_signed():
    k, d = 64, 1024
    r = logsketch.jl_components(k, d, kind="srht", seed=13, dtype=np.float64)
    assert np.all(np.abs(r) == 1 / np.sqrt(k))
    np.testing.assert_allclose(r @ r.T, (d / k) * np.eye(k), atol=1e-12)  # R R^T = (d'/k) I when d = d'
    assert abs(np.mean(r > 0) - 0.5) < 5 * np.sqrt(0.25 / r.size)


@pytest.mark.parametrize("k, n", [(1, 1), (5, 8), (64, 64), (100, 1 << 20)])
def test_srht_sample_is_distinct_and_matches_reference(k, n):
    s = _core.jl_srht_sample(SEED, k, n)
    assert np.array_equal(s, reference.jl_srht_sample(SEED, k, n))
    assert len(set(s.tolist())) == k and s.min() >= 0 and s.max() < n
    if k == n:
        assert sorted(s.tolist()) == list(range(n))  # a permutation


def test_srht_sample_is_uniform():
    """Each position is equally likely to be drawn first (chi-square, 16 cells)."""
    counts = np.bincount([_core.jl_srht_sample(seed, 1, 16)[0] for seed in range(4000)], minlength=16)
    chi2 = np.sum((counts - 250) ** 2 / 250)
    assert chi2 < 45  # 15 degrees of freedom: P(chi2 > 45) ~ 1e-4
