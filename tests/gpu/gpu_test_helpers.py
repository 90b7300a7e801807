"""Helpers of the GPU tests: bit comparisons and a bfloat16 reference.

A plainly named module, as tests/logsketch_test_helpers.py is for the CPU
tests; bfloat16 values travel as uint16 arrays of their bit patterns, since
numpy has no bfloat16.
"""

from __future__ import annotations

import contextlib

import numpy as np

from logsketch import reference

UINT = {2: np.uint16, 4: np.uint32}


def bits(x):
    """Bit patterns of a float array; uint16 arrays (bfloat16 bits) as they are."""
    x = np.asarray(x)
    return x if x.dtype == np.uint16 else np.ascontiguousarray(x).view(UINT[x.itemsize])


def assert_bits_equal(got, want):
    """Same dtype, same shape, identical bits (NaNs included: every NaN result
    of the Mitchell functions is the positive quiet NaN)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    gb, wb = bits(got), bits(want)
    bad = np.flatnonzero(gb != wb)
    if bad.size:
        width = got.itemsize * 2
        shown = ", ".join(
            f"[{int(i)}] 0x{int(gb.flat[i]):0{width}X} != 0x{int(wb.flat[i]):0{width}X}" for i in bad[:8]
        )
        raise AssertionError(f"{bad.size} of {got.size} elements differ in their bits: {shown}")


# ---- bfloat16 reference -----------------------------------------------------
# reference.py is written over a Format table; bfloat16 is one more Format,
# applied to uint16 arrays holding bfloat16 bit patterns.

BFLOAT16 = reference.Format(np.dtype(np.uint16), np.dtype(np.uint16), 7, 127, 0x7FC0, 7, 7)


@contextlib.contextmanager
def _bfloat16_format():
    key = np.dtype(np.uint16)
    reference.FORMATS[key] = BFLOAT16
    try:
        yield
    finally:
        del reference.FORMATS[key]


def bf16_binary(op, a_bits, b_bits, compensated=False):
    """Reference Mitchell multiply/divide of bfloat16 values given as uint16 bits."""
    fn = reference.mitchell_multiply if op == "multiply" else reference.mitchell_divide
    with _bfloat16_format():
        return fn(np.asarray(a_bits, np.uint16), np.asarray(b_bits, np.uint16), compensated=compensated)


def bf16_to_f32(b):
    return (np.asarray(b, np.uint16).astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(x):
    """float32 -> bfloat16 bits, round to nearest even (torch's .to(torch.bfloat16)), NaN -> quiet NaN."""
    x = np.asarray(x, np.float32)
    u = x.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(x), np.uint16(0x7FC0), r)


def bf16_matmul(a_bits, b_bits, compensated=False):
    """Reference Mitchell matmul of 2-D bfloat16 bit arrays, as reference.mitchell_matmul:
    products summed in increasing k from +0 in float32, rounded once."""
    a_bits, b_bits = np.asarray(a_bits, np.uint16), np.asarray(b_bits, np.uint16)
    acc = np.zeros((a_bits.shape[0], b_bits.shape[1]), np.float32)
    for k in range(a_bits.shape[1]):
        prod = bf16_binary("multiply", a_bits[:, k : k + 1], b_bits[k : k + 1, :], compensated)
        acc += bf16_to_f32(prod)
    return f32_to_bf16(acc)
