"""The Mitchell functions on the CPU: the general path (the common calls take
the fast paths in :mod:`logsketch.mitchell` and never come here)."""

from __future__ import annotations

import numpy as np

from .._native import _core
from .._validate import as_float_array, native_dtype, out_buffer, result_float_dtype, write_back
from ._spec import broadcast, check_out, matmul_shapes

_TooHardError = np.exceptions.TooHardError if hasattr(np, "exceptions") else np.TooHardError  # numpy < 1.25
CPU_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def _operands(a, b):
    a_arr = as_float_array(a, "a", CPU_DTYPES)
    b_arr = as_float_array(b, "b", CPU_DTYPES)
    return a_arr, b_arr, result_float_dtype(a, b)  # from the raw inputs: Python floats stay weak


def _out(out, shape, dtype):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray for CPU inputs; got {type(out).__name__}")
    check_out(native_dtype(out.dtype), out.shape, dtype, shape)
    if not out.flags.writeable:
        raise ValueError("out must be writeable")
    return out


def _detach(x, out):
    """Copy x if it overlaps out in any way other than being the same view."""
    if not np.may_share_memory(x, out):
        return x
    same_view = (
        x.shape == out.shape
        and x.strides == out.strides
        and x.dtype == out.dtype
        and x.__array_interface__["data"][0] == out.__array_interface__["data"][0]
    )
    return x if same_view else x.copy()


def _operand(x, dtype, shape):
    x = x.astype(dtype, copy=False)
    return x if x.shape == shape else np.broadcast_to(x, shape)


def binary(a, b, spec, out):
    """Elementwise ``spec.op`` of array_likes with numpy's broadcasting."""
    a, b, dtype = _operands(a, b)
    shape = broadcast(a.shape, b.shape)
    if out is None:
        result = np.empty(shape, dtype=dtype)
    else:
        result = out_buffer(_out(out, shape, dtype))
        # Partial overlap would let the kernel read what it has already written.
        a = _detach(a, result)
        b = _detach(b, result)
    _core.mitchell_binary(_operand(a, dtype, shape), _operand(b, dtype, shape), result, spec.op, spec.compensated)
    if out is not None:
        return write_back(result, out)
    if result.ndim == 0:
        return result[()]
    return result


def _overlap(out, x):
    """True, False, or None when numpy cannot decide within a bounded effort."""
    if not np.may_share_memory(out, x):
        return False
    try:
        return bool(np.shares_memory(out, x, max_work=1000))
    except _TooHardError:
        return None


def matmul(a, b, spec, out):
    """Mitchell matmul of array_likes with np.matmul's shape rules."""
    a, b, dtype = _operands(a, b)
    s = matmul_shapes(a.shape, b.shape)
    if out is None:
        result = np.empty(s.shape, dtype=dtype)
    else:
        result = out_buffer(_out(out, s.shape, dtype))
        overlaps = (_overlap(out, a), _overlap(out, b)) if result is out else (False, False)
        if True in overlaps:
            raise ValueError("out must not overlap a or b")
        if None in overlaps:  # undecided: into a temporary, then copied
            result = np.empty(s.shape, dtype=dtype)
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    a3 = np.broadcast_to(a2.astype(dtype, copy=False), s.batch + (s.m, s.k))
    b3 = np.broadcast_to(b2.astype(dtype, copy=False), s.batch + (s.k, s.n))
    c3 = result  # (batch..., m, n) views of result: the kernel writes into it
    if a.ndim == 1:
        c3 = np.expand_dims(c3, -1 if b.ndim == 1 else -2)
    if b.ndim == 1:
        c3 = np.expand_dims(c3, -1)
    _core.mitchell_matmul(a3, b3, c3, spec.compensated)
    if out is not None:
        return write_back(result, out)
    if result.ndim == 0:
        return result[()]  # 1-D @ 1-D gives a scalar, as np.matmul
    return result
