"""Input conversion shared by every family: the coercion policy in one place.

- numpy arrays, lists and anything ``np.asarray`` accepts run on the CPU;
  objects on a CUDA device (``__cuda_array_interface__``, or ``__dlpack__``
  reporting a CUDA device) run on the GPU.
- Float inputs are taken as they are (non-contiguous arrays included; the
  kernels take strides).  Integer, bool, complex, object and other non-float
  inputs are refused with a TypeError naming the argument: for these kernels
  a silent cast would be lossy or meaningless.
- Python floats are weakly typed, as in numpy: ``f(x32, 2.0)`` stays float32.
"""

from __future__ import annotations

import numpy as np

_DLPACK_CUDA_DEVICES = (2, 13)  # kDLCUDA and kDLCUDAManaged


def is_cuda_array(x) -> bool:
    """True for objects that live on a CUDA device (torch, CuPy, numba, ...)."""
    if x is None or isinstance(x, (np.ndarray, np.generic, float, int, list, tuple)):
        return False
    if hasattr(x, "__cuda_array_interface__"):
        return True
    dev = getattr(x, "__dlpack_device__", None)
    if dev is not None:
        try:
            return int(dev()[0]) in _DLPACK_CUDA_DEVICES
        except Exception:  # an object whose __dlpack_device__ misbehaves is not ours to run
            return False
    return False


def _dtype_of(x):
    if isinstance(x, (np.ndarray, np.generic)):  # first: np.float64 subclasses float
        return x.dtype
    if isinstance(x, float):
        return None  # weak: takes the other operand's dtype
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, int):
        return np.dtype(np.int64)
    return np.asarray(x).dtype


def as_float_array(x, name: str, allowed) -> np.ndarray:
    """``np.asarray(x)``, refusing anything but the float dtypes in ``allowed``."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of floats; could not convert {type(x).__name__}: {exc}") from None
    check_float_dtype(arr.dtype, name, allowed)
    return arr


def check_float_dtype(dtype, name: str, allowed) -> None:
    dtype = np.dtype(dtype)
    if dtype not in allowed:
        names = ", ".join(str(d) for d in allowed)
        raise TypeError(f"{name} must have a float dtype ({names}); got {dtype}")


def result_float_dtype(*xs) -> np.dtype:
    """numpy's promotion of the inputs, with Python floats weak (NEP 50)."""
    dtypes = [d for d in (_dtype_of(x) for x in xs) if d is not None]
    if not dtypes:
        return np.dtype(np.float64)
    return np.result_type(*dtypes)
