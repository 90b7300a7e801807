"""The CUDA-array adapter every family shares.

PyTorch tensors and CuPy arrays are supported; both are imported only if the
caller already has them (an argument of theirs exists), never here.

- Pointer, shape, element strides and dtype are read from the framework
  (torch: ``data_ptr()``/``stride()``/``dtype``, which also covers bfloat16,
  for which ``__cuda_array_interface__`` has no type string; CuPy: ``.data.ptr``
  and byte strides): :class:`Array`.
- Outputs are allocated by the same framework on the arguments' device, and
  the kernels are enqueued on that framework's current stream for that
  device, so they order with the caller's other work without any
  synchronisation: :class:`Backend`.
"""

from __future__ import annotations

import sys

import numpy as np

from . import is_cuda_array


class Array:
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


def framework(x):
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return "torch"
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(x, cupy.ndarray):
        return "cupy"
    return None


def as_array(x, name, others):
    """x as an Array; errors name x and say why it cannot run on the GPU."""
    fw = framework(x)
    if fw is not None:
        return Array(x, fw, name)
    if is_cuda_array(x):
        raise TypeError(
            f"{name}: only torch tensors and CuPy arrays are supported on the GPU; got {type(x).__name__}"
        )
    verb = "are CUDA arrays" if " and " in others else "is a CUDA array"
    raise ValueError(
        f"{name} is on the CPU ({type(x).__name__}) but {others} {verb}; "
        "move them to the same CUDA device, or pass numpy arrays to run on the CPU"
    )


def check_same(arrays):
    """One framework and one device for every (name, Array) pair."""
    (n0, x0), *rest = arrays
    for name, x in rest:
        if x.fw != x0.fw:
            raise ValueError(f"{n0} is a {fw_name(x0.fw)} but {name} is a {fw_name(x.fw)}; use one framework")
        if x.device != x0.device:
            raise ValueError(f"{n0} and {name} are on different devices (cuda:{x0.device} and cuda:{x.device})")


def fw_name(fw):
    return "torch tensor" if fw == "torch" else "CuPy array"


def broadcast_strides(shape, strides, target):
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


def overlap(x, y):
    ex = _extent(x.ptr, x.shape, x.strides, x.itemsize)
    ey = _extent(y.ptr, y.shape, y.strides, y.itemsize)
    return ex is not None and ey is not None and ex[0] < ey[1] and ey[0] < ex[1]


class Backend:
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
        pattern = scalar_bits(value, dtype)
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


def scalar_bits(value, dtype):
    """The bit pattern of the float `value` in `dtype`."""
    with np.errstate(over="ignore", invalid="ignore"):
        if dtype == "bfloat16":
            u = int(np.float32(value).view(np.uint32))
            if (u & 0x7FFFFFFF) > 0x7F800000:
                return 0x7FC0
            return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF  # round to nearest even
        x = np.asarray(value, dtype=np.float64).astype(dtype)
    return int(x.view(np.uint16 if dtype == "float16" else np.uint32))




def cuda_array(x, name):
    """x, a CUDA array, as an Array; TypeError unless it is a torch tensor or CuPy array."""
    fw = framework(x)
    if fw is None:
        raise TypeError(
            f"{name} is a CUDA array of type {type(x).__name__}; only torch tensors and CuPy arrays "
            "are supported on the GPU (or pass a numpy array to run on the CPU)"
        )
    return Array(x, fw, name)


def ptr(arr, fw):
    """The device pointer of a framework array."""
    return arr.data_ptr() if fw == "torch" else arr.data.ptr


def c_order(x, backend, name=None):
    """A C-ordered copy of the Array x (a fresh allocation, so also freshly aligned)."""
    if x.fw == "torch":
        obj = x.obj.clone(memory_format=backend.mod.contiguous_format)
    else:
        with backend.mod.cuda.Device(backend.device):
            obj = x.obj.copy(order="C")
    return Array(obj, x.fw, name or "copy")


def to_device(host, backend):
    """A numpy array copied to the backend's framework and device."""
    if backend.fw == "torch":
        return backend.mod.as_tensor(host, device=f"cuda:{backend.device}")
    with backend.mod.cuda.Device(backend.device):
        return backend.mod.asarray(host)
