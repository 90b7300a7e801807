"""Mitchell log-multiplication: approximate a*b and a/b by adding IEEE bit patterns.

J. N. Mitchell (1962) read a float's bit pattern as a piecewise-linear log2 of
its value: adding two patterns (and subtracting the pattern of 1.0) multiplies
the values with a relative error in [-1/9, 0]; subtracting divides with an
error in [0, 1/8].  This module gives the elementwise operations and an
approximate matmul built on them, exactly as defined bit by bit below, on the
CPU (numpy input) or the GPU (CUDA arrays).
"""

from __future__ import annotations

import numpy as np

from .._backend import backend_of
from .._native import _core
from .._validate import check_bool
from . import _cpu
from ._spec import Spec

__all__ = ["mitchell_multiply", "mitchell_divide", "mitchell_matmul"]

_DEFINITION = """
    Definition (float32 shown; float64, float16 and bfloat16 alike with their
    widths and bits(1.0) = 0x3FF0000000000000 / 0x3C00 / 0x3F80).  With
    A = bits(|a|), B = bits(|b|) and s = sign(a) xor sign(b):

    - normal x normal: M = A + B - 0x3F800000 (divide: A - B + 0x3F800000) in
      a wide integer; M below the smallest normal gives +-0, M at or above
      0x7F800000 gives +-inf, otherwise the result is s | M.
    - subnormal inputs count as zero; zero x finite = +-0; inf x nonzero = +-inf;
      inf x 0 = NaN; divide: x/0 = +-inf for nonzero x (inf/0 too), 0/0 and
      inf/inf = NaN, finite/inf = +-0.  Zeros and infinities carry the sign s.
    - NaN anywhere gives NaN; every NaN result is the positive quiet NaN
      (0x7FC00000, 0x7FF8000000000000, 0x7E00, 0x7FC0).
    - compensated=True adds a constant to M (subtracts it for divide, whose
      plain error is an overestimate) that makes the mean relative error zero
      over uniformly distributed mantissas: 0.0566233 (multiply) and 0.0579951
      (divide) of one unit of the exponent field, i.e. 474990 and 486498 for
      float32, 58 and 59 for float16, 7 and 7 for bfloat16 (derived in
      bench/derive_compensation.py).  Errors then lie in [-0.07658, +0.05663]
      (multiply) and [-0.05482, +0.08190] (divide) for float32 and float64,
      inside Mitchell's bounds; float16's rounded constants move the divide's
      maximum to +0.0822.
"""


_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


def _fast(x, dtype):
    """True for the common operand: a plain ndarray of ``dtype`` (one of the
    native float dtypes, compared by identity), aligned."""
    return type(x) is np.ndarray and x.dtype is dtype and x.flags.aligned


def _owner(x):
    """The ndarray that owns x's memory when numpy says so, else None."""
    if x.flags.owndata:
        return x
    base = x.base
    return base if type(base) is np.ndarray and base.flags.owndata else None


def _apart(out, out_owner, x):
    """out is x itself or shares no memory with it: arrays of different owners
    are disjoint (the cheap test), otherwise numpy's bounds test."""
    if out is x:
        return True
    if out_owner is not None:
        owner = _owner(x)
        if owner is not None and owner is not out_owner:
            return True
    return not np.may_share_memory(out, x)


def _binary(a, b, op, compensated, out):
    if compensated is not False and compensated is not True:
        compensated = check_bool(compensated, "compensated")
    # The common call, numpy arrays of one native float dtype and one shape,
    # aligned: the minimum checks (the binding checks dtypes, shapes and
    # writeability again), then the compiled call.  Anything else takes the
    # general path.
    if type(a) is np.ndarray:
        dtype = a.dtype
        if (dtype is _F32 or dtype is _F64 or dtype is _F16) and a.ndim and a.flags.aligned \
                and _fast(b, dtype) and a.shape == b.shape:
            if out is None:
                result = np.empty_like(a)
                _core.mitchell_binary(a, b, result, op, compensated)
                return result
            if type(out) is np.ndarray and out.dtype is dtype and out.shape == a.shape:
                flags = out.flags
                owner = _owner(out)
                if flags.aligned and flags.writeable and _apart(out, owner, a) and _apart(out, owner, b):
                    _core.mitchell_binary(a, b, out, op, compensated)
                    return out
    spec = Spec(op, compensated)
    if backend_of(a, b, out) == "cuda":
        from . import _cuda

        return _cuda.binary(a, b, spec, out)
    return _cpu.binary(a, b, spec, out)


def mitchell_multiply(a, b, *, compensated=False, out=None):
    """Approximate ``a * b`` elementwise by Mitchell's logarithmic multiplication.

    Parameters
    ----------
    a, b : array_like or CUDA array
        float16, float32 or float64 on the CPU (numpy and anything
        ``np.asarray`` accepts, Python floats included); float16, bfloat16 or
        float32 CUDA arrays (torch, CuPy) on the GPU.  Broadcast like a numpy
        ufunc; any strides.  Mixed float dtypes promote as numpy does.
    compensated : bool
        Shift the result so the mean relative error is zero (see below).
        A bool or numpy bool; anything else is a TypeError.
    out : ndarray, optional
        Where to write the result: the broadcast shape and the result dtype
        (either byte order), writeable, any strides (it may be ``a`` or ``b``
        itself; other overlaps are handled by copying the input).  An ``out``
        that is unaligned or not in native byte order is computed into an
        aligned native temporary that is then copied into ``out``.

    Inputs in the non-native byte order or unaligned are copied once to
    native aligned arrays (the kernels never read them as they are).

    Returns
    -------
    ndarray (or CUDA array of the inputs' framework)
        The broadcast shape, the inputs' float dtype; a numpy scalar when both
        inputs are scalars and ``out`` is not given.
    {definition}
    The result is bit-exact: identical at every SIMD level, thread count and
    device, and equal to :func:`logsketch.reference.mitchell_multiply`.

    Raises
    ------
    TypeError
        An input (named) of integer, bool, complex or object dtype, ``out``
        of the wrong dtype or not an array, a non-bool ``compensated``.
    ValueError
        Shapes that do not broadcast, or ``out`` of the wrong shape or read-only.

    Examples
    --------
    >>> import numpy as np, logsketch
    >>> logsketch.mitchell_multiply(np.float32(3), np.float32(3))  # exact: 9
    np.float32(8.0)
    """
    return _binary(a, b, "multiply", compensated, out)


def mitchell_divide(a, b, *, compensated=False, out=None):
    """Approximate ``a / b`` elementwise by Mitchell's logarithmic division.

    Parameters, returns and errors as :func:`mitchell_multiply`.  The plain
    quotient's relative error lies in [0, 1/8] (an overestimate).
    {definition}
    Examples
    --------
    >>> import numpy as np, logsketch
    >>> logsketch.mitchell_divide(np.float32(2), np.float32(3))  # exact: 0.667
    np.float32(0.75)
    """
    return _binary(a, b, "divide", compensated, out)


def mitchell_matmul(a, b, *, compensated=False, out=None):
    """Approximate matrix product whose every multiply is Mitchell's.

    ``C[..., i, j] = sum_k mitchell_multiply(A[..., i, k], B[..., k, j])``,
    summed in increasing k from +0 in float32 (float16, bfloat16 and float32
    inputs) or float64 (float64 inputs), then cast to the input dtype.

    Parameters
    ----------
    a : array_like, shape (..., m, k) or (k,)
    b : array_like, shape (..., k, n) or (k,)
        Shape rules of ``np.matmul``: a 1-D operand is promoted to a matrix and
        the added dimension removed from the result; batch dimensions
        broadcast.  dtypes as :func:`mitchell_multiply`; any strides.
    compensated : bool
        Use the compensated product (mean relative error zero); a bool or
        numpy bool, anything else is a TypeError.
    out : ndarray, optional
        The result's shape and dtype (either byte order), writeable, any
        strides, sharing no element with ``a`` or ``b`` (views of one buffer
        that touch disjoint elements are fine).  When numpy cannot decide the
        overlap cheaply, or ``out`` is unaligned or not in native byte order,
        the result is computed into a temporary and copied into ``out``.

    Returns
    -------
    ndarray (or CUDA array), shape (..., m, n) with 1-D dimensions removed.

    Every output element is a plain sequential sum over k, so on the CPU the
    result is bit-identical to :func:`logsketch.reference.mitchell_matmul`,
    whatever the SIMD level or thread count.  Inf and NaN products propagate
    as in any float sum (inf - inf = NaN); every NaN result is the positive
    quiet NaN, as in the elementwise functions.

    Raises
    ------
    TypeError
        Non-float input (named), ``out`` of the wrong dtype, a non-bool
        ``compensated``.
    ValueError
        0-d operands, inner dimensions that differ, batch dimensions that do
        not broadcast, ``out`` of the wrong shape, read-only or sharing
        elements with ``a`` or ``b``.

    Examples
    --------
    >>> import numpy as np, logsketch
    >>> a = np.array([[1.5, 2.0]], dtype=np.float32)
    >>> logsketch.mitchell_matmul(a, np.array([1.5, 3.0], dtype=np.float32))
    array([8.], dtype=float32)
    """
    if compensated is not False and compensated is not True:
        compensated = check_bool(compensated, "compensated")
    if type(a) is np.ndarray:  # the common call, two aligned matrices of one native float dtype
        dtype = a.dtype
        if (dtype is _F32 or dtype is _F64 or dtype is _F16) and out is None and a.ndim == 2 \
                and a.flags.aligned and _fast(b, dtype) and b.ndim == 2 and a.shape[1] == b.shape[0]:
            result = np.empty((a.shape[0], b.shape[1]), dtype=dtype)
            _core.mitchell_matmul(a, b, result, compensated)
            return result
    spec = Spec("matmul", compensated)
    if backend_of(a, b, out) == "cuda":
        from . import _cuda

        return _cuda.matmul(a, b, spec, out)
    return _cpu.matmul(a, b, spec, out)


mitchell_multiply.__doc__ = mitchell_multiply.__doc__.replace("{definition}", _DEFINITION)
mitchell_divide.__doc__ = mitchell_divide.__doc__.replace("{definition}", _DEFINITION)
