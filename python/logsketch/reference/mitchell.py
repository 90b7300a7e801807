"""Mitchell log-multiplication, bit for bit from the definition in logsketch.mitchell."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Format:
    """Bit layout of an IEEE binary format, as the Mitchell definition uses it."""

    dtype: np.dtype
    uint: np.dtype
    mantissa_bits: int
    exponent_bias: int  # the exponent field of 1.0
    quiet_nan: int  # the NaN every NaN result is, bit for bit
    mul_compensation: int  # see bench/derive_compensation.py
    div_compensation: int

    @property
    def sign_bit(self) -> int:
        return 1 << (self.uint.itemsize * 8 - 1)

    @property
    def exponent_max(self) -> int:  # the exponent field of inf and NaN
        return (1 << (self.uint.itemsize * 8 - 1 - self.mantissa_bits)) - 1

    @property
    def bias(self) -> int:  # bits(1.0)
        return self.exponent_bias << self.mantissa_bits


FORMATS = {
    np.dtype(np.float16): Format(np.dtype(np.float16), np.dtype(np.uint16), 10, 15, 0x7E00, 58, 59),
    np.dtype(np.float32): Format(
        np.dtype(np.float32), np.dtype(np.uint32), 23, 127, 0x7FC00000, 474990, 486498
    ),
    np.dtype(np.float64): Format(
        np.dtype(np.float64),
        np.dtype(np.uint64),
        52,
        1023,
        0x7FF8000000000000,
        255008540773892,
        261186771493313,
    ),
}


def _operands(a, b):
    dtype = np.result_type(a, b)  # before asarray: Python floats stay weak (NEP 50)
    a = np.asarray(a)
    b = np.asarray(b)
    if dtype not in FORMATS:
        raise TypeError(f"reference Mitchell needs float16/32/64 inputs; got {dtype}")
    a, b = np.broadcast_arrays(a.astype(dtype), b.astype(dtype))
    return FORMATS[dtype], a, b


def _fields(fmt: Format, x: np.ndarray):
    """Split |x| into (exponent, mantissa) as int64 and classify it."""
    bits = np.ascontiguousarray(x).view(fmt.uint).astype(np.uint64)
    mag = bits & np.uint64(fmt.sign_bit - 1)
    exponent = (mag >> np.uint64(fmt.mantissa_bits)).astype(np.int64)
    mantissa = (mag & np.uint64((1 << fmt.mantissa_bits) - 1)).astype(np.int64)
    sign = (bits & np.uint64(fmt.sign_bit)) != 0
    zero = exponent == 0  # zeros and subnormals, which are flushed
    inf = (exponent == fmt.exponent_max) & (mantissa == 0)
    nan = (exponent == fmt.exponent_max) & (mantissa != 0)
    return sign, exponent, mantissa, zero, inf, nan


def _assemble(fmt, sign, exponent, mantissa, zero, inf, nan):
    """Build the result from an unnormalised exponent/mantissa pair.

    The integer M = (exponent << m) + mantissa is the Mitchell sum; mantissa may
    lie outside [0, 2**m), and the carry (floor division) moves into the exponent,
    exactly as a wide integer add would.  M below the smallest normal gives 0,
    M at or above inf's bit pattern gives inf.
    """
    m = fmt.mantissa_bits
    exponent = exponent + np.floor_divide(mantissa, 1 << m)
    mantissa = np.mod(mantissa, 1 << m)
    underflow = exponent < 1
    overflow = exponent >= fmt.exponent_max
    zero = zero | (underflow & ~inf & ~nan)
    inf = inf | (overflow & ~zero & ~nan)
    exponent = np.where(zero, 0, np.where(inf, fmt.exponent_max, exponent))
    mantissa = np.where(zero | inf, 0, mantissa)
    mag = (exponent.astype(np.uint64) << np.uint64(m)) | mantissa.astype(np.uint64)
    bits = np.where(sign, np.uint64(fmt.sign_bit), np.uint64(0)) | mag
    bits = np.where(nan, np.uint64(fmt.quiet_nan), bits)
    return bits.astype(fmt.uint).view(fmt.dtype)


def mitchell_multiply(a, b, *, compensated=False):
    """Reference for :func:`logsketch.mitchell_multiply` (same definition)."""
    fmt, a, b = _operands(a, b)
    sa, ea, ma, za, ia, na = _fields(fmt, a)
    sb, eb, mb, zb, ib, nb = _fields(fmt, b)
    comp = fmt.mul_compensation if compensated else 0
    nan = na | nb | (ia & zb) | (ib & za)
    inf = (ia | ib) & ~nan
    zero = (za | zb) & ~nan & ~inf
    exponent = ea + eb - fmt.exponent_bias
    mantissa = ma + mb + comp
    out = _assemble(fmt, sa ^ sb, exponent, mantissa, zero, inf, nan)
    return out.reshape(a.shape)


def mitchell_divide(a, b, *, compensated=False):
    """Reference for :func:`logsketch.mitchell_divide` (same definition)."""
    fmt, a, b = _operands(a, b)
    sa, ea, ma, za, ia, na = _fields(fmt, a)
    sb, eb, mb, zb, ib, nb = _fields(fmt, b)
    comp = fmt.div_compensation if compensated else 0
    nan = na | nb | (za & zb) | (ia & ib)
    inf = (ia | zb) & ~nan  # inf / finite, finite nonzero / 0
    zero = (za | ib) & ~nan & ~inf  # 0 / nonzero, finite / inf
    exponent = ea - eb + fmt.exponent_bias
    mantissa = ma - mb - comp
    out = _assemble(fmt, sa ^ sb, exponent, mantissa, zero, inf, nan)
    return out.reshape(a.shape)


def mitchell_matmul(a, b, *, compensated=False):
    """Reference for :func:`logsketch.mitchell_matmul`.

    C[..., i, j] = sum over k, in increasing k, of mitchell_multiply(A[..., i, k],
    B[..., k, j]), each product rounded to nothing (it is exact in its own
    format) and accumulated from +0 in float32 (float16/float32 inputs) or
    float64 (float64 inputs); the result is cast to the input dtype.  Every
    NaN result is the positive quiet NaN.
    """
    dtype = np.result_type(a, b)
    if dtype not in FORMATS:
        raise TypeError(f"reference Mitchell needs float16/32/64 inputs; got {dtype}")
    a, b = np.asarray(a).astype(dtype), np.asarray(b).astype(dtype)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("mitchell_matmul: operands must be at least 1-D")
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a = a[np.newaxis, :]
    if squeeze_b:
        b = b[:, np.newaxis]
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"mitchell_matmul: inner dimensions differ ({a.shape[-1]} vs {b.shape[-2]})")
    acc_dtype = np.float64 if dtype == np.float64 else np.float32
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    acc = np.zeros(batch + (a.shape[-2], b.shape[-1]), dtype=acc_dtype)
    for k in range(a.shape[-1]):
        prod = mitchell_multiply(a[..., :, k : k + 1], b[..., k : k + 1, :], compensated=compensated)
        acc += prod.astype(acc_dtype)
    # A NaN's sign and payload from a float sum depend on the order the hardware
    # met the NaNs in; the definition fixes every NaN result to the quiet NaN.
    fmt = FORMATS[np.dtype(acc_dtype)]
    acc[np.isnan(acc)] = np.array(fmt.quiet_nan, dtype=fmt.uint).view(acc_dtype)
    out = acc.astype(dtype)
    if squeeze_a:
        out = out[..., 0, :]
    if squeeze_b:
        out = out[..., 0]
    return out
