"""The GPU path of the Mitchell functions: CUDA arrays in, the same framework's arrays out.

:mod:`logsketch.mitchell` routes here when an operand (or ``out``) is a CUDA
array.  PyTorch tensors and CuPy arrays are supported; both are imported only
if the caller already has them (an operand of theirs exists), never here.

- Pointer, shape, element strides and dtype are read from the framework
  (torch: ``data_ptr()``/``stride()``/``dtype``, which also covers bfloat16,
  for which ``__cuda_array_interface__`` has no type string; CuPy: ``.data.ptr``
  and byte strides).
- Outputs are allocated by the same framework on the operands' device, and the
  kernel is enqueued on that framework's current stream for that device, so it
  orders with the caller's other work without any synchronisation.
- Shapes broadcast as in numpy (broadcast dimensions get stride 0, nothing is
  copied); float16, bfloat16 and float32 mix as in torch/numpy (float16 with
  bfloat16 gives float32); Python floats are weak scalars that take the array's
  dtype, numpy float scalars are typed (NEP 50), as on the CPU.  float64 is
  refused: the GPU kernels are float16/bfloat16/float32.
"""

from __future__ import annotations

import sys

import numpy as np

from ._arrays import is_cuda_array
from ._gpu import cuda_module

_GPU_DTYPES = ("float16", "bfloat16", "float32")


class _Array:
    """One CUDA array as the kernels see it."""

    __slots__ = ("obj", "fw", "device", "dtype", "shape", "strides", "ptr", "itemsize")

    def __init__(self, obj, fw, name):
        self.obj = obj
        self.fw = fw
        if fw == "torch":
            if not obj.is_cuda:
                raise ValueError(f"{name} is a torch tensor on {obj.device}, not on a CUDA device")
            if obj.layout is not sys.modules["torch"].strided:
                raise TypeError(f"{name} must be a dense (strided) tensor; got layout {obj.layout}")
            if obj.is_neg():
                obj = self.obj = obj.resolve_neg()
            self.device = obj.device.index
            self.dtype = str(obj.dtype).rsplit(".", 1)[-1]
            self.shape = tuple(obj.shape)
            self.strides = tuple(obj.stride())
            self.ptr = obj.data_ptr()
            self.itemsize = obj.element_size()
        else:
            self.device = obj.device.id
            self.dtype = obj.dtype.name
            self.itemsize = obj.itemsize
            if any(s % self.itemsize for s in obj.strides):  # not a whole number of elements
                obj = self.obj = sys.modules["cupy"].ascontiguousarray(obj)
            self.shape = tuple(obj.shape)
            self.strides = tuple(s // self.itemsize for s in obj.strides)
            self.ptr = obj.data.ptr


def _check_dtype(dtype, name):
    if dtype in _GPU_DTYPES:
        return
    if dtype == "float64":
        raise TypeError(
            f"{name} has dtype float64, which the GPU kernels do not support; "
            "use float32 (or numpy arrays on the CPU, where float64 runs)"
        )
    raise TypeError(f"{name} must have a float dtype (float16, bfloat16 or float32) on the GPU; got {dtype}")


def _framework(x):
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return "torch"
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(x, cupy.ndarray):
        return "cupy"
    return None


def _array(x, name, others):
    """x as an _Array; errors name x and say why it cannot run on the GPU."""
    fw = _framework(x)
    if fw is not None:
        return _Array(x, fw, name)
    if is_cuda_array(x):
        raise TypeError(
            f"{name}: only torch tensors and CuPy arrays are supported on the GPU; got {type(x).__name__}"
        )
    raise ValueError(
        f"{name} is on the CPU ({type(x).__name__}) but {others} is a CUDA array; "
        "move both to the same CUDA device, or pass numpy arrays to run on the CPU"
    )


def _check_same(arrays):
    """One framework and one device for every (name, _Array) pair."""
    (n0, x0), *rest = arrays
    for name, x in rest:
        if x.fw != x0.fw:
            raise ValueError(f"{n0} is a {_fw_name(x0.fw)} but {name} is a {_fw_name(x.fw)}; use one framework")
        if x.device != x0.device:
            raise ValueError(f"{n0} and {name} are on different devices (cuda:{x0.device} and cuda:{x.device})")


def _fw_name(fw):
    return "torch tensor" if fw == "torch" else "CuPy array"


def _promote(dtypes):
    """torch's promotion among float16, bfloat16 and float32: any mix is float32."""
    kinds = set(dtypes)
    return kinds.pop() if len(kinds) == 1 else "float32"


def _broadcast_shapes(s1, s2, what):
    nd = max(len(s1), len(s2))
    p1 = (1,) * (nd - len(s1)) + tuple(s1)
    p2 = (1,) * (nd - len(s2)) + tuple(s2)
    out = []
    for x, y in zip(p1, p2):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"{what} cannot be broadcast together: shapes {tuple(s1)} and {tuple(s2)}")
        out.append(y if x == 1 else x)
    return tuple(out)


def _broadcast_strides(shape, strides, target):
    """Element strides of an array of `shape` viewed at the broadcast shape `target`."""
    pad = len(target) - len(shape)
    out = [0] * pad
    for size, stride, t in zip(shape, strides, target[pad:]):
        out.append(0 if size == 1 and t != 1 else stride)
    return tuple(out)


def _extent(ptr, shape, strides, itemsize):
    """[lo, hi) bytes an array touches; None when it is empty."""
    if any(s == 0 for s in shape):
        return None
    lo = hi = 0
    for size, stride in zip(shape, strides):
        span = (size - 1) * stride
        lo += min(span, 0)
        hi += max(span, 0)
    return ptr + lo * itemsize, ptr + (hi + 1) * itemsize


def _overlap(x, y):
    ex = _extent(x.ptr, x.shape, x.strides, x.itemsize)
    ey = _extent(y.ptr, y.shape, y.strides, y.itemsize)
    return ex is not None and ey is not None and ex[0] < ey[1] and ey[0] < ex[1]


class _Backend:
    """Allocation, casts, copies and the current stream of one framework on one device."""

    def __init__(self, fw, device):
        self.fw = fw
        self.device = device
        self.mod = sys.modules[fw]

    def _dtype(self, name):
        return getattr(self.mod, name)

    def empty(self, shape, dtype):
        if self.fw == "torch":
            return self.mod.empty(shape, dtype=self._dtype(dtype), device=f"cuda:{self.device}")
        with self.mod.cuda.Device(self.device):
            return self.mod.empty(shape, dtype=dtype)

    def scalar(self, value, dtype):
        """A 0-d array holding the float `value` rounded to `dtype`.

        The rounding is numpy's (float64 -> float16/float32 directly, as the
        CPU path casts) and, for bfloat16, torch's (through float32); the bits
        are then written by an integer fill, which no framework re-rounds or
        range-checks.
        """
        pattern = _scalar_bits(value, dtype)
        if self.fw == "torch":
            torch = self.mod
            int_dtype, width = (torch.int32, 32) if dtype == "float32" else (torch.int16, 16)
            signed = pattern - (1 << width) if pattern >> (width - 1) else pattern
            filled = torch.full((), signed, dtype=int_dtype, device=f"cuda:{self.device}")
            return filled.view(self._dtype(dtype))
        uint = np.uint32 if dtype == "float32" else np.uint16
        with self.mod.cuda.Device(self.device):
            return self.mod.full((), pattern, dtype=uint).view(dtype)

    def cast(self, x, dtype):
        if self.fw == "torch":
            return x.to(self._dtype(dtype))
        with self.mod.cuda.Device(self.device):
            return x.astype(dtype)

    def copy(self, x):
        if self.fw == "torch":
            return x.clone()
        with self.mod.cuda.Device(self.device):
            return x.copy()

    def stream(self):
        if self.fw == "torch":
            return int(self.mod.cuda.current_stream(self.device).cuda_stream)
        with self.mod.cuda.Device(self.device):
            return int(self.mod.cuda.get_current_stream().ptr)


def _scalar_bits(value, dtype):
    """The bit pattern of the float `value` in `dtype`."""
    with np.errstate(over="ignore", invalid="ignore"):
        if dtype == "bfloat16":
            u = int(np.float32(value).view(np.uint32))
            if (u & 0x7FFFFFFF) > 0x7F800000:
                return 0x7FC0
            return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF  # round to nearest even
        x = np.asarray(value, dtype=np.float64).astype(dtype)
    return int(x.view(np.uint16 if dtype == "float16" else np.uint32))


def _inputs(named, out, allow_scalars):
    """Sort the operands into CUDA arrays and scalars, checking them.

    Returns (arrays, scalars, out as an _Array or None); scalars maps a name to
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
            arrays[name] = _array(x, name, others)
            continue
        if not allow_scalars:
            raise ValueError(f"{name} must be at least 1-D (matmul of a scalar); got a scalar")
        scalars[name] = (float(x), typed)
    outa = None
    if out is not None:
        if _framework(out) is None and not is_cuda_array(out):
            raise ValueError(
                f"out is on the CPU ({type(out).__name__}) but the inputs are CUDA arrays; "
                "out must be a CUDA array of the inputs' framework and device"
            )
        if _framework(out) is None:
            raise TypeError(f"out must be a torch tensor or CuPy array; got {type(out).__name__}")
        outa = _Array(out, _framework(out), "out")
    _check_same(list(arrays.items()) + ([("out", outa)] if outa is not None else []))
    for name, x in arrays.items():
        _check_dtype(x.dtype, name)
    return arrays, scalars, outa


def _check_out(outa, shape, dtype):
    if outa.dtype != dtype:
        raise TypeError(f"out must have dtype {dtype} (the result dtype); got {outa.dtype}")
    if outa.shape != tuple(shape):
        raise ValueError(f"out must have shape {tuple(shape)}; got {outa.shape}")
    if any(stride == 0 and size > 1 for size, stride in zip(outa.shape, outa.strides)):
        raise ValueError("out must not be a broadcast view (several of its elements share memory)")


def binary(a, b, op, compensated, out):
    """Elementwise Mitchell ``op`` ('multiply' or 'divide') of CUDA arrays (see mitchell.py)."""
    arrays, scalars, outa = _inputs([("a", a), ("b", b)], out, allow_scalars=True)
    first = next(iter(arrays.values()), outa)
    backend = _Backend(first.fw, first.device)
    dtypes = [x.dtype for x in arrays.values()] + [typed for _, typed in scalars.values() if typed]
    if dtypes:
        dtype = _promote(dtypes)
    else:  # two Python floats written into a CUDA out
        _check_dtype(outa.dtype, "out")
        dtype = outa.dtype
    if len(arrays) == 2:
        shape = _broadcast_shapes(arrays["a"].shape, arrays["b"].shape, "a and b")
    else:
        shape = next(iter(arrays.values())).shape if arrays else ()

    if outa is None:
        result = backend.empty(shape, dtype)
        outa = _Array(result, backend.fw, "out")
    else:
        _check_out(outa, shape, dtype)
        result = out
    ops = {}
    for name in ("a", "b"):
        if name in scalars:
            ops[name] = _Array(backend.scalar(scalars[name][0], dtype), backend.fw, name)
            continue
        x = arrays[name]
        if x.dtype != dtype:
            x = _Array(backend.cast(x.obj, dtype), backend.fw, name)
        # Writing out may not change what is still to be read, unless out is x itself.
        if _overlap(x, outa) and not (x.ptr == outa.ptr and x.shape == outa.shape and x.strides == outa.strides):
            x = _Array(backend.copy(x.obj), backend.fw, name)
        ops[name] = x
    xa, xb = ops["a"], ops["b"]
    stream = backend.stream()
    cuda_module().mitchell_binary(
        xa.ptr, shape, _broadcast_strides(xa.shape, xa.strides, shape),
        xb.ptr, shape, _broadcast_strides(xb.shape, xb.strides, shape),
        outa.ptr, shape, outa.strides,
        dtype, op, compensated, stream, backend.device,
    )  # fmt: skip
    return result


def matmul(a, b, compensated, out):
    """Mitchell matmul of CUDA arrays with np.matmul's shape rules (see mitchell.py)."""
    arrays, _, outa = _inputs([("a", a), ("b", b)], out, allow_scalars=False)
    xa, xb = arrays["a"], arrays["b"]
    for name, x in (("a", xa), ("b", xb)):
        if not x.shape:
            raise ValueError(f"{name} must be at least 1-D (matmul of a scalar); got a 0-d array")
    backend = _Backend(xa.fw, xa.device)
    dtype = _promote([xa.dtype, xb.dtype])
    if xa.dtype != dtype:
        xa = _Array(backend.cast(xa.obj, dtype), backend.fw, "a")
    if xb.dtype != dtype:
        xb = _Array(backend.cast(xb.obj, dtype), backend.fw, "b")

    # 1-D operands become a row (a) or a column (b); the stride of the added
    # dimension keeps the loads running along k.
    a_shape, a_strides = xa.shape, xa.strides
    if len(a_shape) == 1:
        a_shape, a_strides = (1,) + a_shape, (a_shape[0] * a_strides[0],) + a_strides
    b_shape, b_strides = xb.shape, xb.strides
    if len(b_shape) == 1:
        b_shape, b_strides = b_shape + (1,), b_strides + (b_shape[0] * b_strides[0],)
    if a_shape[-1] != b_shape[-2]:
        raise ValueError(
            f"a and b have mismatched inner dimensions: a has shape {xa.shape} (k={a_shape[-1]}), "
            f"b has shape {xb.shape} (k={b_shape[-2]})"
        )
    batch = _broadcast_shapes(a_shape[:-2], b_shape[:-2], f"batch dimensions of a {xa.shape} and b {xb.shape}")
    m, k, n = a_shape[-2], a_shape[-1], b_shape[-1]
    shape = batch + (m, n)
    if len(xa.shape) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(xb.shape) == 1:
        shape = shape[:-1]

    if outa is None:
        result = backend.empty(shape, dtype)
        outa = _Array(result, backend.fw, "out")
    else:
        _check_out(outa, shape, dtype)
        if _overlap(outa, xa) or _overlap(outa, xb):
            raise ValueError("out must not overlap a or b")
        result = out
    # out viewed as (batch..., m, n): put back the dimensions 1-D operands removed.
    c_strides = outa.strides
    if len(xa.shape) == 1:
        c_strides = c_strides[: len(batch)] + (0,) + c_strides[len(batch) :]
    if len(xb.shape) == 1:
        c_strides = c_strides + (0,)
    a_full = batch + (m, k)
    b_full = batch + (k, n)
    stream = backend.stream()
    cuda_module().mitchell_matmul(
        xa.ptr, a_full, _broadcast_strides(a_shape, a_strides, a_full),
        xb.ptr, b_full, _broadcast_strides(b_shape, b_strides, b_full),
        outa.ptr, batch + (m, n), c_strides,
        dtype, compensated, stream, backend.device,
    )  # fmt: skip
    return result
