"""Loads the BLAS/LAPACK library the compiled core links, before the core.

The core needs ``libscipy_openblas.so`` from the scipy-openblas32 package.  Its
run path finds the library when both packages sit in the same site-packages;
loading it here by absolute path also covers every other layout (``--target``
installs, a source tree on ``PYTHONPATH``), since the loader then reuses the
library already in the process.
"""

import ctypes
import os

import scipy_openblas32

_library = ctypes.CDLL(
    os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(fullname=True)),
    mode=ctypes.RTLD_GLOBAL,
)
