"""Loads the compiled modules: _core (CPU), _cuda and _cuda_linalg (GPU).

The BLAS preload
----------------
Loads the BLAS/LAPACK library the compiled core links, before the core.

The core needs ``libscipy_openblas.so`` from the scipy-openblas32 package.  Its
run path finds the library when both packages sit in the same site-packages;
loading it here by absolute path also covers every other layout (``--target``
installs, a source tree on ``PYTHONPATH``), since the loader then reuses the
library already in the process.

The library is found without importing ``scipy_openblas32`` and loaded
RTLD_LOCAL, on purpose: importing that package loads the library into the
global symbol scope, and SciPy's wheels link their own copy with the same
``scipy_``-prefixed symbols.  A global copy captures SciPy's LAPACK calls when
logsketch is imported first, and logsketch's single-threaded OpenBLAS setting
then applies to SciPy as well.

The CUDA modules
----------------
Nothing here touches CUDA at import time; the compiled modules are imported
on first use (:func:`cuda_module`, :func:`linalg_module`).

logsketch._cuda holds every kernel but the dense linear algebra and needs
only a driver.  logsketch._cuda_linalg (the randomized SVD) links cuBLAS and
cuSOLVER as shared libraries (cmake/LogsketchCuda.cmake).  When the nvidia-*
wheels that PyTorch and CuPy depend on are installed, their copies are loaded
first, by absolute path, so that the process holds one cuBLAS whichever of
logsketch and the framework is imported first (the loader then reuses them
for the module's dependencies); otherwise the module's run path and the
system's loader path (a CUDA toolkit) provide them.  When neither does,
importing _cuda_linalg fails and only the GPU randomized SVD reports itself
unavailable.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os


def _library_path():
    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("logsketch needs the scipy-openblas32 package (pip install scipy-openblas32)")
    lib_dir = os.path.join(spec.submodule_search_locations[0], "lib")
    names = sorted(n for n in os.listdir(lib_dir)
                   if n.startswith("libscipy_openblas") and (".so" in n or n.endswith(".dylib")))
    if not names:
        raise ImportError(f"no libscipy_openblas shared library in {lib_dir}")
    return os.path.join(lib_dir, names[0])


_blas_library = ctypes.CDLL(_library_path(), mode=ctypes.RTLD_LOCAL)

from . import _core  # noqa: E402  (after the BLAS library it links)

# (folder under a site-packages' nvidia/, library), dependencies first: the
# CUDA 13 wheels' layout, then the CUDA 12 wheels'.  Only the libraries of the
# toolkit the module was built with are used; the others stay unloaded by the
# module (their sonames differ) and cost only their mapping.
_WHEEL_LIBS = (
    ("cu13/lib", "libnvJitLink.so.13"),
    ("cu13/lib", "libcusparse.so.12"),
    ("cu13/lib", "libcublasLt.so.13"),
    ("cu13/lib", "libcublas.so.13"),
    ("cu13/lib", "libcusolver.so.12"),
    ("nvjitlink/lib", "libnvJitLink.so.12"),
    ("cusparse/lib", "libcusparse.so.12"),
    ("cublas/lib", "libcublasLt.so.12"),
    ("cublas/lib", "libcublas.so.12"),
    ("cusolver/lib", "libcusolver.so.11"),
)


def _preload_wheel_libs():
    """Load the nvidia-* wheels' cuBLAS/cuSOLVER (and dependencies) where installed."""
    try:
        import nvidia  # a namespace package spread over the wheels
    except ImportError:
        return
    bases = list(getattr(nvidia, "__path__", []))
    for folder, name in _WHEEL_LIBS:
        for base in bases:
            path = os.path.join(base, folder, name)
            if os.path.exists(path):
                try:
                    ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                except OSError:
                    pass  # an unusable copy: the module's own lookup decides
                break


@functools.lru_cache(maxsize=None)
def _load():
    try:
        from . import _cuda
    except ImportError as exc:
        return None, f"logsketch._cuda not built or not loadable: {exc}"
    return _cuda, None


@functools.lru_cache(maxsize=None)
def _load_linalg():
    mod, why = _load()
    if mod is None:
        return None, why
    _preload_wheel_libs()
    try:
        from . import _cuda_linalg
    except ImportError as exc:
        return None, (f"logsketch._cuda_linalg not built or not loadable (it needs cuBLAS and cuSOLVER: "
                      f"a CUDA toolkit or the nvidia-* wheels): {exc}")
    return _cuda_linalg, None


def cuda_module():
    """The compiled CUDA module; RuntimeError saying why when unavailable."""
    mod, why = _load()
    if mod is None:
        raise RuntimeError(why)
    return mod


def linalg_module():
    """The compiled cuBLAS/cuSOLVER module; RuntimeError saying why when unavailable."""
    mod, why = _load_linalg()
    if mod is None:
        raise RuntimeError(why)
    return mod


def cuda_status() -> dict:
    """{'built', 'device_found', 'device_count', 'device_name', 'detail'}."""
    mod, why = _load()
    if mod is None:
        return {"built": False, "device_found": False, "device_count": 0, "device_name": None, "detail": why}
    return {"built": True, **mod.status()}
