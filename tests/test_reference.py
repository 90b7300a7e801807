"""logsketch.reference against values worked out by hand from the definition,
and its compensation constants against bench/derive_compensation.py.

The reference is the yardstick of every other Mitchell test, so it is checked
here independently: each expected value below follows from the definition in
logsketch.mitchell (M = A + B - bits(1.0) for multiply, A - B + bits(1.0) for
divide, clamping, special cases), not from running any implementation.
"""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from logsketch import reference
from logsketch_test_helpers import FLOAT_DTYPES, bits, from_bits

ROOT = pathlib.Path(__file__).resolve().parents[1]
DTYPE_IDS = [d.name for d in FLOAT_DTYPES]

mul = reference.mitchell_multiply
div = reference.mitchell_divide


@pytest.fixture(params=FLOAT_DTYPES, ids=DTYPE_IDS)
def dtype(request):
    return request.param


def value(x):
    return float(np.asarray(x))


def sign_of(x):
    return bool(np.signbit(np.asarray(x)))


@pytest.mark.parametrize(
    "a, b, product",
    [
        (3.0, 3.0, 8.0),  # 1.5*2 x 1.5*2: mantissas .5 + .5 carry: 2 * 2^2 = 8 (exact 9)
        (1.5, 1.5, 2.0),  # the worst case: -1/9
        (1.25, 1.5, 1.75),  # no carry: 1 + .25 + .5 (exact 1.875)
        (1.75, 1.5, 2.5),  # carry: 2 * (1 + .25) (exact 2.625)
        (2.0, 3.0, 6.0),  # a power of two is exact
        (0.5, 0.75, 0.375),  # 2^-1 * 1.5 * 2^-1: exact
        (1.0, 1.0, 1.0),
    ],
)
def test_multiply_hand_values(dtype, a, b, product):
    x, y = dtype.type(a), dtype.type(b)
    for sa in (1, -1):
        for sb in (1, -1):
            got = mul(sa * x, sb * y)
            assert np.asarray(got).dtype == dtype
            assert value(got) == sa * sb * product
    assert value(mul(y, x)) == product  # commutative


@pytest.mark.parametrize(
    "a, b, quotient",
    [
        (2.0, 3.0, 0.75),  # 2^1 / (1.5 * 2^1): mantissa 0 - .5 borrows: 2^-1 * 1.5 (exact 0.667)
        (3.0, 2.0, 1.5),  # exact
        (1.5, 1.75, 0.875),  # .5 - .75 borrows: 2^-1 * 1.75 (exact 0.857)
        (1.75, 1.5, 1.25),  # 1 + .25 (exact 1.1667)
        (1.0, 1.5, 0.75),
        (6.0, 2.0, 3.0),
        (1.0, 1.0, 1.0),
    ],
)
def test_divide_hand_values(dtype, a, b, quotient):
    x, y = dtype.type(a), dtype.type(b)
    for sa in (1, -1):
        for sb in (1, -1):
            got = div(sa * x, sb * y)
            assert np.asarray(got).dtype == dtype
            assert value(got) == sa * sb * quotient


def test_zeros_infinities_and_signs(dtype):
    t = dtype.type
    inf, zero = t(np.inf), t(0.0)
    with np.errstate(invalid="ignore"):
        # zero x finite = +-0 with the sign rule; zeros carry the sign s.
        for a, b, neg in [(zero, t(5), False), (-zero, t(5), True), (zero, t(-5), True), (-zero, -zero, False)]:
            r = mul(a, b)
            assert value(r) == 0 and sign_of(r) == neg
        # inf x nonzero = +-inf
        assert value(mul(inf, t(-2))) == -np.inf
        assert value(mul(-inf, -inf)) == np.inf
        # inf x 0 = NaN
        assert np.isnan(value(mul(inf, zero))) and np.isnan(value(mul(-zero, inf)))
        # x / 0 = +-inf for nonzero x (inf / 0 too)
        assert value(div(t(1), zero)) == np.inf
        assert value(div(t(1), -zero)) == -np.inf
        assert value(div(t(-1), zero)) == -np.inf
        assert value(div(-inf, zero)) == -np.inf
        # 0 / 0 and inf / inf = NaN
        assert np.isnan(value(div(zero, -zero)))
        assert np.isnan(value(div(inf, -inf)))
        # finite / inf = +-0, 0 / nonzero = +-0
        r = div(t(3), -inf)
        assert value(r) == 0 and sign_of(r)
        r = div(-zero, t(3))
        assert value(r) == 0 and sign_of(r)
        # inf / finite = +-inf
        assert value(div(inf, t(-3))) == -np.inf


def test_subnormal_inputs_count_as_zero(dtype):
    t = dtype.type
    finfo = np.finfo(dtype)
    tiny = finfo.smallest_subnormal
    big_sub = from_bits([(1 << finfo.nmant) - 1], dtype)[0]  # largest subnormal
    for s in (tiny, big_sub):
        r = mul(s, t(1e4) if dtype == np.float16 else t(1e30))
        assert bits(r) == 0  # +0, though the exact product is large
        r = mul(-s, t(2))
        assert value(r) == 0 and sign_of(r)
        assert value(div(t(1), s)) == np.inf  # x / 0
        r = div(s, t(0.25))
        assert bits(r) == 0
        with np.errstate(invalid="ignore"):
            assert np.isnan(value(div(s, s)))  # 0 / 0
            assert np.isnan(value(mul(s, t(np.inf))))  # 0 x inf


def test_underflow_and_overflow(dtype):
    t = dtype.type
    finfo = np.finfo(dtype)
    fmt = reference.FORMATS[dtype]
    min_normal = t(finfo.smallest_normal)
    # smallest normal x 0.5: M = bits(min) + bits(0.5) - bits(1) = bits(min) - 2^m = 0 -> +0
    assert bits(mul(min_normal, t(0.5))) == 0
    r = mul(-min_normal, t(0.5))
    assert value(r) == 0 and sign_of(r)
    # smallest normal x 1 and / 1 stay
    assert value(mul(min_normal, t(1))) == finfo.smallest_normal
    # smallest normal x (1 - ulp): M one below the smallest normal -> 0
    below_one = from_bits([fmt.bias - 1], dtype)[0]
    assert bits(mul(min_normal, below_one)) == 0
    # largest normal x 2 overflows; largest x (1 + ulp) lands exactly on inf's pattern -> inf
    assert value(mul(t(finfo.max), t(2))) == np.inf
    above_one = from_bits([fmt.bias + 1], dtype)[0]
    assert value(mul(-t(finfo.max), above_one)) == -np.inf
    assert value(mul(t(finfo.max), t(1))) == finfo.max
    # divide: largest / 0.5 overflows, smallest / 2 underflows
    assert value(div(t(finfo.max), t(0.5))) == np.inf
    assert bits(div(min_normal, t(2))) == 0
    assert value(div(t(finfo.max), below_one)) == np.inf  # M = inf's pattern exactly


def test_nan_results_are_the_positive_quiet_nan(dtype):
    fmt = reference.FORMATS[dtype]
    m = fmt.mantissa_bits
    inf_bits = fmt.exponent_max << m
    nans = from_bits(
        [inf_bits | 1, inf_bits | (1 << (m - 1)), inf_bits | ((1 << m) - 1), fmt.sign_bit | inf_bits | 3], dtype
    )
    assert np.all(np.isnan(nans))
    others = np.array([0.0, -1.5, np.inf, -np.inf, 3.0], dtype=dtype)
    a = np.repeat(nans, others.size)
    b = np.tile(others, nans.size)
    with np.errstate(invalid="ignore"):
        results = [mul(a, b), mul(b, a), div(a, b), div(b, a), mul(np.array(np.inf, dtype=dtype), np.zeros(1, dtype))]
    for r in results:
        assert np.all(bits(r) == fmt.quiet_nan)
    # The quiet NaN is numpy's default NaN of the format.
    assert bits(np.array(np.nan, dtype=dtype)) == fmt.quiet_nan


def test_format_table(dtype):
    fmt = reference.FORMATS[dtype]
    finfo = np.finfo(dtype)
    assert fmt.dtype == dtype and fmt.uint.itemsize == dtype.itemsize
    assert fmt.mantissa_bits == finfo.nmant
    assert fmt.bias == bits(np.array(1.0, dtype=dtype))
    assert fmt.exponent_max << fmt.mantissa_bits == bits(np.array(np.inf, dtype=dtype))
    assert fmt.sign_bit == bits(np.array(-0.0, dtype=dtype))


def test_compensated_by_definition(dtype):
    fmt = reference.FORMATS[dtype]
    one = np.array(1.0, dtype=dtype)
    # multiply adds the constant to M; 1 x 1 has M = bits(1).
    assert bits(mul(one, one, compensated=True)) == fmt.bias + fmt.mul_compensation
    # divide subtracts it: 1 / 1 borrows into the exponent below.
    assert bits(div(one, one, compensated=True)) == fmt.bias - fmt.div_compensation
    # Zeros, infinities and NaNs are not shifted.
    assert bits(mul(np.zeros(1, dtype), one, compensated=True)) == 0
    assert value(mul(np.array(np.inf, dtype=dtype), one, compensated=True)) == np.inf
    # Compensation can push the largest normal x 1 over the edge.
    assert value(mul(np.array(np.finfo(dtype).max, dtype=dtype), one, compensated=True)) == np.inf


def test_matmul_reference_hand_values(dtype):
    a = np.array([[1.5, 2.0], [3.0, -1.0]], dtype=dtype)
    b = np.array([[1.5, 1.0], [3.0, 0.5]], dtype=dtype)
    # [1.5*1.5 + 2*3, 1.5*1 + 2*.5; 3*1.5 + -1*3, 3*1 + -1*.5] with Mitchell products
    #  2 + 6 = 8;     1.5 + 1 = 2.5;  4 + -3 = 1 (3*1.5: .5+.5 carry: 2*2=4);  3 - .5 = 2.5
    expected = np.array([[8.0, 2.5], [1.0, 2.5]], dtype=dtype)
    got = reference.mitchell_matmul(a, b)
    assert got.dtype == dtype
    assert np.array_equal(got, expected)
    assert reference.mitchell_matmul(a[0], b[:, 0]).shape == ()
    assert float(reference.mitchell_matmul(a[0], b[:, 0])) == 8.0


def test_matmul_reference_sums_in_order_from_plus_zero():
    # Sequential float32 accumulation: 2^24 + 1 rounds back to 2^24 each time.
    a = np.array([[2.0**24, 1.0, 1.0, 1.0]], dtype=np.float32)
    b = np.ones((4, 1), dtype=np.float32)
    assert float(reference.mitchell_matmul(a, b)[0, 0]) == 2.0**24
    # ... in increasing k: the ones first would survive.
    assert float(reference.mitchell_matmul(a[:, ::-1], b)[0, 0]) == 2.0**24 + 4
    # float16 inputs accumulate in float32: 2048 + 1 + 1 = 2050 (float16 sums would stop at 2048).
    a16 = np.array([[2048.0, 1.0, 1.0]], dtype=np.float16)
    got = reference.mitchell_matmul(a16, np.ones((3, 1), dtype=np.float16))
    assert got.dtype == np.float16 and float(got[0, 0]) == 2050.0
    # The sum starts from +0: a single -0 product gives +0.
    z = reference.mitchell_matmul(np.array([[-0.0]], dtype=np.float32), np.array([[1.0]], dtype=np.float32))
    assert bits(z) == 0
    # An empty sum is +0.
    e = reference.mitchell_matmul(np.ones((2, 0), dtype=np.float32), np.ones((0, 3), dtype=np.float32))
    assert e.shape == (2, 3) and np.all(bits(e) == 0)


def test_reference_errors():
    with pytest.raises(TypeError):
        mul(np.arange(3), np.arange(3))
    with pytest.raises(TypeError):
        reference.mitchell_matmul(np.ones((2, 2), dtype=complex), np.ones((2, 2)))
    with pytest.raises(ValueError):
        reference.mitchell_matmul(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError):
        reference.mitchell_matmul(np.float64(1.0), np.ones(3))


# --------------------------------------------------------------------------- compensation constants


@pytest.fixture(scope="module")
def derive():
    path = ROOT / "bench" / "derive_compensation.py"
    if not path.exists():
        pytest.skip("bench/derive_compensation.py is not in this checkout")
    spec = importlib.util.spec_from_file_location("derive_compensation", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def deltas(derive):
    # The script's own defaults (2**20 nodes, ~10 s here): its float64 constants
    # are only as precise as that quadrature, so they must be recomputed with it.
    return {
        "multiply": derive.solve(derive.mean_product_error, True),
        "divide": derive.solve(derive.mean_quotient_error, False),
    }


def test_derivation_sanity(derive, deltas):
    # Mitchell's known mean errors (plain): -3.85% for products, +4.10% for quotients.
    assert derive.mean_product_error(0.0, nodes=1 << 12) == pytest.approx(-0.0385, abs=5e-5)
    assert derive.mean_quotient_error(0.0, nodes=1 << 12) == pytest.approx(0.0410, abs=5e-5)
    assert deltas["multiply"] == pytest.approx(0.0566233, abs=1e-7)  # as the docstring states
    assert deltas["divide"] == pytest.approx(0.0579951, abs=1e-7)
    assert abs(derive.mean_product_error(deltas["multiply"])) < 1e-12
    assert abs(derive.mean_quotient_error(deltas["divide"])) < 1e-12


@pytest.mark.parametrize("op", ["multiply", "divide"])
def test_compensation_constants_match_the_derivation(dtype, deltas, op):
    fmt = reference.FORMATS[dtype]
    constant = fmt.mul_compensation if op == "multiply" else fmt.div_compensation
    scaled = deltas[op] * 2**fmt.mantissa_bits
    if dtype == np.float64:
        # 2**52 * delta resolves delta to 2e-16: libm/SIMD differences in
        # log1p may move the last bits of delta, so allow a few units.
        assert abs(constant - scaled) <= 8, (constant, scaled)
    else:
        assert constant == round(scaled), (constant, scaled)
