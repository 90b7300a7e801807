"""The Mitchell functions on CUDA arrays: the same framework's arrays out.

:mod:`logsketch.mitchell` routes here when an operand (or ``out``) is a CUDA
array (see :mod:`logsketch._backend.cuda` for what a CUDA array is).

- Shapes broadcast as in numpy (broadcast dimensions get stride 0, nothing is
  copied); float16, bfloat16 and float32 mix as in torch/numpy (float16 with
  bfloat16 gives float32); Python floats are weak scalars that take the array's
  dtype, numpy float scalars are typed (NEP 50), as on the CPU.  float64 is
  refused: the GPU kernels are float16/bfloat16/float32.
"""

from __future__ import annotations

import numpy as np

from .._backend import is_cuda_array
from .._backend.cuda import Array, Backend, as_array, broadcast_strides, check_same, framework, overlap
from .._native import cuda_module
from ._spec import broadcast, check_out, matmul_shapes

_GPU_DTYPES = ("float16", "bfloat16", "float32")


def _check_dtype(dtype, name):
    if dtype in _GPU_DTYPES:
        return
    if dtype == "float64":
        raise TypeError(
            f"{name} has dtype float64, which the GPU kernels do not support; "
            "use float32 (or numpy arrays on the CPU, where float64 runs)"
        )
    raise TypeError(f"{name} must have a float dtype (float16, bfloat16 or float32) on the GPU; got {dtype}")


def _promote(dtypes):
    """torch's promotion among float16, bfloat16 and float32: any mix is float32."""
    kinds = set(dtypes)
    return kinds.pop() if len(kinds) == 1 else "float32"


def _inputs(named, out, allow_scalars):
    """Sort the operands into CUDA arrays and scalars, checking them.

    Returns (arrays, scalars, out as an Array or None); scalars maps a name to
    (value, dtype): dtype None for a Python float, which is weak and takes the
    arrays' dtype, and the dtype name of a numpy float scalar, which is typed
    and promotes as in numpy (NEP 50), as on the CPU.
    """
    cuda_names = [n for n, x in named if is_cuda_array(x)]
    if is_cuda_array(out):
        cuda_names.append("out")
    others = " and ".join(cuda_names) if cuda_names else "out"
    arrays, scalars = {}, {}
    for name, x in named:
        if isinstance(x, np.generic):  # before float: np.float64 subclasses float
            if x.dtype.kind != "f":
                raise TypeError(f"{name} must be a float array or a float; got a numpy {x.dtype} scalar")
            _check_dtype(x.dtype.name, name)
            typed = x.dtype.name
        elif isinstance(x, float):
            typed = None
        elif isinstance(x, (bool, int)):
            raise TypeError(f"{name} must be a float array or a Python float; got {type(x).__name__}")
        else:
            arrays[name] = as_array(x, name, others)
            continue
        if not allow_scalars:
            raise ValueError(f"{name} must be at least 1-D (matmul of a scalar); got a scalar")
        scalars[name] = (float(x), typed)
    outa = None
    if out is not None:
        if framework(out) is None and not is_cuda_array(out):
            raise ValueError(
                f"out is on the CPU ({type(out).__name__}) but the inputs are CUDA arrays; "
                "out must be a CUDA array of the inputs' framework and device"
            )
        if framework(out) is None:
            raise TypeError(f"out must be a torch tensor or CuPy array; got {type(out).__name__}")
        outa = Array(out, framework(out), "out")
    check_same(list(arrays.items()) + ([("out", outa)] if outa is not None else []))
    for name, x in arrays.items():
        _check_dtype(x.dtype, name)
    return arrays, scalars, outa


def _check_out(outa, shape, dtype):
    check_out(outa.dtype, outa.shape, dtype, shape)
    if any(stride == 0 and size > 1 for size, stride in zip(outa.shape, outa.strides)):
        raise ValueError("out must not be a broadcast view (several of its elements share memory)")


def _operand(backend, x, dtype, outa, name):
    """x cast to dtype, and copied when writing out would change what is still to be read."""
    if x.dtype != dtype:
        x = Array(backend.cast(x.obj, dtype), backend.fw, name)
    if overlap(x, outa) and not (x.ptr == outa.ptr and x.shape == outa.shape and x.strides == outa.strides):
        x = Array(backend.copy(x.obj), backend.fw, name)
    return x


def binary(a, b, spec, out):
    """Elementwise Mitchell ``spec.op`` of CUDA arrays (see logsketch.mitchell)."""
    arrays, scalars, outa = _inputs([("a", a), ("b", b)], out, allow_scalars=True)
    first = next(iter(arrays.values()), outa)
    backend = Backend(first.fw, first.device)
    dtypes = [x.dtype for x in arrays.values()] + [typed for _, typed in scalars.values() if typed]
    if dtypes:
        dtype = _promote(dtypes)
    else:  # two Python floats written into a CUDA out
        _check_dtype(outa.dtype, "out")
        dtype = outa.dtype
    if len(arrays) == 2:
        shape = broadcast(arrays["a"].shape, arrays["b"].shape)
    else:
        shape = next(iter(arrays.values())).shape if arrays else ()
    if outa is None:
        result = backend.empty(shape, dtype)
        outa = Array(result, backend.fw, "out")
    else:
        _check_out(outa, shape, dtype)
        result = out
    ops = {}
    for name in ("a", "b"):
        if name in scalars:
            ops[name] = Array(backend.scalar(scalars[name][0], dtype), backend.fw, name)
        else:
            ops[name] = _operand(backend, arrays[name], dtype, outa, name)
    xa, xb = ops["a"], ops["b"]
    cuda_module().mitchell_binary(
        xa.ptr, shape, broadcast_strides(xa.shape, xa.strides, shape),
        xb.ptr, shape, broadcast_strides(xb.shape, xb.strides, shape),
        outa.ptr, shape, outa.strides,
        dtype, spec.op, spec.compensated, backend.stream(), backend.device,
    )  # fmt: skip
    return result


def matmul(a, b, spec, out):
    """Mitchell matmul of CUDA arrays with np.matmul's shape rules (see logsketch.mitchell)."""
    arrays, _, outa = _inputs([("a", a), ("b", b)], out, allow_scalars=False)
    xa, xb = arrays["a"], arrays["b"]
    s = matmul_shapes(xa.shape, xb.shape)
    backend = Backend(xa.fw, xa.device)
    dtype = _promote([xa.dtype, xb.dtype])
    if xa.dtype != dtype:
        xa = Array(backend.cast(xa.obj, dtype), backend.fw, "a")
    if xb.dtype != dtype:
        xb = Array(backend.cast(xb.obj, dtype), backend.fw, "b")
    # 1-D operands become a row (a) or a column (b); the stride of the added
    # dimension keeps the loads running along k.
    a_shape, a_strides = xa.shape, xa.strides
    if len(a_shape) == 1:
        a_shape, a_strides = (1,) + a_shape, (a_shape[0] * a_strides[0],) + a_strides
    b_shape, b_strides = xb.shape, xb.strides
    if len(b_shape) == 1:
        b_shape, b_strides = b_shape + (1,), b_strides + (b_shape[0] * b_strides[0],)
    if outa is None:
        result = backend.empty(s.shape, dtype)
        outa = Array(result, backend.fw, "out")
    else:
        _check_out(outa, s.shape, dtype)
        if overlap(outa, xa) or overlap(outa, xb):
            raise ValueError("out must not overlap a or b")
        result = out
    # out viewed as (batch..., m, n): put back the dimensions 1-D operands removed.
    batch = s.batch
    c_strides = outa.strides
    if len(xa.shape) == 1:
        c_strides = c_strides[: len(batch)] + (0,) + c_strides[len(batch) :]
    if len(xb.shape) == 1:
        c_strides = c_strides + (0,)
    a_full = batch + (s.m, s.k)
    b_full = batch + (s.k, s.n)
    cuda_module().mitchell_matmul(
        xa.ptr, a_full, broadcast_strides(a_shape, a_strides, a_full),
        xb.ptr, b_full, broadcast_strides(b_shape, b_strides, b_full),
        outa.ptr, batch + (s.m, s.n), c_strides,
        dtype, spec.compensated, backend.stream(), backend.device,
    )  # fmt: skip
    return result
