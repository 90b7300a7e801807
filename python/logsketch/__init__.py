"""logsketch: fast approximate and randomized kernels for ML and data pipelines.

Mitchell log-multiplication (elementwise and matmul), JL random projection
(gaussian, sparse and SRHT matrices generated from a seed), randomized SVD
(dense and sparse, on BLAS/LAPACK) and entropy-invariant attention (a fused
flash-style kernel), with CPU kernels
chosen at run time by SIMD level and an optional CUDA module.  numpy inputs run
on the CPU; CUDA arrays (torch, CuPy) run on the GPU and come back as the same
framework's arrays (every family).
"""

from . import _native  # noqa: F401  (loads the BLAS library, then the compiled core)
from . import exceptions, reference
from ._config import (
    get_num_threads,
    get_simd_level,
    set_num_threads,
    set_simd_level,
    show_config,
    config,
)
from .attention import attention, attention_backward, attention_varlen, attention_varlen_backward, entropy_scale
from .jl import JLDistortion, jl_components, jl_distortion, jl_min_dim, jl_project
from .mitchell import mitchell_divide, mitchell_matmul, mitchell_multiply
from .rsvd import randomized_svd

from ._version import __version__

__all__ = [
    "__version__",
    "attention",
    "attention_backward",
    "attention_varlen",
    "attention_varlen_backward",
    "config",
    "entropy_scale",
    "get_num_threads",
    "get_simd_level",
    "JLDistortion",
    "JLProjection",
    "jl_components",
    "jl_distortion",
    "jl_min_dim",
    "jl_project",
    "mitchell_divide",
    "mitchell_matmul",
    "mitchell_multiply",
    "randomized_svd",
    "RandomizedSVD",
    "reference",
    "set_num_threads",
    "set_simd_level",
    "show_config",
]


_ESTIMATORS = ("JLProjection", "RandomizedSVD")


def __getattr__(name):
    # The estimators live in logsketch.sklearn, imported on first use: importing
    # scikit-learn takes about 0.8 s, which `import logsketch` does not pay.
    if name in _ESTIMATORS:
        from . import sklearn

        return getattr(sklearn, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
