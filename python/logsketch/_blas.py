"""Loads the BLAS/LAPACK library the compiled core links, before the core.

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
"""

import ctypes
import importlib.util
import os


def _library_path():
    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("logsketch needs the scipy-openblas32 package (pip install scipy-openblas32)")
    lib_dir = os.path.join(spec.submodule_search_locations[0], "lib")
    names = sorted(n for n in os.listdir(lib_dir) if n.startswith("libscipy_openblas") and ".so" in n)
    if not names:
        raise ImportError(f"no libscipy_openblas shared library in {lib_dir}")
    return os.path.join(lib_dir, names[0])


_library = ctypes.CDLL(_library_path(), mode=ctypes.RTLD_LOCAL)
