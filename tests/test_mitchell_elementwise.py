"""mitchell_multiply / mitchell_divide against logsketch.reference, bit for bit.

The elementwise definition is exact bit by bit, so every parity check is plain
equality of bit patterns (NaN results included: the definition fixes them to
the positive quiet NaN), at every SIMD level the CPU has.  The error-bound
tests check the definition itself against exact arithmetic, with the bounds
derived from the compensation constant actually in use.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import logsketch
from logsketch import reference
from logsketch_test_helpers import (
    FLOAT_DTYPES,
    UINT_OF,
    assert_bits_equal,
    bits,
    from_bits,
    random_bit_patterns,
    random_normals,
)

OPS = {
    "multiply": (logsketch.mitchell_multiply, reference.mitchell_multiply),
    "divide": (logsketch.mitchell_divide, reference.mitchell_divide),
}
DTYPE_IDS = [d.name for d in FLOAT_DTYPES]
BIG = (1 << 17) + 3  # above the kernel's 2**15-element threading threshold, and odd


def run(op, a, b, compensated=False, **kw):
    return OPS[op][0](a, b, compensated=compensated, **kw)


def ref(op, a, b, compensated=False):
    return OPS[op][1](a, b, compensated=compensated)


@pytest.fixture(params=[False, True], ids=["plain", "compensated"])
def compensated(request):
    return request.param


@pytest.fixture(params=list(OPS))
def op(request):
    return request.param


@pytest.fixture(params=FLOAT_DTYPES, ids=DTYPE_IDS)
def dtype(request):
    return request.param


# --------------------------------------------------------------------------- edge values


def edge_values(dtype) -> np.ndarray:
    """Every special bit pattern of the format, both signs, plus the operands
    whose products and quotients land exactly at the under/overflow thresholds."""
    fmt = reference.FORMATS[np.dtype(dtype)]
    m = fmt.mantissa_bits
    inf = fmt.exponent_max << m
    one = fmt.bias
    min_normal = 1 << m
    half_under = (min_normal + one) // 2  # x*x is exactly the smallest normal
    half_over = (inf + one) // 2  # x*x is exactly inf's pattern, i.e. overflow
    positive = [
        0,  # +0
        1,  # smallest subnormal
        min_normal - 1,  # largest subnormal
        min_normal,  # smallest normal
        min_normal + 1,
        inf - 1,  # largest normal
        inf - 2,
        one,  # 1.0
        one - 1,  # just below 1
        one + 1,  # just above 1
        one | (1 << (m - 1)),  # 1.5: the worst case of Mitchell's error
        one + min_normal,  # 2.0
        half_under - 1,
        half_under,
        half_under + 1,
        half_over - 1,
        half_over,
        half_over + 1,
        inf,  # inf
        inf | (1 << (m - 1)),  # the quiet NaN
        inf | 1,  # a signalling NaN, payload 1
        inf | ((1 << m) - 1),  # NaN, every payload bit set
        inf | (1 << (m - 1)) | 0x5,  # quiet NaN with a payload
    ]
    sign = fmt.sign_bit
    return from_bits(positive + [p | sign for p in positive], dtype)


def grid(values):
    a = np.repeat(values, values.size)
    b = np.tile(values, values.size)
    return a, b


def test_edge_values_cover_what_they_claim(dtype):
    v = edge_values(dtype)
    finfo = np.finfo(dtype)
    assert np.isnan(v).sum() == 8
    assert np.isposinf(v).sum() == 1 and np.isneginf(v).sum() == 1
    finite = v[np.isfinite(v)].astype(np.float64)
    assert finfo.max in finite and -finfo.max in finite
    assert finfo.smallest_normal in finite and finfo.smallest_subnormal in finite
    assert 1.0 in finite and -1.0 in finite and 1.5 in finite
    assert np.sum(finite == 0) == 2 and np.signbit(v[np.isfinite(v)][finite == 0]).sum() == 1


def test_edge_values_all_pairs(simd_level, dtype, op, compensated):
    a, b = grid(edge_values(dtype))
    expected = ref(op, a, b, compensated)
    assert_bits_equal(run(op, a, b, compensated), expected, f"{op} {dtype} flat grid")
    # The same grid through the broadcasting path (outer product shape).
    v = edge_values(dtype)
    got = run(op, v[:, None], v[None, :], compensated)
    assert_bits_equal(got, expected.reshape(v.size, v.size), f"{op} {dtype} broadcast grid")
    # And each edge value against a scalar (the one-side-broadcast loops).
    for s in v:
        assert_bits_equal(run(op, v, s, compensated), ref(op, v, s, compensated), f"{op} {dtype} v op {s!r}")
        assert_bits_equal(run(op, s, v, compensated), ref(op, s, v, compensated), f"{op} {dtype} {s!r} op v")


def test_every_nan_result_is_the_positive_quiet_nan(simd_level, dtype, op, compensated):
    a, b = grid(edge_values(dtype))
    got = run(op, a, b, compensated)
    nan_bits = bits(got)[np.isnan(got)]
    assert nan_bits.size > 0
    assert np.all(nan_bits == reference.FORMATS[dtype].quiet_nan)


def threshold_operands(dtype, op, compensated, rng):
    """Pairs (a, b) of normal numbers whose Mitchell sum M is exactly
    smallest_normal - 1, smallest_normal, largest_normal or inf's pattern, and
    what the result's magnitude must then be by the definition."""
    fmt = reference.FORMATS[np.dtype(dtype)]
    m = fmt.mantissa_bits
    inf, one, min_normal = fmt.exponent_max << m, fmt.bias, 1 << m
    comp = (fmt.mul_compensation if op == "multiply" else fmt.div_compensation) if compensated else 0
    targets = {min_normal - 1: 0, min_normal: min_normal, inf - 1: inf - 1, inf: inf}
    a_list, b_list, want = [], [], []
    candidates = [int(x) for x in bits(random_normals(rng, dtype, 400)) & (fmt.sign_bit - 1)]
    for target, result in targets.items():
        for A in candidates:
            # multiply: M = A + B - one + comp;  divide: M = A - B + one - comp
            B = target - A + one - comp if op == "multiply" else A + one - comp - target
            if min_normal <= B < inf:
                a_list.append(A)
                b_list.append(B)
                want.append(result)
    assert len(want) > 100, "too few threshold pairs generated"
    a = from_bits(a_list, dtype)
    b = from_bits(b_list, dtype)
    signs = rng.integers(0, 2, size=(2, a.size)).astype(bool)
    a = np.where(signs[0], -a, a)
    b = np.where(signs[1], -b, b)
    return a, b, np.array(want, dtype=np.uint64), signs[0] ^ signs[1]


def test_results_at_underflow_and_overflow_thresholds(simd_level, dtype, op, compensated):
    rng = np.random.default_rng(7)
    a, b, want_mag, want_sign = threshold_operands(dtype, op, compensated, rng)
    got = run(op, a, b, compensated)
    assert_bits_equal(got, ref(op, a, b, compensated), f"{op} {dtype} thresholds")
    fmt = reference.FORMATS[dtype]
    gb = bits(got).astype(np.uint64)
    assert np.array_equal(gb & np.uint64(fmt.sign_bit - 1), want_mag)
    assert np.array_equal((gb & np.uint64(fmt.sign_bit)) != 0, want_sign)


# --------------------------------------------------------------------------- random data


@functools.lru_cache(maxsize=None)
def random_case(dtype_name, n, seed):
    rng = np.random.default_rng(seed)
    return random_bit_patterns(rng, dtype_name, n), random_bit_patterns(rng, dtype_name, n)


@functools.lru_cache(maxsize=None)
def random_case_reference(dtype_name, n, seed, op, compensated):
    a, b = random_case(dtype_name, n, seed)
    return ref(op, a, b, compensated)


@pytest.mark.parametrize("n", [1, 7, 97, 1025, BIG])
def test_random_bit_patterns(simd_level, dtype, op, compensated, n):
    a, b = random_case(dtype.name, n, 1)
    expected = random_case_reference(dtype.name, n, 1, op, compensated)
    assert_bits_equal(run(op, a, b, compensated), expected, f"{op} {dtype} n={n}")


@pytest.mark.parametrize("n", [1, 7, 97, 1025, BIG])
def test_random_normals_near_one(simd_level, dtype, op, compensated, n):
    # Random bit patterns mostly under/overflow in float64; these stay in range.
    rng = np.random.default_rng(n)
    a = random_normals(rng, dtype, n, (-3, 3))
    b = random_normals(rng, dtype, n, (-3, 3))
    got = run(op, a, b, compensated)
    assert np.all(np.isfinite(got)) and np.all(got != 0)
    assert_bits_equal(got, ref(op, a, b, compensated), f"{op} {dtype} n={n}")


@pytest.mark.parametrize(
    "shape",
    [(700, 300), (3, BIG // 3), (BIG // 4, 4)],
    ids=["rows", "few-long-rows", "many-short-rows"],
)
def test_thread_count_invariance(simd_level, dtype, op, restore_threads, shape):
    rng = np.random.default_rng(11)
    size = int(np.prod(shape))
    a = random_bit_patterns(rng, dtype, size).reshape(shape)
    b = random_bit_patterns(rng, dtype, size).reshape(shape)
    results = {}
    for threads in (1, 2):
        logsketch.set_num_threads(threads)
        assert logsketch.get_num_threads() == threads
        results[threads] = (run(op, a, b), run(op, a.T, b.T, compensated=True), run(op, a[:, ::-3], b[:, ::-3]))
    for one, two in zip(results[1], results[2]):
        assert_bits_equal(two, one, f"{op} {dtype} threads 2 vs 1")
    assert_bits_equal(results[1][0], ref(op, a, b), f"{op} {dtype}")
    assert_bits_equal(results[1][1], ref(op, a.T, b.T, True), f"{op} {dtype} transposed")


@functools.lru_cache(maxsize=None)
def streaming_case(dtype_name, op):
    # Above 256 KiB per thread's piece the kernels stream the output past the
    # cache (AVX2 and up): 4 MiB + 5 elements, split over at most 8 pieces.
    dtype = np.dtype(dtype_name)
    n = (1 << 22) // dtype.itemsize + 5
    a, b = random_case(dtype_name, n, 2)
    return a, b, ref(op, a, b, True)


def test_large_contiguous_outputs(simd_level, dtype, op, restore_threads):
    a, b, expected = streaming_case(dtype.name, op)
    n = a.size
    for threads in (1, 2):
        logsketch.set_num_threads(threads)
        assert_bits_equal(run(op, a, b, True), expected, f"{op} {dtype} n={n} threads={threads}")
        # An output that starts off any cache-line boundary, inside a larger
        # buffer whose other elements must keep their sentinel bits.
        for shift in (1, 3, 8):
            buf = np.full(n + 40, 7.0, dtype=dtype)
            view = buf[shift : shift + n]
            assert run(op, a, b, True, out=view) is view
            assert_bits_equal(view, expected, f"{op} {dtype} out shifted by {shift}")
            assert np.all(buf[:shift] == 7.0) and np.all(buf[shift + n :] == 7.0)
        # In place.
        c = a.copy()
        run(op, c, b, True, out=c)
        assert_bits_equal(c, expected, f"{op} {dtype} in place")


def test_concurrent_calls_from_python_threads(dtype, op, restore_threads):
    from concurrent.futures import ThreadPoolExecutor

    logsketch.set_num_threads(2)
    sizes = [1, 97, 40_000, BIG, 300_007]
    cases = [random_case(dtype.name, n, 3) for n in sizes]
    expected = [ref(op, a, b) for a, b in cases]

    def job(i):
        a, b = cases[i % len(cases)]
        return i % len(cases), run(op, a, b)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(job, range(4 * len(cases))))
    for i, got in results:
        assert_bits_equal(got, expected[i], f"{op} {dtype} concurrent n={sizes[i]}")


# --------------------------------------------------------------------------- layouts


def layouts(base_a, base_b):
    """(name, a, b) pairs of the same logical values in different memory layouts."""
    yield "contiguous", base_a, base_b
    yield "fortran", np.asfortranarray(base_a), np.asfortranarray(base_b)
    yield "transposed", base_a.T.copy().T, base_b
    yield "mixed-order", base_a, np.asfortranarray(base_b)


def test_strided_and_reordered_inputs(simd_level, dtype, op, compensated):
    rng = np.random.default_rng(3)
    big_a = random_bit_patterns(rng, dtype, (40, 300))
    big_b = random_bit_patterns(rng, dtype, (40, 300))
    views = {
        "step": (big_a[:, ::3], big_b[:, 1::3]),
        "negative": (big_a[::-1, ::-2], big_b[:, ::2]),
        "both-negative": (big_a[::-2, ::-1], big_b[::-2, ::-1]),
        "transposed": (big_a.T, big_b.T),
        "transposed-vs-c": (big_a[:, :40].T, big_b[:40, :40]),
        "fortran": (np.asfortranarray(big_a), big_b),
        "column": (big_a[:, 5], big_b[:, 7]),
    }
    for name, (a, b) in views.items():
        expected = ref(op, np.ascontiguousarray(a), np.ascontiguousarray(b), compensated)
        assert_bits_equal(run(op, a, b, compensated), expected, f"{op} {dtype} {name}")
    for name, a, b in layouts(big_a[:7, :97], big_b[:7, :97]):
        expected = ref(op, np.ascontiguousarray(a), np.ascontiguousarray(b), compensated)
        assert_bits_equal(run(op, a, b, compensated), expected, f"{op} {dtype} {name}")


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((), ()),
        ((7,), ()),
        ((), (7,)),
        ((3, 1), (1, 4)),
        ((5, 1, 3), (4, 1)),
        ((1,), (97,)),
        ((2, 1, 1025), (1, 3, 1)),
        ((1025, 1), (1, 1)),
    ],
)
def test_broadcasting(simd_level, dtype, op, shape_a, shape_b):
    rng = np.random.default_rng(5)
    a = random_bit_patterns(rng, dtype, shape_a)
    b = random_bit_patterns(rng, dtype, shape_b)
    got = run(op, np.asarray(a), np.asarray(b))
    expected = ref(op, a, b)
    assert np.shape(got) == np.broadcast_shapes(shape_a, shape_b)
    assert_bits_equal(got, expected, f"{op} {dtype} {shape_a} x {shape_b}")


def test_scalar_inputs_return_numpy_scalars(dtype, op):
    x, y = dtype.type(3.0), dtype.type(3.0)
    got = run(op, x, y)
    assert isinstance(got, np.generic) and not isinstance(got, np.ndarray)
    assert got.dtype == dtype
    expected = {"multiply": 8.0, "divide": 1.0}[op]
    assert float(got) == expected
    # 0-d arrays behave as scalars do in numpy ufuncs: a scalar comes back.
    got0 = run(op, np.asarray(x), np.asarray(y))
    assert isinstance(got0, np.generic) and got0.dtype == dtype and float(got0) == expected
    # With out= the out array itself comes back, even 0-d.
    out = np.empty((), dtype=dtype)
    assert run(op, x, y, out=out) is out and float(out) == expected


def test_python_floats_are_weakly_typed(dtype, op):
    rng = np.random.default_rng(9)
    a = random_normals(rng, dtype, 97, (-3, 3))
    got = run(op, a, 2.0)
    assert got.dtype == dtype  # float32 array (op) 2.0 stays float32, as numpy's a * 2.0
    assert_bits_equal(got, ref(op, a, dtype.type(2.0)), f"{op} {dtype} a op 2.0")
    got = run(op, 1.5, a)
    assert got.dtype == dtype
    assert_bits_equal(got, ref(op, dtype.type(1.5), a), f"{op} {dtype} 1.5 op a")
    # Both Python floats: float64, a numpy scalar.
    both = run(op, 3.0, 3.0)
    assert both.dtype == np.float64 and float(both) == {"multiply": 8.0, "divide": 1.0}[op]


@pytest.mark.parametrize("scalar_type", [np.float64, np.float32, np.float16])
def test_numpy_scalars_promote_as_numpy_does(op, scalar_type):
    # np.float64 subclasses Python float but is strongly typed (NEP 50).
    a = np.full(7, 3.0, dtype=np.float32)
    s = scalar_type(2.0)
    want = np.result_type(a, s)  # what numpy's own a * s gives
    assert (a * s).dtype == want
    got = run(op, a, s)
    assert got.dtype == want, f"float32 array {op} {scalar_type.__name__} scalar: got {got.dtype}, numpy gives {want}"
    assert_bits_equal(got, ref(op, a.astype(want), want.type(2.0)), f"{op} float32 x {scalar_type.__name__}")


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # signalling NaNs
@pytest.mark.parametrize(
    "da, db", [(np.float16, np.float32), (np.float32, np.float16), (np.float16, np.float64), (np.float32, np.float64)]
)
def test_mixed_dtypes_promote(simd_level, op, da, db):
    rng = np.random.default_rng(13)
    a = random_bit_patterns(rng, da, 1025)
    b = random_bit_patterns(rng, db, 1025)
    want = np.result_type(da, db)
    got = run(op, a, b, compensated=True)
    assert got.dtype == want
    # Conversion is exact or numpy's astype; the definition then applies in the wider format.
    assert_bits_equal(got, ref(op, a.astype(want), b.astype(want), True), f"{op} {da} x {db}")


def test_lists_are_accepted(op):
    a = [1.5, -3.0, 0.0, float("inf")]
    b = [[1.5], [2.0]]
    got = run(op, a, b)
    assert got.dtype == np.float64 and got.shape == (2, 4)
    assert_bits_equal(got, ref(op, np.array(a), np.array(b)), f"{op} lists")
    assert float(run(op, [3.0], [3.0])[0]) == {"multiply": 8.0, "divide": 1.0}[op]


@pytest.mark.parametrize(
    "shape_a, shape_b", [((0,), (0,)), ((3, 0), (3, 0)), ((0,), ()), ((3, 0), (1, 0)), ((2, 0, 5), (5,))]
)
def test_empty_arrays(dtype, op, shape_a, shape_b):
    a = np.ones(shape_a, dtype=dtype)
    b = np.ones(shape_b, dtype=dtype)
    got = run(op, a, b)
    assert isinstance(got, np.ndarray)
    assert got.shape == np.broadcast_shapes(shape_a, shape_b) and got.dtype == dtype and got.size == 0
    out = np.empty(got.shape, dtype=dtype)
    assert run(op, a, b, out=out) is out


# --------------------------------------------------------------------------- out=


def test_out_fresh_and_noncontiguous(simd_level, dtype, op, compensated):
    rng = np.random.default_rng(17)
    a = random_bit_patterns(rng, dtype, (7, 97))
    b = random_bit_patterns(rng, dtype, (7, 97))
    expected = ref(op, a, b, compensated)

    out = np.empty((7, 97), dtype=dtype)
    assert run(op, a, b, compensated, out=out) is out
    assert_bits_equal(out, expected, "fresh out")

    sentinel = from_bits([0x1234 if dtype.itemsize == 2 else 0x12345678], dtype)[0]
    big = np.full((14, 300), sentinel, dtype=dtype)
    view = big[::2, 3:3 + 3 * 97:3]
    assert run(op, a, b, compensated, out=view) is view
    assert_bits_equal(view, expected, "strided out")
    untouched = np.ones(big.shape, dtype=bool)
    untouched[::2, 3:3 + 3 * 97:3] = False
    assert np.all(bits(big)[untouched] == bits(sentinel))

    f_out = np.empty((97, 7), dtype=dtype).T
    run(op, a, b, compensated, out=f_out)
    assert_bits_equal(f_out, expected, "transposed out")

    neg = np.empty((7, 97), dtype=dtype)[::-1, ::-1]
    run(op, a, b, compensated, out=neg)
    assert_bits_equal(neg, expected, "negative-stride out")


def test_out_in_place_and_overlapping(simd_level, dtype, op, compensated):
    rng = np.random.default_rng(19)
    a0 = random_bit_patterns(rng, dtype, 1025)
    b0 = random_bit_patterns(rng, dtype, 1025)

    a = a0.copy()
    assert run(op, a, b0, compensated, out=a) is a
    assert_bits_equal(a, ref(op, a0, b0, compensated), "out=a")

    b = b0.copy()
    run(op, a0, b, compensated, out=b)
    assert_bits_equal(b, ref(op, a0, b0, compensated), "out=b")

    a = a0.copy()
    run(op, a, a, compensated, out=a)
    assert_bits_equal(a, ref(op, a0, a0, compensated), "a op a, out=a")

    # Partial overlap: out is a shifted view of the input.
    buf = a0.copy()
    run(op, buf[:-1], b0[1:], compensated, out=buf[1:])
    assert_bits_equal(buf[1:], ref(op, a0[:-1], b0[1:], compensated), "shifted overlap")
    assert bits(buf[0]) == bits(a0[0])

    buf = a0.copy()
    run(op, buf[1:], b0[:-1], compensated, out=buf[:-1])
    assert_bits_equal(buf[:-1], ref(op, a0[1:], b0[:-1], compensated), "shifted overlap, other way")

    # out is the reversed view of the input.
    buf = a0.copy()
    run(op, buf, b0, compensated, out=buf[::-1])
    assert_bits_equal(buf[::-1], ref(op, a0, b0, compensated), "reversed overlap")

    # In place with a broadcast operand.
    m = random_bit_patterns(rng, dtype, (7, 97))
    row = random_bit_patterns(rng, dtype, 97)
    m_in = m.copy()
    run(op, m_in, row, compensated, out=m_in)
    assert_bits_equal(m_in, ref(op, m, row, compensated), "in place, broadcast row")


def test_out_errors(dtype, op):
    a = np.ones((3, 4), dtype=dtype)
    other = np.float32 if dtype != np.float32 else np.float64
    with pytest.raises(TypeError, match="out"):
        run(op, a, a, out=np.empty((3, 4), dtype=other))
    with pytest.raises(TypeError, match="out"):
        run(op, a, a, out=np.empty((3, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="out"):
        run(op, a, a, out=np.empty((4, 3), dtype=dtype))
    with pytest.raises(ValueError, match="out"):
        run(op, a, a, out=np.empty((3, 4, 1), dtype=dtype))
    with pytest.raises(ValueError, match="out"):
        run(op, a[:, :1], a, out=np.empty((3, 1), dtype=dtype))  # out must have the broadcast shape
    ro = np.zeros((3, 4), dtype=dtype)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        run(op, a, a, out=ro)
    assert np.all(ro == 0)
    with pytest.raises(TypeError, match="out"):
        run(op, a, a, out=[[0.0] * 4] * 3)


# --------------------------------------------------------------------------- input errors


BAD_INPUTS = {
    "int64": np.arange(4),
    "int32": np.arange(4, dtype=np.int32),
    "uint8": np.arange(4, dtype=np.uint8),
    "bool": np.ones(4, dtype=bool),
    "complex": np.ones(4, dtype=np.complex128),
    "complex64": np.ones(4, dtype=np.complex64),
    "object": np.array([1.0, None, 2.0, 3.0], dtype=object),
    "str": "abcd",
    "str-array": np.array(["1.0"] * 4),
    "python-int": 3,
    "python-bool": True,
    "python-complex": 1j,
    "none": None,
    "ragged": [[1.0, 2.0], [3.0]],
    "longdouble": np.ones(4, dtype=np.longdouble),
}


@pytest.mark.parametrize("bad", list(BAD_INPUTS))
@pytest.mark.parametrize("position", ["a", "b"])
def test_non_float_inputs_raise_type_error_naming_the_argument(op, bad, position):
    if bad == "longdouble" and np.dtype(np.longdouble) == np.dtype(np.float64):
        pytest.skip("longdouble is float64 on this platform")
    good = np.ones(4, dtype=np.float32)
    args = (BAD_INPUTS[bad], good) if position == "a" else (good, BAD_INPUTS[bad])
    with pytest.raises(TypeError) as info:
        run(op, *args)
    assert str(info.value).startswith(f"{position} "), str(info.value)


@pytest.mark.parametrize("shape_a, shape_b", [((3,), (4,)), ((2, 3), (3, 2)), ((5, 1, 3), (4, 2))])
def test_shapes_that_do_not_broadcast_raise_value_error(op, shape_a, shape_b):
    a = np.ones(shape_a, dtype=np.float32)
    b = np.ones(shape_b, dtype=np.float32)
    with pytest.raises(ValueError, match="broadcast") as info:
        run(op, a, b)
    assert str(shape_a) in str(info.value) and str(shape_b) in str(info.value)


# --------------------------------------------------------------------------- error bounds


def mitchell_bounds(dtype, op, compensated):
    """Exact range of the relative error, derived from the definition.

    With mantissas x, y in [0, 1) and delta = the compensation constant in
    units of the exponent field (0 when plain), multiply's result/exact lies
    in [8/(3-delta)^2, 1 + delta] (minimum at x = y = (1-delta)/2, maximum at
    x = y = 0) and divide's in [1/(1+delta), (3-delta)^2/8] (minimum at
    x = delta, y = 0; maximum at x = 0, y = (1-delta)/2).  delta = 0 gives
    Mitchell's [-1/9, 0] and [0, 1/8].
    """
    fmt = reference.FORMATS[np.dtype(dtype)]
    comp = fmt.mul_compensation if op == "multiply" else fmt.div_compensation
    delta = comp / 2**fmt.mantissa_bits if compensated else 0.0
    if op == "multiply":
        return 8 / (3 - delta) ** 2 - 1, delta
    return 1 / (1 + delta) - 1, (3 - delta) ** 2 / 8 - 1


def relative_errors(dtype, op, compensated, n=100_000, seed=23):
    """Relative errors of normal results of normal inputs, against exact
    arithmetic: for float16/float32 the float64 products r*b and a*b are exact,
    so the only rounding is the one float64 division (plus, for float64 inputs,
    one rounded product); the returned tolerance covers them."""
    rng = np.random.default_rng(seed)
    finfo = np.finfo(dtype)
    exps = (finfo.minexp // 2 + 1, (finfo.maxexp - 1) // 2 - 1)  # results stay normal
    a = random_normals(rng, dtype, n, exps)
    b = random_normals(rng, dtype, n, exps)
    r = run(op, a, b, compensated)
    keep = np.isfinite(r) & (np.abs(r) >= finfo.smallest_normal)
    assert keep.mean() > 0.99  # the exponent range keeps nearly every result normal
    a64, b64, r64 = (x[keep].astype(np.float64) for x in (a, b, r))
    if op == "multiply":
        ratio = r64 / (a64 * b64)  # result / exact product
    else:
        ratio = (r64 * b64) / a64  # result / exact quotient
    assert np.all(ratio > 0)  # sign rules: the error never flips the sign
    tol = 2.0**-52 if dtype != np.float64 else 2.0**-50
    return ratio - 1.0, tol


def test_plain_error_bounds(dtype, op):
    err, tol = relative_errors(dtype, op, compensated=False)
    lo, hi = mitchell_bounds(dtype, op, False)
    assert (lo, hi) == pytest.approx((-1 / 9, 0.0) if op == "multiply" else (0.0, 0.125), abs=1e-15)
    assert err.min() >= lo - tol and err.max() <= hi + tol, (err.min(), err.max())
    # The bounds are approached, not merely respected (1e5 samples).
    if op == "multiply":
        assert err.min() < -0.11 and err.max() > -1e-3
        assert -0.0395 < err.mean() < -0.0375  # Mitchell's mean product error: -3.85%
    else:
        assert err.max() > 0.124 and err.min() < 1e-3
        assert 0.040 < err.mean() < 0.042  # mean quotient error: +4.10%


def test_compensated_error_bounds_and_zero_mean(dtype, op):
    err, tol = relative_errors(dtype, op, compensated=True)
    lo, hi = mitchell_bounds(dtype, op, True)
    assert err.min() >= lo - tol and err.max() <= hi + tol, (err.min(), err.max(), lo, hi)
    assert np.max(np.abs(err)) < 1 / 9
    assert abs(err.mean()) < 2e-3, err.mean()
    # Standard error of the mean is ~1e-4 here; the constants are rounded to the
    # format (float16: 10 bits), which moves the mean by < 2e-4.
    assert abs(err.mean()) < 1e-3, err.mean()


def test_compensated_extremes_at_their_derived_arguments(dtype, op):
    # The maximum of compensated multiply is at x = y = 0, e.g. 1 * 1 = 1 + delta.
    fmt = reference.FORMATS[dtype]
    one = dtype.type(1.0)
    if op == "multiply":
        got = run(op, one, one, compensated=True)
        assert bits(got) == fmt.bias + fmt.mul_compensation
        lo, hi = mitchell_bounds(dtype, op, True)
        assert float(got) - 1 == pytest.approx(hi, rel=0, abs=2.0**-fmt.mantissa_bits)
    else:
        # 1 / 1: the borrowed mantissa 1 - delta at exponent -1: (2 - delta) / 2.
        got = run(op, one, one, compensated=True)
        expected = fmt.bias - fmt.div_compensation
        assert bits(got) == expected
        assert float(got) < 1.0


# --------------------------------------------------------------------------- property tests


def bit_arrays(dtype, shape):
    uint = np.dtype(UINT_OF[np.dtype(dtype).itemsize])
    return hnp.arrays(uint, shape, elements=st.integers(0, int(np.iinfo(uint).max))).map(lambda x: x.view(dtype))


@st.composite
def operand_pairs(draw):
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=9))
    a = draw(bit_arrays(dtype, shapes.input_shapes[0]))
    b = draw(bit_arrays(dtype, shapes.input_shapes[1]))
    return a, b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=operand_pairs(), compensated=st.booleans(), op=st.sampled_from(list(OPS)))
def test_property_random_shapes_and_bits(simd_level, pair, compensated, op):
    a, b = pair
    got = run(op, a, b, compensated)
    assert_bits_equal(np.asarray(got), ref(op, a, b, compensated), f"{op} {a.dtype} {a.shape} x {b.shape}")


def float_values(dtype):
    return st.floats(width=np.dtype(dtype).itemsize * 8, allow_nan=True, allow_infinity=True, allow_subnormal=True)


@st.composite
def strided_pairs(draw):
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=12))
    a = draw(hnp.arrays(dtype, shape, elements=float_values(dtype)))
    b = draw(hnp.arrays(dtype, shape, elements=float_values(dtype)))
    # A random slice (step and direction) of each axis, and maybe a transpose.
    index = tuple(
        slice(None, None, draw(st.sampled_from([1, 2, -1, -3]))) for _ in shape
    )
    perm = draw(st.permutations(range(len(shape))))
    return a[index].transpose(perm), b[index].transpose(perm)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=strided_pairs(), compensated=st.booleans(), op=st.sampled_from(list(OPS)))
def test_property_strided_float_values(simd_level, pair, compensated, op):
    a, b = pair
    got = run(op, a, b, compensated)
    expected = ref(op, np.ascontiguousarray(a), np.ascontiguousarray(b), compensated)
    assert_bits_equal(got, expected, f"{op} {a.dtype} strides {a.strides}")
