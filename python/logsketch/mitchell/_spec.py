"""The shape and output rules of the Mitchell functions, shared by every backend.

The public functions check ``compensated`` once and hand a :class:`Spec` to
the backend of their arrays; the backends read shapes their own way (numpy,
or a CUDA framework) and apply the rules here, so each rule and its message
exists once.
"""

from __future__ import annotations

from typing import NamedTuple


class Spec(NamedTuple):
    op: str  # "multiply", "divide" or "matmul"
    compensated: bool


class MatmulShapes(NamedTuple):
    """np.matmul's shapes: 1-D operands promoted to a row (a) or a column (b)."""

    batch: tuple
    m: int
    k: int
    n: int
    shape: tuple  # the result's, with the promoted dimensions removed


def broadcast(a_shape, b_shape):
    """The broadcast shape of the operands of an elementwise function."""
    nd = max(len(a_shape), len(b_shape))
    pa = (1,) * (nd - len(a_shape)) + tuple(a_shape)
    pb = (1,) * (nd - len(b_shape)) + tuple(b_shape)
    out = []
    for x, y in zip(pa, pb):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"a and b cannot be broadcast together: shapes {tuple(a_shape)} and {tuple(b_shape)}")
        out.append(y if x == 1 else x)
    return tuple(out)


def matmul_shapes(a_shape, b_shape):
    """The :class:`MatmulShapes` of ``a @ b``; ValueError for 0-d or mismatched operands."""
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    for name, s in (("a", a_shape), ("b", b_shape)):
        if not s:
            raise ValueError(f"{name} must be at least 1-D (matmul of a scalar); got a 0-d array")
    a2 = (1,) + a_shape if len(a_shape) == 1 else a_shape
    b2 = b_shape + (1,) if len(b_shape) == 1 else b_shape
    if a2[-1] != b2[-2]:
        raise ValueError(
            f"a and b have mismatched inner dimensions: a has shape {a_shape} (k={a2[-1]}), "
            f"b has shape {b_shape} (k={b2[-2]})"
        )
    try:
        batch = broadcast(a2[:-2], b2[:-2])
    except ValueError:
        raise ValueError(f"batch dimensions of a {a_shape} and b {b_shape} cannot be broadcast together") from None
    m, k, n = a2[-2], a2[-1], b2[-1]
    shape = batch + (m, n)
    if len(a_shape) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b_shape) == 1:
        shape = shape[:-1]
    return MatmulShapes(batch, m, k, n, shape)


def check_out(out_dtype, out_shape, dtype, shape):
    """``out``'s dtype (names as str or numpy dtypes) and shape against the result's."""
    if out_dtype != dtype:
        raise TypeError(f"out must have dtype {dtype} (the result dtype); got {out_dtype}")
    if tuple(out_shape) != tuple(shape):
        raise ValueError(f"out must have shape {tuple(shape)}; got {tuple(out_shape)}")
