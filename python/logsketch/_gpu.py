"""The GPU side's Python glue: module availability and device status.

Nothing here touches CUDA at import time; the compiled module is imported on
first use.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=None)
def _load():
    try:
        from . import _cuda
    except ImportError as exc:
        return None, f"logsketch._cuda not built or not loadable: {exc}"
    return _cuda, None


def cuda_module():
    """The compiled CUDA module; RuntimeError saying why when unavailable."""
    mod, why = _load()
    if mod is None:
        raise RuntimeError(why)
    return mod


def cuda_status() -> dict:
    """{'built', 'device_found', 'device_count', 'device_name', 'detail'}."""
    mod, why = _load()
    if mod is None:
        return {"built": False, "device_found": False, "device_count": 0, "device_name": None, "detail": why}
    return {"built": True, **mod.status()}
