"""The GPU path of the JL family: CUDA arrays in, the same framework's arrays out.

:func:`logsketch.jl_project` routes here when X is a CUDA array (PyTorch
tensors and CuPy arrays; other CUDA arrays are refused with a TypeError).
The public function checks the arguments and builds the matrix's spec, as
on the CPU; what the GPU adds is checked here:

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

from .._backend.cuda import Array, Backend, c_order, cuda_array, ptr, to_device
from .._native import _core, cuda_module
from .._validate import float_dtype
from ._spec import components_dtype, matrix_spec, padded

MAX_SRHT_ORDER = 2**14  # cuda/jl/jl_cuda.hpp: kMaxSrhtOrder


def _x_dtype(name):
    """The dtype the kernels run in: bfloat16 widened, the rest as on the CPU."""
    return "float32" if name == "bfloat16" else float_dtype(name, "X", integers=False).name


def as_input(X):
    """X as an Array of the kernels' dtype whose rows are contiguous and do not overlap."""
    x = cuda_array(X, "X")
    dtype = _x_dtype(x.dtype)
    if len(x.shape) != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {x.shape}")
    backend = Backend(x.fw, x.device)
    if x.dtype != dtype:
        x = Array(backend.cast(x.obj, dtype), x.fw, "X")
    n, d = x.shape
    rs, cs = x.strides
    if (cs == 1 or d == 1) and (rs >= d or n <= 1):
        return x
    return c_order(x, backend, "X")


def srht_rows(backend, spec):
    """The sampled rows of the Hadamard matrix (the CPU's), as a device int64 array."""
    if spec.kind != "srht":
        return None
    return to_device(np.asarray(_core.jl_srht_sample(spec.seed, spec.k, padded(spec.d)), dtype=np.int64), backend)


def project(x, spec):
    """X @ R.T for x from :func:`as_input` and R of ``spec``."""
    if spec.kind == "srht" and padded(spec.d) > MAX_SRHT_ORDER:
        raise ValueError(
            f"kind='srht' on the GPU supports n_features up to {MAX_SRHT_ORDER} (rounded up to a power of two); "
            f"got {spec.d}; use kind='gaussian' or 'sparse', or run on the CPU"
        )
    mod = cuda_module()
    backend = Backend(x.fw, x.device)
    n = x.shape[0]
    out = backend.empty((n, spec.k), x.dtype)
    if n == 0:
        return out
    rows = srht_rows(backend, spec)
    mod.jl_project(
        x.ptr, n, spec.d, x.strides[0] if n > 1 else spec.d, ptr(out, x.fw), spec.kind, spec.k, spec.seed,
        spec.density, x.dtype, ptr(rows, x.fw) if rows is not None else 0, backend.stream(), x.device,
    )  # fmt: skip
    return out


def components(n_components, n_features, *, kind="gaussian", density="auto", seed=0, dtype="float32",
               framework="torch", device=0):  # fmt: skip
    """R of jl_components on a CUDA device, as a dense (k, d) array of `framework`.

    Bit-identical to :func:`logsketch.jl_components` of the same arguments (the
    sparse kind as its ``.toarray()``: the GPU writes R dense).  For tests and
    benchmarks; the framework ("torch" or "cupy") must already be imported.
    """
    spec = matrix_spec(n_components, n_features, kind, density, seed)
    dtype = components_dtype(dtype)
    if framework not in ("torch", "cupy") or framework not in sys.modules:
        raise ValueError(f"framework must be 'torch' or 'cupy', already imported; got {framework!r}")
    mod = cuda_module()
    backend = Backend(framework, device)
    out = backend.empty((spec.k, spec.d), dtype.name)
    rows = srht_rows(backend, spec)
    mod.jl_components(
        ptr(out, framework), spec.kind, spec.k, spec.d, spec.seed, spec.density, dtype.name,
        ptr(rows, framework) if rows is not None else 0, backend.stream(), device,
    )  # fmt: skip
    return out
