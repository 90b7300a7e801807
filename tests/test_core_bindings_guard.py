"""The compiled module refuses arrays its kernels cannot read safely.

The public functions copy unaligned and byte-swapped arrays before a kernel
sees them; ``logsketch._core`` called directly must not trust its caller:
an array whose data pointer or strides are not multiples of its item size, or
whose dtype is not in native byte order, is a ValueError naming the argument,
never a crash or numbers read from swapped bytes.  The calls run in one child
process, so a regression shows as a signal there, not as a dead test runner.
"""

from __future__ import annotations

import pytest

from _subprocess import assert_ok, run_python

CASES = """
import numpy as np
from logsketch._native import _core

def unaligned(shape, dtype, offset=1, fill=1.0):
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    buf = bytearray(n * dtype.itemsize + offset)
    arr = np.frombuffer(buf, dtype, n, offset=offset).reshape(shape)
    arr[...] = fill
    return arr

def odd_strides(shape, dtype):
    # rows every cols * itemsize + 1 bytes: an aligned start, unaligned rows
    dtype = np.dtype(dtype)
    rows, cols = shape
    row_bytes = cols * dtype.itemsize + 1
    buf = np.zeros(rows * row_bytes + 8, np.uint8)
    return np.lib.stride_tricks.as_strided(buf[:dtype.itemsize].view(dtype), shape=shape,
                                           strides=(row_bytes, dtype.itemsize))

def swapped(arr):
    return arr.astype(arr.dtype.newbyteorder())

n = 1 << 20
f32 = np.ones(n, np.float32)

def case(name, argument, fn):
    try:
        fn()
    except ValueError as exc:
        ok = argument in str(exc)
        print(("OK " if ok else "BADMSG ") + name + ": " + str(exc))
    except Exception as exc:
        print("WRONGTYPE " + name + ": " + type(exc).__name__ + ": " + str(exc))
    else:
        print("ACCEPTED " + name)

for dt, off in (("float32", 1), ("float64", 4), ("float16", 1)):
    x = np.ones(n, dt)
    case(f"binary out unaligned {dt}", "out",
         lambda: _core.mitchell_binary(x, x, unaligned((n,), dt, off), "multiply", False))
    case(f"binary a unaligned {dt}", "a",
         lambda: _core.mitchell_binary(unaligned((n,), dt, off), x, np.empty(n, dt), "divide", False))
    case(f"binary b swapped {dt}", "b",
         lambda: _core.mitchell_binary(x, swapped(x), np.empty(n, dt), "multiply", False))

m = np.ones((64, 64), np.float32)
case("matmul a unaligned", "a", lambda: _core.mitchell_matmul(unaligned((64, 64), np.float32), m,
                                                                np.empty((64, 64), np.float32), False))
case("matmul out swapped", "out", lambda: _core.mitchell_matmul(m, m, swapped(np.empty((64, 64), np.float32)),
                                                                  False))
case("matmul b odd strides", "b", lambda: _core.mitchell_matmul(m, odd_strides((64, 64), np.float32),
                                                                  np.empty((64, 64), np.float32), False))

X = np.ones((16, 64), np.float32)
case("jl X unaligned", "X", lambda: _core.jl_project_dense(unaligned((16, 64), np.float32), np.empty((16, 8), np.float32),
                                                           "gaussian", 8, 0, 1.0))
case("jl X swapped", "X", lambda: _core.jl_project_dense(swapped(X), np.empty((16, 8), np.float32),
                                                         "sparse", 8, 0, 1.0))
case("jl X odd strides", "X", lambda: _core.jl_project_dense(odd_strides((16, 64), np.float32),
                                                             np.empty((16, 8), np.float32), "srht", 8, 0, 1.0))
case("jl out unaligned", "out", lambda: _core.jl_project_dense(X, unaligned((16, 8), np.float32), "gaussian", 8, 0, 1.0))

data = np.ones(16, np.float64)
indices = np.arange(16, dtype=np.int64)
indptr = np.arange(17, dtype=np.int64)
case("csr data unaligned", "X.data",
     lambda: _core.jl_project_csr(unaligned((16,), np.float64, 4), indices, indptr, 16, 16,
                                  np.empty((16, 4), np.float64), "sparse", 4, 0, 1.0))
case("csr indices swapped", "X.indices",
     lambda: _core.jl_project_csr(data, swapped(indices), indptr, 16, 16,
                                  np.empty((16, 4), np.float64), "gaussian", 4, 0, 1.0))
case("csr indptr unaligned", "X.indptr",
     lambda: _core.jl_project_csr(data, indices, unaligned((17,), np.int64, 4, 0), 16, 16,
                                  np.empty((16, 4), np.float64), "gaussian", 4, 0, 1.0))

A = np.ones((32, 16), np.float64)
def rsvd(a, u=None):
    u = np.empty((32, 4), np.float64) if u is None else u
    _core.rsvd_dense(a, None, u, np.empty(4), np.empty((4, 16)), 4, 8, 2, "lu", False, True, "gaussian", 0, 1.0)
case("rsvd a unaligned", "A", lambda: rsvd(unaligned((32, 16), np.float64, 4)))
case("rsvd a swapped", "A", lambda: rsvd(swapped(A)))
case("rsvd u unaligned", "U", lambda: rsvd(A, unaligned((32, 4), np.float64, 4)))

q = np.ones((1, 2, 8, 16), np.float32)
def attention(q_, k_, out):
    _core.attention(q_, k_, q, out, None, None, False, False, 2.0, 0.0, 0.25)
case("attention q unaligned", "q", lambda: attention(unaligned(q.shape, np.float32), q, np.empty_like(q)))
case("attention k swapped", "k", lambda: attention(q, swapped(q), np.empty_like(q)))
case("attention out unaligned", "out", lambda: attention(q, q, unaligned(q.shape, np.float32)))
print("DONE")
"""


def test_core_refuses_unaligned_and_byte_swapped_arrays():
    result = assert_ok(run_python(CASES, timeout=120), "direct _core calls with unaligned / byte-swapped arrays")
    lines = result.stdout.strip().splitlines()
    assert lines and lines[-1] == "DONE", result.describe()
    bad = [line for line in lines[:-1] if not line.startswith("OK ")]
    assert not bad, "\n".join(bad)
    assert len(lines) - 1 == 25


@pytest.mark.parametrize("offset", [0, 4])
def test_core_accepts_aligned_native_arrays(offset):
    """The check lets the ordinary arrays through: aligned, native, any offset in whole items."""
    import numpy as np

    from logsketch._native import _core

    buf = np.ones(64 + 2, np.float32)
    x = buf[offset // 4: offset // 4 + 64]
    out = np.empty(64, np.float32)
    _core.mitchell_binary(x, x, out, "multiply", False)
    assert np.all(out == 1.0)
