"""GPU parity of the Mitchell functions against logsketch.reference.

Every result must equal the reference bit for bit, NaNs included (every NaN
result is the positive quiet NaN, elementwise and in matmul).  Every test
runs with torch and with CuPy where installed (the ``xp`` fixture); bfloat16
is torch-only.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import logsketch
from logsketch import reference

from .gpu_test_helpers import assert_bits_equal, bf16_binary, bf16_matmul, f32_to_bf16

OPS = {"multiply": logsketch.mitchell_multiply, "divide": logsketch.mitchell_divide}
REF = {"multiply": reference.mitchell_multiply, "divide": reference.mitchell_divide}

# (uint dtype, min normal, inf, one, mul comp, div comp) of each format's bits.
LAYOUT = {
    "float16": (np.uint16, 0x0400, 0x7C00, 0x3C00, 58, 59),
    "bfloat16": (np.uint16, 0x0080, 0x7F80, 0x3F80, 7, 7),
    "float32": (np.uint32, 0x00800000, 0x7F800000, 0x3F800000, 474990, 486498),
}

F32_EDGES = [
    0x00000000, 0x00000001, 0x007FFFFF, 0x00800000, 0x00800001, 0x00FFFFFF, 0x01000000,
    0x1F800000, 0x20000000, 0x3F000000, 0x3F7FFFFF, 0x3F800000, 0x3F800001, 0x3FC00000,
    0x40000000, 0x5F000000, 0x60000000, 0x7F000000, 0x7F7FFFFF, 0x7F800000, 0x7F800001,
    0x7FBFFFFF, 0x7FC00000, 0x7FFFFFFF,
]  # fmt: skip


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))  # hash() of str varies per process


def _near_thresholds(dtype, op, compensated, rng, n=20000):
    """Pairs whose Mitchell result lands within a few units of underflow or overflow."""
    uint, min_normal, inf, one, cmul, cdiv = LAYOUT[dtype]
    comp = (cmul if op == "multiply" else cdiv) if compensated else 0
    A = rng.integers(min_normal, inf, n, dtype=np.int64)
    d = rng.integers(-3, 4, n, dtype=np.int64)
    target = np.where(rng.random(n) < 0.5, min_normal, inf) + d
    if op == "multiply":  # A + B - one + comp = target
        B = target + one - comp - A
    else:  # A - B + one - comp = target
        B = A + one - comp - target
    keep = (B >= min_normal) & (B < inf)
    sign_bit = np.int64(1) << (8 * np.dtype(uint).itemsize - 1)
    signs_a = rng.integers(0, 2, keep.sum(), dtype=np.int64) * sign_bit
    signs_b = rng.integers(0, 2, keep.sum(), dtype=np.int64) * sign_bit
    return (A[keep] | signs_a).astype(uint), (B[keep] | signs_b).astype(uint)


def _bit_patterns(dtype, op, compensated, rng):
    """Operand bit patterns: random over every exponent, every edge pair, thresholds."""
    uint = LAYOUT[dtype][0]
    if dtype == "float32":
        edges = np.array(F32_EDGES + [x | 0x80000000 for x in F32_EDGES], dtype=np.uint32)
        ea, eb = np.repeat(edges, len(edges)), np.tile(edges, len(edges))
        ra = rng.integers(0, 2**32, 400_000, dtype=np.uint64).astype(np.uint32)
        rb = rng.integers(0, 2**32, 400_000, dtype=np.uint64).astype(np.uint32)
    else:  # every 16-bit pattern against random partners, twice
        every = np.arange(2**16, dtype=np.uint16)
        ea, eb = np.tile(every, 2), rng.integers(0, 2**16, 2 * 2**16, dtype=np.uint64).astype(np.uint16)
        ra = rng.integers(0, 2**16, 200_000, dtype=np.uint64).astype(np.uint16)
        rb = rng.integers(0, 2**16, 200_000, dtype=np.uint64).astype(np.uint16)
    ta, tb = _near_thresholds(dtype, op, compensated, rng)
    return np.concatenate([ea, ra, ta]).astype(uint), np.concatenate([eb, rb, tb]).astype(uint)


def _from_bits(dtype, u):
    return u if dtype == "bfloat16" else u.view(np.dtype(dtype))


def _reference(dtype, op, a, b, compensated):
    if dtype == "bfloat16":
        return bf16_binary(op, a, b, compensated)
    return REF[op](a, b, compensated=compensated)


def _values(dtype, shape, rng, scale=3.0):
    """Random normal values of `dtype` (bfloat16 as uint16 bits)."""
    x = (rng.standard_normal(shape) * scale).astype(np.float32)
    return f32_to_bf16(x) if dtype == "bfloat16" else x.astype(dtype)


def _dtypes(xp):
    return ["float16", "float32"] + (["bfloat16"] if xp.has_bfloat16 else [])


# ---- module -----------------------------------------------------------------


def test_status_reports_a_dict():
    from logsketch import _cuda

    st = _cuda.status()
    assert set(st) == {"device_found", "device_count", "device_name", "compute_capability", "detail"}
    assert isinstance(st["device_found"], bool) and isinstance(st["detail"], str)
    assert logsketch.config()["cuda"]["built"] is True


# ---- elementwise ------------------------------------------------------------


@pytest.mark.parametrize("compensated", [False, True])
@pytest.mark.parametrize("op", ["multiply", "divide"])
@pytest.mark.parametrize("dtype", ["float16", "float32", "bfloat16"])
def test_elementwise_bit_patterns(xp, dtype, op, compensated):
    if dtype == "bfloat16" and not xp.has_bfloat16:
        pytest.skip(f"{xp.name} has no bfloat16")
    ua, ub = _bit_patterns(dtype, op, compensated, _rng(dtype, op, compensated))
    a, b = _from_bits(dtype, ua), _from_bits(dtype, ub)
    got = xp.numpy(OPS[op](xp.asarray(a), xp.asarray(b), compensated=compensated))
    assert_bits_equal(got, _reference(dtype, op, a, b, compensated))


@pytest.mark.parametrize("n", [0, 1, 7, 8, 97, 1025, 2**20 + 3])
def test_elementwise_sizes_and_alignment(xp, n):
    rng = _rng("sizes", n)
    for dtype in _dtypes(xp):
        a, b = _values(dtype, n + 1, rng), _values(dtype, n + 1, rng)
        da, db = xp.asarray(a), xp.asarray(b)
        for sa, sb in [(slice(0, n), slice(0, n)), (slice(1, None), slice(1, None)), (slice(1, None), slice(0, n))]:
            got = xp.numpy(logsketch.mitchell_multiply(da[sa], db[sb]))
            assert_bits_equal(got, _reference(dtype, "multiply", a[sa], b[sb], False))


@pytest.mark.parametrize("dtype", ["float16", "float32", "bfloat16"])
def test_elementwise_broadcasting(xp, dtype):
    if dtype == "bfloat16" and not xp.has_bfloat16:
        pytest.skip(f"{xp.name} has no bfloat16")
    rng = _rng("broadcast", dtype)
    for sa, sb in [((5, 1, 7), (3, 1)), ((7,), ()), ((), (4, 3)), ((2, 1, 3, 1, 5), (4, 1, 1, 5)), ((1, 1), (6, 1))]:
        a, b = _values(dtype, sa, rng), _values(dtype, sb, rng)
        got = xp.numpy(logsketch.mitchell_divide(xp.asarray(a), xp.asarray(b), compensated=True))
        assert_bits_equal(got, _reference(dtype, "divide", a, b, True))


@pytest.mark.parametrize("dtype", ["float16", "float32", "bfloat16"])
def test_elementwise_python_floats_are_weak(xp, dtype):
    if dtype == "bfloat16" and not xp.has_bfloat16:
        pytest.skip(f"{xp.name} has no bfloat16")
    rng = _rng("scalar", dtype)
    a = _values(dtype, (33, 17), rng)
    da = xp.asarray(a)
    for s in [2.5, -0.0, 1e-30, 1e30, float("inf"), float("nan")]:
        with np.errstate(over="ignore"):
            sb = f32_to_bf16(np.float32(s)) if dtype == "bfloat16" else np.asarray(s).astype(dtype)
        left = logsketch.mitchell_multiply(s, da)
        right = logsketch.mitchell_divide(da, s)
        assert xp.dtype_name(left) == dtype and xp.dtype_name(right) == dtype
        assert_bits_equal(xp.numpy(left), _reference(dtype, "multiply", sb, a, False))
        assert_bits_equal(xp.numpy(right), _reference(dtype, "divide", a, sb, False))


def test_elementwise_numpy_scalars_are_typed(xp):
    rng = _rng("numpy scalars")
    h = _values("float16", (5, 7), rng)
    dh = xp.asarray(h)
    res = logsketch.mitchell_multiply(dh, np.float32(2.5))
    assert xp.dtype_name(res) == "float32"
    assert_bits_equal(xp.numpy(res), reference.mitchell_multiply(h.astype(np.float32), np.float32(2.5)))
    res = logsketch.mitchell_divide(np.float16(3.0), dh)
    assert xp.dtype_name(res) == "float16"
    assert_bits_equal(xp.numpy(res), reference.mitchell_divide(np.float16(3.0), h))
    with pytest.raises(TypeError, match="b has dtype float64"):
        logsketch.mitchell_multiply(dh, np.float64(2.5))
    with pytest.raises(TypeError, match="b must be a float array or a float"):
        logsketch.mitchell_multiply(dh, np.int32(2))


def test_elementwise_strided_views(xp):
    rng = _rng("strided")
    for dtype in _dtypes(xp):
        a, b = _values(dtype, (40, 60), rng), _values(dtype, (60, 40), rng)
        da, db = xp.asarray(a), xp.asarray(b)
        got = xp.numpy(logsketch.mitchell_multiply(xp.transpose(da), db))
        assert_bits_equal(got, _reference(dtype, "multiply", a.T, b, False))
        got = xp.numpy(logsketch.mitchell_multiply(da[::3, 1::2], db[:14, :30]))
        assert_bits_equal(got, _reference(dtype, "multiply", a[::3, 1::2], b[:14, :30], False))
        got = xp.numpy(logsketch.mitchell_divide(da[:, 7], db[:40, 3:4]))
        assert_bits_equal(got, _reference(dtype, "divide", a[:, 7], b[:40, 3:4], False))
    if xp.name == "cupy":  # negative strides exist in CuPy only
        a, b = _values("float32", (50,), rng), _values("float32", (50,), rng)
        got = xp.numpy(logsketch.mitchell_multiply(xp.asarray(a)[::-1], xp.asarray(b)))
        assert_bits_equal(got, _reference("float32", "multiply", a[::-1], b, False))


def test_elementwise_out(xp):
    rng = _rng("out")
    for dtype in _dtypes(xp):
        a, b = _values(dtype, (30, 20), rng), _values(dtype, (20,), rng)
        want = _reference(dtype, "multiply", a, b, False)
        out = xp.empty((30, 20), dtype)
        res = logsketch.mitchell_multiply(xp.asarray(a), xp.asarray(b), out=out)
        assert res is out
        assert_bits_equal(xp.numpy(out), want)
        # a strided out
        big = xp.empty((30, 40), dtype)
        logsketch.mitchell_multiply(xp.asarray(a), xp.asarray(b), out=big[:, ::2])
        assert_bits_equal(xp.numpy(big)[:, ::2], want)
        # in place: out is a
        da = xp.asarray(a)
        logsketch.mitchell_multiply(da, xp.asarray(b), out=da)
        assert_bits_equal(xp.numpy(da), want)
        # partial overlap: out is a shifted view of a
        v = _values(dtype, (101,), rng)
        dv = xp.asarray(v)
        logsketch.mitchell_multiply(dv[1:], dv[:-1], out=dv[:-1])
        expect = v.copy()
        expect[:-1] = _reference(dtype, "multiply", v[1:], v[:-1], False)
        assert_bits_equal(xp.numpy(dv), expect)


def test_elementwise_empty(xp):
    for dtype in _dtypes(xp):
        a = xp.asarray(_values(dtype, (0, 5), _rng("empty")))
        res = logsketch.mitchell_multiply(a, 2.0)
        assert tuple(res.shape) == (0, 5) and xp.dtype_name(res) == dtype
        res = logsketch.mitchell_divide(a, xp.asarray(_values(dtype, (3, 1, 5), _rng("empty2"))))
        assert tuple(res.shape) == (3, 0, 5)


def test_elementwise_mixed_dtypes_promote(xp):
    rng = _rng("mixed")
    h, f = _values("float16", (17, 9), rng), _values("float32", (9,), rng)
    res = logsketch.mitchell_multiply(xp.asarray(h), xp.asarray(f))
    assert xp.dtype_name(res) == "float32"
    assert_bits_equal(xp.numpy(res), reference.mitchell_multiply(h.astype(np.float32), f))
    if xp.has_bfloat16:
        bb = _values("bfloat16", (9,), rng)
        res = logsketch.mitchell_multiply(xp.asarray(h), xp.asarray(bb))
        assert xp.dtype_name(res) == "float32"
        wide = (bb.astype(np.uint32) << 16).view(np.float32)
        assert_bits_equal(xp.numpy(res), reference.mitchell_multiply(h.astype(np.float32), wide))


def test_elementwise_many_unmergeable_dimensions(xp):
    rng = _rng("dims")
    a = _values("float32", (2,) * 7 + (3,), rng)
    b = _values("float32", (3,), rng)
    da = xp.asarray(a)
    got = xp.numpy(logsketch.mitchell_multiply(xp.transpose(da), xp.asarray(b[:2])))
    assert_bits_equal(got, reference.mitchell_multiply(np.swapaxes(a, -1, -2), b[:2]))
    big = xp.asarray(_values("float32", (3,) * 9, rng))
    with pytest.raises(ValueError, match="cannot be merged"):
        logsketch.mitchell_multiply(big[(slice(None, 2),) * 9], 2.0)


def test_elementwise_errors(xp):
    rng = _rng("errors")
    a = _values("float32", (4, 3), rng)
    da = xp.asarray(a)
    with pytest.raises(ValueError, match="a is on the CPU"):
        logsketch.mitchell_multiply(a, da)
    with pytest.raises(ValueError, match="b is on the CPU"):
        logsketch.mitchell_divide(da, a)
    with pytest.raises(ValueError, match="b is on the CPU"):
        logsketch.mitchell_divide(da, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="b must be a float"):
        logsketch.mitchell_multiply(da, 2)
    with pytest.raises(TypeError, match="a has dtype float64"):
        logsketch.mitchell_multiply(xp.asarray(a.astype(np.float64)), 2.0)
    with pytest.raises(TypeError, match="a must have a float dtype"):
        logsketch.mitchell_multiply(xp.asarray(a.astype(np.int32)), 2.0)
    with pytest.raises(TypeError, match="b must have a float dtype"):
        logsketch.mitchell_multiply(da, xp.asarray(a.astype(np.complex64)))
    with pytest.raises(TypeError, match="b must have a float dtype"):
        logsketch.mitchell_multiply(da, xp.asarray(a > 0))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        logsketch.mitchell_multiply(da, xp.asarray(a[:, :2]))
    with pytest.raises(TypeError, match="out must have dtype float32"):
        logsketch.mitchell_multiply(da, 2.0, out=xp.empty((4, 3), "float16"))
    with pytest.raises(ValueError, match="out must have shape"):
        logsketch.mitchell_multiply(da, 2.0, out=xp.empty((3, 4), "float32"))
    with pytest.raises(ValueError, match="out is on the CPU"):
        logsketch.mitchell_multiply(da, 2.0, out=np.empty((4, 3), np.float32))
    with pytest.raises(ValueError, match="a is on the CPU"):
        logsketch.mitchell_multiply(a, 2.0, out=xp.empty((4, 3), "float32"))
    if xp.name == "torch":
        with pytest.raises(ValueError, match="broadcast view"):
            logsketch.mitchell_multiply(da, 2.0, out=xp.empty((1, 3), "float32").expand(4, 3))


def test_torch_cpu_tensor_is_refused(torch_fw):
    torch = torch_fw.mod
    with pytest.raises(ValueError, match="a is a torch tensor on cpu"):
        logsketch.mitchell_multiply(torch.ones(3), torch.ones(3, device=torch_fw.device))


def test_two_devices(torch_fw):
    torch = torch_fw.mod
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices")
    a = torch.ones(3, device="cuda:0")
    b = torch.ones(3, device="cuda:1")
    with pytest.raises(ValueError, match="different devices"):
        logsketch.mitchell_multiply(a, b)
    # The result lands on the operands' device whatever the current device is.
    x = torch_fw.asarray(_values("float32", (64,), _rng("dev"))).to("cuda:1")
    with torch.cuda.device(0):
        res = logsketch.mitchell_multiply(x, x)
    assert res.device == x.device
    xs = x.cpu().numpy()
    assert_bits_equal(res.cpu().numpy(), reference.mitchell_multiply(xs, xs))


def test_runs_on_the_current_stream(torch_fw):
    torch = torch_fw.mod
    a = _values("float32", (1 << 20,), _rng("stream"))
    da = torch_fw.asarray(a)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        res = logsketch.mitchell_multiply(da, da)
        mm = logsketch.mitchell_matmul(da[:4096].view(64, 64), da[4096:8192].view(64, 64))
    side.synchronize()
    assert_bits_equal(res.cpu().numpy(), reference.mitchell_multiply(a, a))
    want = reference.mitchell_matmul(a[:4096].reshape(64, 64), a[4096:8192].reshape(64, 64))
    assert_bits_equal(mm.cpu().numpy(), want)


def test_bfloat16_python_float_and_dtype(torch_fw):
    torch = torch_fw.mod
    x = torch.randn(100, device=torch_fw.device).to(torch.bfloat16)
    res = logsketch.mitchell_multiply(x, 3.0)
    assert res.dtype == torch.bfloat16
    xb = x.cpu().view(torch.int16).numpy().view(np.uint16)
    assert_bits_equal(torch_fw.numpy(res), bf16_binary("multiply", xb, f32_to_bf16(np.float32(3.0))))


# ---- matmul -----------------------------------------------------------------


def _matrix(kind, shape, dtype, rng):
    """Test matrices that steer the kernel's tiers: 'normal' values keep every
    product normal (the fast tier); the others need the general tier."""
    n = int(np.prod(shape))
    if kind == "normal":
        if dtype == "float16":  # |x| in [0.5, 4): products stay inside float16's normal range
            x = rng.uniform(0.5, 4.0, n) * rng.choice([-1.0, 1.0], n)
        else:
            x = rng.standard_normal(n)
    elif kind == "randn":
        x = rng.standard_normal(n)
    elif kind == "zeros":
        x = rng.standard_normal(n) * (rng.random(n) > 0.3)
    elif kind == "wide":  # exponents across the range: products underflow, a few overflow
        lo, hi = (-24, 9) if dtype == "float16" else (-70, 64)
        x = rng.choice([-1.0, 1.0], n) * rng.uniform(1, 2, n) * 2.0 ** rng.integers(lo, hi, n)
    elif kind == "specials":
        x = rng.standard_normal(n)
        x[rng.choice(n, size=max(1, n // 500), replace=False)] = rng.choice([np.inf, -np.inf, np.nan], max(1, n // 500))
    else:
        raise AssertionError(kind)
    x = x.reshape(shape).astype(np.float32)
    return f32_to_bf16(x) if dtype == "bfloat16" else x.astype(dtype)


SHAPES = [(1, 1, 1), (7, 7, 7), (1, 97, 7), (97, 33, 1), (129, 1025, 131), (257, 9, 130), (130, 16, 257)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference's inf - inf and overflows
@pytest.mark.parametrize("compensated", [False, True])
@pytest.mark.parametrize("kind", ["normal", "randn", "zeros", "wide", "specials"])
@pytest.mark.parametrize("mkn", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_matmul_bit_exact(xp, dtype, mkn, kind, compensated):
    m, k, n = mkn
    rng = _rng("matmul", dtype, mkn, kind, compensated)
    a, b = _matrix(kind, (m, k), dtype, rng), _matrix(kind, (k, n), dtype, rng)
    got = xp.numpy(logsketch.mitchell_matmul(xp.asarray(a), xp.asarray(b), compensated=compensated))
    assert_bits_equal(got, reference.mitchell_matmul(a, b, compensated=compensated))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_matmul_mixed_tiers_in_one_product(xp):
    """A single zero, subnormal, inf or NaN switches only its K slice to the general tier."""
    rng = _rng("tiers")
    for dtype in ["float16", "float32"]:
        a, b = _matrix("normal", (200, 300), dtype, rng), _matrix("normal", (300, 150), dtype, rng)
        a[5, 17] = 0
        a[140, 250] = np.finfo(dtype).tiny / 4  # subnormal: flushed
        b[100, 3] = np.inf
        b[299, 149] = np.nan
        b[8, 20] = -0.0
        got = xp.numpy(logsketch.mitchell_matmul(xp.asarray(a), xp.asarray(b)))
        assert_bits_equal(got, reference.mitchell_matmul(a, b))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("kind", ["normal", "zeros", "specials"])
@pytest.mark.parametrize("compensated", [False, True])
@pytest.mark.parametrize("mkn", [(7, 33, 5), (129, 257, 130)], ids=lambda s: "x".join(map(str, s)))
def test_matmul_bfloat16(torch_fw, mkn, kind, compensated):
    m, k, n = mkn
    rng = _rng("bf16mm", mkn, kind, compensated)
    a, b = _matrix(kind, (m, k), "bfloat16", rng), _matrix(kind, (k, n), "bfloat16", rng)
    got = torch_fw.numpy(logsketch.mitchell_matmul(torch_fw.asarray(a), torch_fw.asarray(b), compensated=compensated))
    assert_bits_equal(got, bf16_matmul(a, b, compensated))


def test_matmul_layouts(xp):
    rng = _rng("layouts")
    for dtype in ["float16", "float32"]:
        a, b = _matrix("randn", (70, 45), dtype, rng), _matrix("randn", (45, 133), dtype, rng)
        at, bt = np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)
        want = reference.mitchell_matmul(a, b)
        got = logsketch.mitchell_matmul(xp.transpose(xp.asarray(at)), xp.transpose(xp.asarray(bt)))
        assert_bits_equal(xp.numpy(got), want)
        big = _matrix("randn", (140, 90), dtype, rng)
        got = logsketch.mitchell_matmul(xp.asarray(big)[::2, 1::2], xp.asarray(b))
        assert_bits_equal(xp.numpy(got), reference.mitchell_matmul(big[::2, 1::2], b))
        out = xp.empty((70, 266), dtype)
        res = logsketch.mitchell_matmul(xp.asarray(a), xp.asarray(b), out=out[:, ::2])
        assert_bits_equal(xp.numpy(out)[:, ::2], want)
        assert tuple(res.shape) == (70, 133)


def test_matmul_shapes(xp):
    rng = _rng("shapes")
    cases = [
        ((45,), (45, 9)), ((9, 45), (45,)), ((45,), (45,)),
        ((3, 9, 45), (45, 7)), ((2, 1, 9, 45), (4, 45, 7)), ((5, 45), (3, 45, 6)),
        ((3, 9, 45), (45,)), ((45,), (2, 45, 6)),
        ((9, 0), (0, 7)), ((0, 45), (45, 7)), ((4, 0, 3), (3, 5)),
    ]  # fmt: skip
    for dtype in ["float16", "float32"]:
        for sa, sb in cases:
            a, b = _matrix("randn", sa, dtype, rng), _matrix("randn", sb, dtype, rng)
            got = logsketch.mitchell_matmul(xp.asarray(a), xp.asarray(b))
            want = reference.mitchell_matmul(a, b)
            assert tuple(got.shape) == want.shape and xp.dtype_name(got) == dtype
            assert_bits_equal(xp.numpy(got), want)


def test_matmul_batch_beyond_one_grid_row(xp):
    rng = _rng("grid")
    a, b = _matrix("randn", (70000, 2, 3), "float32", rng), _matrix("randn", (3, 2), "float32", rng)
    got = xp.numpy(logsketch.mitchell_matmul(xp.asarray(a), xp.asarray(b)))
    assert_bits_equal(got, reference.mitchell_matmul(a, b))


def test_matmul_mixed_dtypes(xp):
    rng = _rng("mm-mixed")
    h, f = _matrix("randn", (9, 33), "float16", rng), _matrix("randn", (33, 5), "float32", rng)
    got = logsketch.mitchell_matmul(xp.asarray(h), xp.asarray(f))
    assert xp.dtype_name(got) == "float32"
    assert_bits_equal(xp.numpy(got), reference.mitchell_matmul(h.astype(np.float32), f))


def test_matmul_errors(xp):
    rng = _rng("mm-errors")
    a = _matrix("randn", (4, 3), "float32", rng)
    da = xp.asarray(a)
    with pytest.raises(ValueError, match="at least 1-D"):
        logsketch.mitchell_matmul(da, 2.0)
    with pytest.raises(ValueError, match="at least 1-D"):
        logsketch.mitchell_matmul(xp.asarray(np.float32(2.0)), da)
    with pytest.raises(ValueError, match="mismatched inner dimensions"):
        logsketch.mitchell_matmul(da, da)
    with pytest.raises(ValueError, match="batch dimensions"):
        ones = np.ones((2, 4, 3), np.float32)
        logsketch.mitchell_matmul(xp.asarray(ones), xp.asarray(np.ones((3, 3, 5), np.float32)))
    with pytest.raises(ValueError, match="a is on the CPU"):
        logsketch.mitchell_matmul(a.T, da)
    with pytest.raises(TypeError, match="a has dtype float64"):
        logsketch.mitchell_matmul(xp.asarray(a.astype(np.float64)), xp.transpose(da))
    with pytest.raises(TypeError, match="b must have a float dtype"):
        logsketch.mitchell_matmul(da, xp.asarray(np.ones((3, 2), np.int64)))
    with pytest.raises(TypeError, match="out must have dtype float32"):
        logsketch.mitchell_matmul(da, xp.transpose(da), out=xp.empty((4, 4), "float16"))
    with pytest.raises(ValueError, match="out must have shape"):
        logsketch.mitchell_matmul(da, xp.transpose(da), out=xp.empty((4, 3), "float32"))
    sq = xp.asarray(_matrix("randn", (5, 5), "float32", rng))
    with pytest.raises(ValueError, match="out must not overlap"):
        logsketch.mitchell_matmul(sq, sq, out=sq)
