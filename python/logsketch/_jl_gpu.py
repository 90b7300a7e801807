"""The GPU path of the JL family: CUDA arrays in, the same framework's arrays out.

:func:`logsketch.jl_project` routes here when X is a CUDA array (PyTorch
tensors and CuPy arrays; other CUDA arrays are refused with a TypeError).
Arguments are checked exactly as on the CPU (the same functions of
:mod:`logsketch.jl`), then:

- dtype: float32 and float64 run as they are; float16 and bfloat16 are widened
  to float32 (a documented copy, as the CPU widens float16); anything else is
  a TypeError.
- layout: the kernels read rows with unit column stride and a row stride of at
  least n_features; other layouts (transposes, column slices, negative
  strides) are copied to C order first.
- R is the CPU's bit for bit (materialized by :func:`components`, which the
  tests compare with :func:`logsketch.jl_components`); the projection equals
  ``X @ R.T`` within float summation error (the GPU sums in another order
  than the CPU, so the bits of Y differ from the CPU's).
- kind="srht" transforms each row in shared memory: n_features rounded up to a
  power of two is limited to 2**14 on the GPU (ValueError beyond).
- The output is allocated by X's framework on X's device, and the kernel is
  enqueued on that framework's current stream: no synchronisation.
"""

from __future__ import annotations

import sys

import numpy as np

from . import _core, jl
from ._gpu import cuda_module
from ._mitchell_gpu import _Array, _Backend, _framework

MAX_SRHT_ORDER = 2**14  # cuda/jl/jl_cuda.hpp: kMaxSrhtOrder


def _x_array(X):
    fw = _framework(X)
    if fw is None:
        raise TypeError(
            f"X is a CUDA array of type {type(X).__name__}; only torch tensors and CuPy arrays "
            "are supported on the GPU (or pass a numpy array to run on the CPU)"
        )
    return _Array(X, fw, "X")


def _x_dtype(name):
    """The dtype the kernels run in, with the CPU's messages for refused dtypes."""
    if name == "bfloat16":
        return "float32"
    try:
        dtype = np.dtype(name)
    except TypeError:
        raise TypeError(
            f"X must have a float dtype (float32 or float64; float16 is widened); got {name}"
        ) from None
    return jl._float_dtype(dtype, "X").name


def _contiguous_rows(x, backend, dtype):
    """X as an _Array of `dtype` whose rows are contiguous and do not overlap."""
    obj = x.obj
    if x.dtype != dtype:
        obj = backend.cast(obj, dtype)
        x = _Array(obj, x.fw, "X")
    n, d = x.shape
    rs, cs = x.strides
    if (cs == 1 or d == 1) and (rs >= d or n <= 1):
        return x
    if x.fw == "torch":
        obj = obj.contiguous()
    else:
        with backend.mod.cuda.Device(backend.device):
            obj = backend.mod.ascontiguousarray(obj)
    return _Array(obj, x.fw, "X")


def _srht_rows(backend, seed, k, d):
    """The sampled rows of the Hadamard matrix (the CPU's), as a device int64 array."""
    rows = np.asarray(_core.jl_srht_sample(seed, k, jl._padded(d)), dtype=np.int64)
    if backend.fw == "torch":
        return backend.mod.as_tensor(rows, device=f"cuda:{backend.device}")
    with backend.mod.cuda.Device(backend.device):
        return backend.mod.asarray(rows)


def _ptr(arr, fw):
    return arr.data_ptr() if fw == "torch" else arr.data.ptr


def project(X, n_components, kind, density, seed):
    """jl_project for a CUDA array X (see logsketch.jl_project)."""
    x = _x_array(X)
    dtype = _x_dtype(x.dtype)
    if len(x.shape) != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {x.shape}")
    n, d = x.shape
    if d < 1:
        raise ValueError(f"X must have at least one column (feature); got shape {x.shape}")
    k, d, kind, density, seed = jl._check_matrix(n_components, d, kind, density, seed)
    if kind == "srht" and jl._padded(d) > MAX_SRHT_ORDER:
        raise ValueError(
            f"kind='srht' on the GPU supports n_features up to {MAX_SRHT_ORDER} (rounded up to a power of two); "
            f"got {d}; use kind='gaussian' or 'sparse', or run on the CPU"
        )
    mod = cuda_module()
    backend = _Backend(x.fw, x.device)
    out = backend.empty((n, k), dtype)
    if n == 0:
        return out
    x = _contiguous_rows(x, backend, dtype)
    rows = _srht_rows(backend, seed, k, d) if kind == "srht" else None
    mod.jl_project(
        x.ptr, n, d, x.strides[0] if n > 1 else d, _ptr(out, x.fw), kind, k, seed, density, dtype,
        _ptr(rows, x.fw) if rows is not None else 0, backend.stream(), x.device,
    )  # fmt: skip
    return out


def components(n_components, n_features, *, kind="gaussian", density="auto", seed=0, dtype="float32",
               framework="torch", device=0):  # fmt: skip
    """R of jl_components on a CUDA device, as a dense (k, d) array of `framework`.

    Bit-identical to :func:`logsketch.jl_components` of the same arguments (the
    sparse kind as its ``.toarray()``: the GPU writes R dense).  For tests and
    benchmarks; the framework ("torch" or "cupy") must already be imported.
    """
    k, d, kind, density, seed = jl._check_matrix(n_components, n_features, kind, density, seed)
    dtype = np.dtype(dtype)
    if dtype not in jl._DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {dtype}")
    if framework not in ("torch", "cupy") or framework not in sys.modules:
        raise ValueError(f"framework must be 'torch' or 'cupy', already imported; got {framework!r}")
    mod = cuda_module()
    backend = _Backend(framework, device)
    out = backend.empty((k, d), dtype.name)
    rows = _srht_rows(backend, seed, k, d) if kind == "srht" else None
    mod.jl_components(
        _ptr(out, framework), kind, k, d, seed, density, dtype.name,
        _ptr(rows, framework) if rows is not None else 0, backend.stream(), device,
    )  # fmt: skip
    return out
