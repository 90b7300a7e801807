"""mitchell_matmul against logsketch.reference.mitchell_matmul.

The CPU kernel sums every output element sequentially in increasing k from +0,
as the reference does, so the documented contract is bit identity with the
reference at every SIMD level and thread count; that is the main check.  A
second, weaker check bounds the result by the classic summation error bound
against an exact (math.fsum) sum of the same products:

    |C - C_exact| <= gamma_k * sum_k |p_k|,   gamma_k = k u / (1 - k u)

with u the unit roundoff of the accumulator (2**-24 for float16/float32 inputs,
2**-53 for float64), plus u_out * |C_acc| for float16 inputs (the final cast)
and u64 * sum |p_k| for the rounding of fsum's result to float64.

The reference loops over k in Python, so shapes keep m*n small when k is large.

NaN results: a float sum's NaN sign and payload depend on the order the
hardware met the NaNs in (inf + (-inf) gives x86's negative default NaN), so
both the kernel and the reference define every NaN result as the positive quiet
NaN; parity is bit identity there too
(``test_nan_results_are_the_quiet_nan``).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logsketch
from logsketch import reference
from logsketch_test_helpers import SUPPORTED_SIMD_LEVELS, FLOAT_DTYPES, assert_bits_equal, bits, random_normals

DTYPE_IDS = [d.name for d in FLOAT_DTYPES]


@pytest.fixture(params=FLOAT_DTYPES, ids=DTYPE_IDS)
def dtype(request):
    return request.param


@pytest.fixture(params=[False, True], ids=["plain", "compensated"])
def compensated(request):
    return request.param


def assert_matmul_equal(got, expected, context=""):
    """Bit identity, NaN results included (both sides use the quiet NaN)."""
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape, context
    assert_bits_equal(got, expected, context)


def matmul_all_threads(a, b, compensated=False):
    """The kernel's result with 1 and with 2 threads; asserts they are identical."""
    previous = logsketch.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            logsketch.set_num_threads(threads)
            results.append(logsketch.mitchell_matmul(a, b, compensated=compensated))
    finally:
        logsketch.set_num_threads(previous)
    assert_bits_equal(results[1], results[0], "2 threads vs 1 thread")
    return results[0]


# --------------------------------------------------------------------------- data


def make_data(kind, dtype, shape, seed, line_axis=0):
    """Test data of one kind; for "special", infs and NaNs go into about a third
    of the lines along ``line_axis`` (rows of A, columns of B), so that many
    outputs stay finite and the kernel sees clean panels next to special ones."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    if kind == "normal":  # every product normal: the kernel's fast tier
        return random_normals(rng, dtype, size, (-3, 3)).reshape(shape)
    if kind == "relu":  # half exact zeros (and some subnormals, which count as zero)
        x = random_normals(rng, dtype, size, (-3, 3))
        x[rng.random(size) < 0.5] = 0
        x[rng.random(size) < 0.02] = np.finfo(dtype).smallest_subnormal
        return np.abs(x).reshape(shape)
    if kind == "sparse":  # signed, half +-0, some +-subnormals (which count as zero)
        x = random_normals(rng, dtype, size, (-3, 3))
        x[rng.random(size) < 0.5] = 0
        x[rng.random(size) < 0.1] *= -0.0
        sub = rng.random(size) < 0.02
        x[sub] = np.finfo(dtype).smallest_subnormal * np.sign(rng.random(int(sub.sum())) - 0.5)
        return x.reshape(shape)
    if kind == "extreme":  # products underflow to 0 and overflow to inf
        finfo = np.finfo(dtype)
        lo, hi = finfo.minexp, finfo.maxexp - 1
        x = random_normals(rng, dtype, size, (lo, hi))
        mid = rng.random(size) < 0.5
        x[mid] = random_normals(rng, dtype, int(mid.sum()), (-2, 2))
        return x.reshape(shape)
    if kind == "special":  # inf and NaN sprinkled into some lines
        x = random_normals(rng, dtype, size, (-3, 3)).reshape(shape)
        r = rng.random(shape)
        lines = rng.random(shape[line_axis]) < 0.35
        lines[0] = True  # at least one special line
        r[~np.broadcast_to(np.expand_dims(lines, 1 - line_axis), shape)] = 1.0  # clean lines: no specials
        r[np.unravel_index(rng.integers(0, size), shape)] = 0.0
        x[r < 0.01] = np.inf
        x[(r >= 0.01) & (r < 0.02)] = -np.inf
        x[(r >= 0.02) & (r < 0.025)] = np.nan
        x[(r >= 0.025) & (r < 0.03)] = 0
        return x
    raise ValueError(kind)


# Kinds of the (A, B) pair; "sparse-a" keeps B dense, so the kernel's masked
# fast tier (zeros in A only) runs, "sparse-b" the general tier.
PAIR_KINDS = {"sparse-a": ("sparse", "normal"), "sparse-b": ("normal", "sparse")}


@functools.lru_cache(maxsize=None)
def case(kind, dtype_name, m, k, n, compensated, seed=0):
    """(a, b, reference result), cached: the reference is slow and every SIMD level reuses it."""
    dtype = np.dtype(dtype_name)
    kind_a, kind_b = PAIR_KINDS.get(kind, (kind, kind))
    a = make_data(kind_a, dtype, (m, k), seed, line_axis=0)
    b = make_data(kind_b, dtype, (k, n), seed + 1, line_axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = reference.mitchell_matmul(a, b, compensated=compensated)
    return a, b, expected


# --------------------------------------------------------------------------- parity


ODD_SHAPES = [(m, k, n) for m in (1, 7, 97) for k in (1, 7, 97) for n in (1, 7, 97) if m * k * n <= 97 * 97 * 7]
ODD_SHAPES += [(1, 1025, 1), (7, 1025, 7), (1, 1025, 97), (97, 97, 97)]
BLOCKING_SHAPES = [
    (200, 600, 40),  # crosses the 192-row block and two 256-deep k slices
    (193, 257, 13),  # one past each block edge
    (3, 300, 2100),  # crosses the 2048-column block
    (33, 513, 25),  # one past a 32-row AVX-512 micro-panel; two k slices and one element
]


@pytest.mark.parametrize("m, k, n", ODD_SHAPES, ids=[f"{m}x{k}x{n}" for m, k, n in ODD_SHAPES])
def test_odd_shapes_bit_identical(simd_level, dtype, compensated, m, k, n):
    a, b, expected = case("normal", dtype.name, m, k, n, compensated)
    got = matmul_all_threads(a, b, compensated)
    assert_bits_equal(got, expected, f"{m}x{k}x{n} {dtype}")


@pytest.mark.parametrize("m, k, n", BLOCKING_SHAPES, ids=[f"{m}x{k}x{n}" for m, k, n in BLOCKING_SHAPES])
@pytest.mark.parametrize("kind", ["normal", "relu"])
def test_shapes_crossing_the_blocking(simd_level, dtype, m, k, n, kind):
    compensated = kind == "relu"  # both settings, without doubling the slow reference's cost
    a, b, expected = case(kind, dtype.name, m, k, n, compensated)
    got = matmul_all_threads(a, b, compensated)
    assert_bits_equal(got, expected, f"{kind} {m}x{k}x{n} {dtype}")


@pytest.mark.parametrize("kind", ["relu", "sparse-a", "sparse-b", "extreme", "special"])
@pytest.mark.parametrize(
    "m, k, n", [(7, 97, 7), (97, 300, 13), (40, 1025, 3)], ids=["7x97x7", "97x300x13", "40x1025x3"]
)
def test_zeros_extremes_and_specials(simd_level, dtype, compensated, kind, m, k, n):
    a, b, expected = case(kind, dtype.name, m, k, n, compensated)
    got = matmul_all_threads(a, b, compensated)
    assert_matmul_equal(got, expected, f"{kind} {m}x{k}x{n} {dtype}")
    if kind == "extreme":
        # The data did exercise under- and overflowing products.
        with np.errstate(over="ignore", invalid="ignore"):
            products = reference.mitchell_multiply(a[:, :, None], b[None, :, :])
        assert np.any(products == 0) and np.any(np.isinf(products))
    if kind == "special":
        assert np.any(np.isnan(got)) and np.any(np.isfinite(got))


def test_mixed_tiers_in_one_product(simd_level, dtype):
    # Rows and columns whose panels fall in different tiers of the kernel:
    # all-normal blocks next to blocks with zeros, huge values and infs.
    a, b, _ = case("normal", dtype.name, 97, 300, 40, False)
    a, b = a.copy(), b.copy()
    a[40:50, 10:20] = 0
    a[70, 5] = np.finfo(dtype).max
    b[200, 30] = np.inf
    b[250:, 35:] = np.finfo(dtype).tiny
    with np.errstate(over="ignore", invalid="ignore"):
        expected = reference.mitchell_matmul(a, b)
    assert_matmul_equal(matmul_all_threads(a, b), expected, f"mixed tiers {dtype}")


def test_nan_results_are_the_quiet_nan(dtype, restore_simd, restore_threads):
    # inf + (-inf) gives the CPU's default NaN (negative on x86); later NaN or
    # inf products then meet a NaN accumulator.  Every NaN result must leave as
    # the positive quiet NaN, at every SIMD level and thread count.
    a = np.array(
        [
            [np.inf, np.inf, 1.0, 1.0],
            [np.inf, np.inf, np.nan, 1.0],
            [np.nan, np.inf, -np.inf, 1.0],
            [0.0, np.inf, 1.0, 2.0],
        ],
        dtype=dtype,
    )
    b = np.array([[1.0, 2.0], [-1.0, np.inf], [1.0, -np.inf], [1.0, np.nan]], dtype=dtype)
    big_a, big_b, _ = case("special", dtype.name, 97, 300, 13, False)
    results = {}
    for level in SUPPORTED_SIMD_LEVELS:
        logsketch.set_simd_level(level)
        for threads in (1, 2):
            logsketch.set_num_threads(threads)
            results[level, threads] = (logsketch.mitchell_matmul(a, b), logsketch.mitchell_matmul(big_a, big_b))
    first = results["scalar", 1]
    assert np.all(np.isnan(first[0][:3, 0])) and np.sum(np.isnan(first[1])) > 100
    quiet_nan = reference.FORMATS[np.dtype(dtype)].quiet_nan
    for result in first:
        assert np.all(bits(result)[np.isnan(result)] == quiet_nan)
    for key, (small, big) in results.items():
        assert_bits_equal(small, first[0], f"{key} small")
        assert_bits_equal(big, first[1], f"{key} big")
    with np.errstate(invalid="ignore"):
        assert_matmul_equal(first[0], reference.mitchell_matmul(a, b), "small vs reference")


def test_sums_of_signed_zeros_are_plus_zero(simd_level, dtype):
    # Products of zeros carry the sign rule (-0 x 5 = -0), but every sum starts
    # from +0 and +0 + -0 = +0: each output below is +0, whichever tier runs
    # (all-zero A panel: masked fast tier; zeros in B: general; inf nearby: exact loop).
    neg_zero = np.full((40, 97), -0.0, dtype=dtype)
    b = -np.abs(random_normals(np.random.default_rng(53), dtype, 97 * 13, (-3, 3))).reshape(97, 13)
    for x, y in [(neg_zero, b), (b.T, neg_zero.T), (neg_zero, np.full((97, 13), -0.0, dtype=dtype))]:
        assert np.all(bits(matmul_all_threads(x, y)) == 0)
    mixed = neg_zero.copy()
    mixed[0, 50] = np.inf  # row 0: one inf x negative = -inf; every other product -0
    got = matmul_all_threads(mixed, b)
    assert np.all(got[0] == -np.inf) and np.all(bits(got[1:]) == 0)


def test_float16_final_rounding(simd_level):
    # float16 inputs are summed in float32 and cast once at the end: with B = 1
    # (a Mitchell product by 1.0 is exact) the result is float16(x + y + z)
    # summed in float32, which numpy's own casts give independently of the
    # reference: ties to even, results past 65504 to inf, near-cancellations.
    rng = np.random.default_rng(59)
    n = 4000
    x = random_normals(rng, np.float16, n, (-14, 14))
    y = random_normals(rng, np.float16, n, (-14, 14))
    z = random_normals(rng, np.float16, n, (-14, 14))
    y[: n // 4] = -x[: n // 4] * np.float16(1.0009765625)  # near-cancellation: tiny sums
    fixed = np.array(
        [
            [65504, 16, 0],  # 65520: the tie between 65504 and 2^16 goes to even: inf
            [65504, 8, 0],  # 65512: 65504
            [65504, 24, -0.0],  # 65528: inf
            [1, 2.0**-11, 0],  # tie: 1 (even)
            [1 + 2.0**-10, 2.0**-11, 0],  # tie: 1 + 2^-9 (even)
            [2048, 1, 0],  # 2049, tie: 2048 (even)
            [2050, 1, 0],  # 2051, tie: 2052 (even)
            [-65504, -16, 0],  # -inf
            [60000, 60000, -60000],  # 120000 in float32, back to 60000: no float16 overflow midway
            [2.0**-13, -(2.0**-14) * 1.5, 0],  # 2^-15: a float16 subnormal result
        ],
        dtype=np.float16,
    )
    a = np.concatenate([np.stack([x, y, z], axis=1), fixed])
    ones = np.ones((3, 1), dtype=np.float16)
    got = matmul_all_threads(a, ones)[:, 0]
    assert np.all(np.isfinite(a)) and np.all((a == 0) | (np.abs(a) >= np.finfo(np.float16).tiny))  # no flushing
    a32 = a.astype(np.float32)
    with np.errstate(over="ignore"):
        independent = ((a32[:, 0] + a32[:, 1]) + a32[:, 2]).astype(np.float16)
    assert_bits_equal(got, independent, "float16(float32 sum)")
    assert_bits_equal(got, ref_matmul(a, ones)[:, 0], "reference")
    assert list(got[-10:].astype(np.float64)) == [
        np.inf, 65504.0, np.inf, 1.0, 1 + 2.0**-9, 2048.0, 2052.0, -np.inf, 60000.0, 2.0**-15
    ]


def test_concurrent_calls_from_python_threads(dtype, restore_threads):
    # Kernels release the GIL and keep per-thread packing scratch; calls of
    # different sizes from several Python threads at once must not disturb
    # each other.
    from concurrent.futures import ThreadPoolExecutor

    logsketch.set_num_threads(2)
    shapes = [(200, 600, 40), (33, 513, 25), (7, 1025, 7), (97, 97, 97), (3, 300, 2100), (193, 257, 13)]
    cases = [case("normal", dtype.name, *shape, False) for shape in shapes]
    serial = [logsketch.mitchell_matmul(a, b) for a, b, _ in cases]

    def job(i):
        a, b, _ = cases[i % len(cases)]
        return i % len(cases), logsketch.mitchell_matmul(a, b)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(job, range(3 * len(cases))))
    for i, got in results:
        assert_bits_equal(got, serial[i], f"concurrent {shapes[i]}")
        assert_bits_equal(got, cases[i][2], f"concurrent vs reference {shapes[i]}")


# --------------------------------------------------------------------------- summation bound


def summation_bound_check(a, b, c, compensated):
    """|C - exact| <= gamma_k * sum|p| (+ the float16 cast and fsum's rounding)."""
    dtype = c.dtype
    products = reference.mitchell_multiply(a[:, :, None], b[None, :, :], compensated=compensated).astype(np.float64)
    m, k, n = products.shape
    exact = np.array([[math.fsum(products[i, :, j]) for j in range(n)] for i in range(m)])
    magnitude = np.abs(products).sum(axis=1)
    u = 2.0**-53 if dtype == np.float64 else 2.0**-24
    gamma = k * u / (1 - k * u)
    bound = gamma * magnitude + 2.0**-53 * magnitude
    if dtype == np.float16:
        bound += 2.0**-11 * (np.abs(exact) + gamma * magnitude)  # the final cast to float16
    err = np.abs(c.astype(np.float64) - exact)
    assert np.all(err <= bound), f"max excess {np.max(err - bound)}"
    return err, bound


@pytest.mark.parametrize("m, k, n", [(7, 97, 7), (13, 1025, 5), (97, 97, 97)])
def test_summation_error_bound(dtype, compensated, m, k, n):
    a, b, expected = case("normal", dtype.name, m, k, n, compensated)
    got = logsketch.mitchell_matmul(a, b, compensated=compensated)
    assert_bits_equal(got, expected, "parity")
    err, bound = summation_bound_check(a, b, got, compensated)
    assert np.all(np.isfinite(bound)) and np.any(err > 0)  # there was rounding to bound


# --------------------------------------------------------------------------- shapes and layouts


def ref_matmul(a, b, compensated=False):
    with np.errstate(invalid="ignore", over="ignore"):
        return reference.mitchell_matmul(a, b, compensated=compensated)


def test_batched_broadcasting(simd_level, dtype, compensated):
    rng = np.random.default_rng(31)
    a = random_normals(rng, dtype, 2 * 3 * 7 * 97, (-3, 3)).reshape(2, 3, 7, 97)
    b = random_normals(rng, dtype, 3 * 97 * 5, (-3, 3)).reshape(3, 97, 5)
    got = matmul_all_threads(a, b, compensated)
    assert got.shape == (2, 3, 7, 5) == np.matmul(a, b).shape
    assert_bits_equal(got, ref_matmul(a, b, compensated), "(2,3,7,97) @ (3,97,5)")
    # Both operands broadcast: (2,1,m,k) @ (3,k,n)
    got = matmul_all_threads(a[:, :1], b, compensated)
    assert got.shape == (2, 3, 7, 5)
    assert_bits_equal(got, ref_matmul(a[:, :1], b, compensated), "(2,1,7,97) @ (3,97,5)")
    # Each batch element equals its own 2-D product.
    for i in range(2):
        for j in range(3):
            assert_bits_equal(got[i, j], logsketch.mitchell_matmul(a[i, 0], b[j], compensated=compensated), "slice")


def test_many_small_matrices(simd_level, dtype):
    # batch >= threads and small matrices: the kernel spreads whole matrices over threads.
    rng = np.random.default_rng(37)
    a = random_normals(rng, dtype, 64 * 5 * 33, (-3, 3)).reshape(64, 5, 33)
    b = random_normals(rng, dtype, 64 * 33 * 3, (-3, 3)).reshape(64, 33, 3)
    got = matmul_all_threads(a, b)
    assert_bits_equal(got, ref_matmul(a, b), "64 x (5,33)@(33,3)")


def test_vector_operands(simd_level, dtype, compensated):
    rng = np.random.default_rng(41)
    v = random_normals(rng, dtype, 97, (-3, 3))
    mat = random_normals(rng, dtype, 97 * 7, (-3, 3)).reshape(97, 7)
    mat_t = random_normals(rng, dtype, 7 * 97, (-3, 3)).reshape(7, 97)
    stack = random_normals(rng, dtype, 2 * 97 * 7, (-3, 3)).reshape(2, 97, 7)

    got = matmul_all_threads(v, mat, compensated)  # 1-D @ 2-D
    assert got.shape == (7,)
    assert_bits_equal(got, ref_matmul(v, mat, compensated), "(97,) @ (97,7)")

    got = matmul_all_threads(mat_t, v, compensated)  # 2-D @ 1-D
    assert got.shape == (7,)
    assert_bits_equal(got, ref_matmul(mat_t, v, compensated), "(7,97) @ (97,)")

    got = matmul_all_threads(v, stack, compensated)  # 1-D @ batched
    assert got.shape == (2, 7)
    assert_bits_equal(got, ref_matmul(v, stack, compensated), "(97,) @ (2,97,7)")

    got = matmul_all_threads(np.swapaxes(stack, -1, -2), v, compensated)  # batched @ 1-D
    assert got.shape == (2, 7)
    assert_bits_equal(got, ref_matmul(np.swapaxes(stack, -1, -2), v, compensated), "(2,7,97) @ (97,)")


def test_vector_dot_vector(dtype):
    # np.matmul returns a numpy scalar here; the kernel writes through a
    # (1, 1) view of the 0-d result.
    v = np.array([1.5, 2.0, 3.0], dtype=dtype)
    w = np.array([1.5, 3.0, 3.0], dtype=dtype)
    got = logsketch.mitchell_matmul(v, w)
    assert np.shape(got) == () == np.shape(np.matmul(v, w))
    assert np.asarray(got).dtype == dtype
    assert float(got) == 2.0 + 6.0 + 8.0  # Mitchell: 1.5*1.5 -> 2, 2*3 -> 6 (exact), 3*3 -> 8
    assert_bits_equal(np.asarray(got), ref_matmul(v, w), "(3,) @ (3,)")


def test_layouts(simd_level, dtype, compensated):
    rng = np.random.default_rng(43)
    big_a = random_normals(rng, dtype, 2 * 40 * 300, (-3, 3)).reshape(2 * 40, 300)
    big_b = random_normals(rng, dtype, 300 * 2 * 30, (-3, 3)).reshape(300, 2 * 30)
    a = big_a[::2, ::3]  # (40, 100), strided
    b = big_b[::3, ::2]  # (100, 30)
    expected = ref_matmul(np.ascontiguousarray(a), np.ascontiguousarray(b), compensated)
    variants = {
        "strided": (a, b),
        "fortran": (np.asfortranarray(a), np.asfortranarray(b)),
        "transposed": (np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T),
        "negative": (a[::-1, ::-1].copy()[::-1, ::-1], b[::-1].copy()[::-1]),
        "mixed": (np.asfortranarray(a), b),
    }
    for name, (x, y) in variants.items():
        assert_bits_equal(matmul_all_threads(x, y, compensated), expected, f"{name} {dtype}")
    # A genuinely reversed operand: reverse k in both, which reorders the sum.
    rev = ref_matmul(np.ascontiguousarray(a[:, ::-1]), np.ascontiguousarray(b[::-1]), compensated)
    assert_bits_equal(matmul_all_threads(a[:, ::-1], b[::-1], compensated), rev, "k reversed")


def test_mixed_dtypes_promote(simd_level):
    rng = np.random.default_rng(47)
    a16 = random_normals(rng, np.float16, 7 * 97, (-3, 3)).reshape(7, 97)
    b32 = random_normals(rng, np.float32, 97 * 5, (-3, 3)).reshape(97, 5)
    got = logsketch.mitchell_matmul(a16, b32)
    assert got.dtype == np.float32
    assert_bits_equal(got, ref_matmul(a16.astype(np.float32), b32), "f16 @ f32")
    got = logsketch.mitchell_matmul(b32.T, a16.T.astype(np.float64))
    assert got.dtype == np.float64
    assert_bits_equal(got, ref_matmul(b32.T.astype(np.float64), a16.T.astype(np.float64)), "f32 @ f64")
    got = logsketch.mitchell_matmul([[1.5, 2.0]], [[1.5], [3.0]])
    assert got.dtype == np.float64 and got.shape == (1, 1) and got[0, 0] == 8.0


def test_empty_dimensions(dtype):
    a = np.ones((7, 0), dtype=dtype)
    b = np.ones((0, 5), dtype=dtype)
    got = logsketch.mitchell_matmul(a, b)  # k = 0: an empty sum, +0
    assert got.shape == (7, 5) and got.dtype == dtype
    assert np.all(bits(got) == 0)
    got = logsketch.mitchell_matmul(np.ones((2, 3, 0), dtype=dtype), np.ones((0, 4), dtype=dtype))
    assert got.shape == (2, 3, 4) and np.all(bits(got) == 0)
    dirty = np.full((7, 5), np.nan, dtype=dtype)
    assert logsketch.mitchell_matmul(a, b, out=dirty) is dirty and np.all(bits(dirty) == 0)
    empties = [
        ((0, 3), (3, 5), (0, 5)),
        ((7, 3), (3, 0), (7, 0)),
        ((0, 3), (3, 0), (0, 0)),
        ((2, 0, 3, 4), (4, 5), (2, 0, 3, 5)),
    ]
    for sa, sb, want in empties:
        got = logsketch.mitchell_matmul(np.ones(sa, dtype=dtype), np.ones(sb, dtype=dtype))
        assert got.shape == want == np.matmul(np.ones(sa), np.ones(sb)).shape and got.dtype == dtype


# --------------------------------------------------------------------------- out=


def test_out(simd_level, dtype, compensated):
    a, b, expected = case("normal", dtype.name, 7, 97, 13, compensated)
    out = np.empty((7, 13), dtype=dtype)
    assert logsketch.mitchell_matmul(a, b, compensated=compensated, out=out) is out
    assert_bits_equal(out, expected, "out")
    t = np.empty((13, 7), dtype=dtype).T
    assert logsketch.mitchell_matmul(a, b, compensated=compensated, out=t) is t
    assert_bits_equal(t, expected, "transposed out")
    big = np.full((14, 40), 7.0, dtype=dtype)
    view = big[::2, ::-3][:, :13]
    logsketch.mitchell_matmul(a, b, compensated=compensated, out=view)
    assert_bits_equal(view, expected, "strided out")
    mask = np.ones(big.shape, dtype=bool)
    mask[::2, ::-3][:, :13] = False
    assert np.all(big[mask] == 7.0)


def test_out_errors(dtype):
    a = np.ones((4, 4), dtype=dtype)
    b = np.ones((4, 3), dtype=dtype)
    other = np.float64 if dtype != np.float64 else np.float32
    with pytest.raises(TypeError, match="out"):
        logsketch.mitchell_matmul(a, b, out=np.empty((4, 3), dtype=other))
    with pytest.raises(ValueError, match="out"):
        logsketch.mitchell_matmul(a, b, out=np.empty((3, 4), dtype=dtype))
    with pytest.raises(ValueError, match="out"):
        logsketch.mitchell_matmul(a, b[:, 0], out=np.empty((4, 1), dtype=dtype))  # result is (4,)
    ro = np.zeros((4, 3), dtype=dtype)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        logsketch.mitchell_matmul(a, b, out=ro)
    # Overlap with an input: refused, and the input is left alone.
    sq = np.full((4, 4), 1.5, dtype=dtype)
    with pytest.raises(ValueError, match="overlap"):
        logsketch.mitchell_matmul(sq, a, out=sq)
    with pytest.raises(ValueError, match="overlap"):
        logsketch.mitchell_matmul(a, sq, out=sq)
    buf = np.full((8, 4), 1.5, dtype=dtype)
    with pytest.raises(ValueError, match="overlap"):
        logsketch.mitchell_matmul(buf[:4], a, out=buf[2:6])
    assert np.all(sq == 1.5) and np.all(buf == 1.5)
    with pytest.raises(TypeError, match="out"):
        logsketch.mitchell_matmul(a, b, out=[[0.0] * 3] * 4)


# --------------------------------------------------------------------------- errors


def test_errors():
    m = np.ones((3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="a must be at least 1-D"):
        logsketch.mitchell_matmul(np.float32(2), m)
    with pytest.raises(ValueError, match="b must be at least 1-D"):
        logsketch.mitchell_matmul(m, np.array(2.0, dtype=np.float32))
    with pytest.raises(ValueError, match="inner") as info:
        logsketch.mitchell_matmul(m, np.ones((3, 4), dtype=np.float32))
    assert "(3, 4)" in str(info.value)
    with pytest.raises(ValueError, match="inner") as info:
        logsketch.mitchell_matmul(np.ones(5, dtype=np.float32), np.ones((4, 2), dtype=np.float32))
    assert "(5,)" in str(info.value) and "(4, 2)" in str(info.value)
    with pytest.raises(ValueError, match="batch") as info:
        logsketch.mitchell_matmul(np.ones((2, 3, 4), dtype=np.float32), np.ones((3, 4, 5), dtype=np.float32))
    assert "(2, 3, 4)" in str(info.value) and "(3, 4, 5)" in str(info.value)
    for name in ("int64", "bool", "complex128"):
        bad = np.ones((3, 4), dtype=name)
        with pytest.raises(TypeError) as info:
            logsketch.mitchell_matmul(bad, np.ones((4, 2), dtype=np.float32))
        assert str(info.value).startswith("a "), (name, str(info.value))
        with pytest.raises(TypeError) as info:
            logsketch.mitchell_matmul(m, bad.T)
        assert str(info.value).startswith("b "), (name, str(info.value))
    with pytest.raises(TypeError, match="^a "):
        logsketch.mitchell_matmul("abc", m)
    with pytest.raises(TypeError, match="^b "):
        logsketch.mitchell_matmul(m, [[1, 2], [3, 4], [5, 6], [7, 8]])  # a list of ints


# --------------------------------------------------------------------------- property test


@st.composite
def matmul_operands(draw):
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    m, k, n = (draw(st.integers(1, 40)) for _ in range(3))
    seed = draw(st.integers(0, 2**32 - 1))
    kind_a, kind_b = (draw(st.sampled_from(["normal", "relu", "sparse", "extreme", "special"])) for _ in range(2))
    a = make_data(kind_a, dtype, (m, k), seed, line_axis=0)
    b = make_data(kind_b, dtype, (k, n), seed + 1, line_axis=1)
    if draw(st.booleans()):
        a = np.asfortranarray(a)
    if draw(st.booleans()):
        b = b[::-1][::-1].T.copy().T
    return a, b


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operands=matmul_operands(), compensated=st.booleans())
def test_property_random_matmuls(simd_level, operands, compensated):
    a, b = operands
    got = logsketch.mitchell_matmul(a, b, compensated=compensated)
    assert_matmul_equal(got, ref_matmul(a, b, compensated), "random")
