"""The one seam between the public functions and the devices they run on.

:func:`backend_of` names the backend that runs a call, from its array
arguments: ``"cuda"`` when any of them lives on a CUDA device, ``"dask"``
for a ``dask.array.Array``, else ``"numpy"`` (the CPU, for numpy arrays and
anything ``np.asarray`` takes).
Each family has one module per backend (``<family>/_cpu.py``,
``<family>/_cuda.py``); adding a backend is one row in ``_DETECTORS`` and one
module per family.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["backend_of", "is_cuda_array", "is_dask_array"]

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


def is_dask_array(x) -> bool:
    """True for a ``dask.array.Array``; never imports dask (an array of it means it is loaded)."""
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(x, module.Array)


# (backend, detector), first match wins; "numpy" when none matches.
_DETECTORS = (("cuda", is_cuda_array), ("dask", is_dask_array))


def backend_of(*arrays) -> str:
    """The backend that runs a call on ``arrays``: "cuda", "dask" or "numpy"."""
    others = [x for x in arrays if x is not None and type(x) is not np.ndarray]  # numpy arrays are numpy's
    for name, detects in _DETECTORS:
        for x in others:
            if detects(x):
                return name
    return "numpy"
