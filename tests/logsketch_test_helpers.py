"""Helpers shared by the CPU tests (used by conftest.py and the test modules).

A plainly named module rather than ``from conftest import ...``: pytest imports
every conftest.py under the one module name ``conftest``, so importing from it
becomes ambiguous as soon as tests/gpu/ has its own.
"""

from __future__ import annotations

import numpy as np

from logsketch import _core

ALL_SIMD_LEVELS = ("scalar", "avx2", "avx512")  # in increasing order
SUPPORTED_SIMD_LEVELS = ALL_SIMD_LEVELS[: ALL_SIMD_LEVELS.index(_core.detected_simd_level()) + 1]
UNSUPPORTED_SIMD_LEVELS = ALL_SIMD_LEVELS[len(SUPPORTED_SIMD_LEVELS) :]

FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
UINT_OF = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def bits(x) -> np.ndarray:
    """The bit patterns of a float array (or scalar) as unsigned ints of the same width."""
    x = np.asarray(x)
    assert x.dtype.kind == "f", f"expected a float array, got {x.dtype}"
    return np.ascontiguousarray(x).view(UINT_OF[x.dtype.itemsize])


def from_bits(values, dtype) -> np.ndarray:
    """Float array of ``dtype`` with the given bit patterns (Python ints)."""
    dtype = np.dtype(dtype)
    return np.array(values, dtype=UINT_OF[dtype.itemsize]).view(dtype)


def assert_bits_equal(got, expected, context: str = "") -> None:
    """Assert same dtype, same shape and identical bits; report the first mismatches.

    Every NaN a Mitchell kernel produces is defined bit for bit (the positive
    quiet NaN), so plain equality of the bit patterns is the right comparison.
    """
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, f"{context}: dtype {got.dtype} != {expected.dtype}"
    assert got.shape == expected.shape, f"{context}: shape {got.shape} != {expected.shape}"
    gb, eb = bits(got), bits(expected)
    bad = np.flatnonzero(gb != eb)
    if bad.size:
        width = got.dtype.itemsize * 2
        lines = []
        for flat in bad[:8]:
            idx = tuple(int(i) for i in np.unravel_index(flat, got.shape)) if got.ndim else ()
            lines.append(
                f"  at {idx}: got 0x{int(gb.flat[flat]):0{width}X} ({got.flat[flat]!r}), "
                f"expected 0x{int(eb.flat[flat]):0{width}X} ({expected.flat[flat]!r})"
            )
        raise AssertionError(f"{context}: {bad.size} of {got.size} elements differ in their bits\n" + "\n".join(lines))


def random_bit_patterns(rng: np.random.Generator, dtype, size) -> np.ndarray:
    """Uniformly random bit patterns viewed as ``dtype``: every sign, exponent
    (zeros, subnormals, normals, inf, NaNs with any payload) and mantissa."""
    dtype = np.dtype(dtype)
    uint = np.dtype(UINT_OF[dtype.itemsize])
    raw = rng.integers(0, np.iinfo(uint).max, size=size, dtype=uint, endpoint=True)
    return raw.view(dtype)


def random_normals(rng: np.random.Generator, dtype, size, exponent_range=None) -> np.ndarray:
    """Normal numbers with uniformly distributed mantissa bits, random sign and
    an unbiased exponent uniform in ``exponent_range`` (default: all normals)."""
    dtype = np.dtype(dtype)
    finfo = np.finfo(dtype)
    mbits = finfo.nmant
    bias = finfo.maxexp - 1
    lo, hi = exponent_range if exponent_range is not None else (finfo.minexp, finfo.maxexp - 1)
    uint = np.dtype(UINT_OF[dtype.itemsize])
    exps = rng.integers(lo + bias, hi + bias, size=size, endpoint=True).astype(uint)
    mant = rng.integers(0, 1 << mbits, size=size, dtype=np.uint64).astype(uint)
    sign = rng.integers(0, 2, size=size).astype(uint)
    pattern = (sign << uint.type(dtype.itemsize * 8 - 1)) | (exps << uint.type(mbits)) | mant
    return pattern.view(dtype)


def assert_within_summation_bound(got, X, R, context: str = "") -> None:
    """``got`` ~ X @ R.T (R dense, in got's dtype) within the bound every
    summation order of the kernels satisfies:

        |got - X R^T| <= gamma_{d+3} * (|X| |R|^T),   gamma_m = m u / (1 - m u)

    u the unit roundoff of got's dtype: d - 1 additions, the product (or the
    scale applied once at the end instead of to each entry of R: one rounding
    for R's entries, one for the output's) and the final rounding.  The
    reference sum runs in a wider type (float64 for float32 results, long
    double for float64), whose own gamma_d is added.
    """
    X = np.asarray(X.toarray() if hasattr(X, "toarray") else X)
    R = np.asarray(R.toarray() if hasattr(R, "toarray") else R)
    d = X.shape[1]
    wide = np.float64 if got.dtype == np.float32 else np.longdouble
    exact = X.astype(wide) @ R.astype(wide).T
    magnitude = np.abs(X).astype(np.float64) @ np.abs(R).astype(np.float64).T

    def gamma(m, u):
        return m * u / (1 - m * u)

    u = np.finfo(got.dtype).eps / 2
    bound = (gamma(d + 3, u) + gamma(d, np.finfo(wide).eps / 2)) * magnitude
    err = np.abs(got.astype(wide) - exact).astype(np.float64)
    bad = np.argwhere(~(err <= bound))
    assert bad.size == 0, (
        f"{context}: {len(bad)} of {got.size} outputs outside the summation bound; first at "
        f"{tuple(bad[0])}: error {err[tuple(bad[0])]:.3g} > bound {bound[tuple(bad[0])]:.3g}"
    )
