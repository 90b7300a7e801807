"""Plain-numpy references: obviously correct, slow, the yardstick for every test.

Each function is written straight from the definition in the docstring of the
public function it mirrors, with no attempt at speed.  The compiled kernels must
match these bit for bit where the definition is bit-exact (Mitchell elementwise)
and within a derived floating-point bound elsewhere (Mitchell matmul).
"""

from __future__ import annotations

from .mitchell import (  # noqa: F401
    Format,
    FORMATS,
    mitchell_multiply,
    mitchell_divide,
    mitchell_matmul,
)
from .jl import (  # noqa: F401
    JL_TAGS,
    philox4x32_10,
    jl_words,
    box_muller,
    jl_normals,
    jl_sparse_half,
    jl_srht_signs,
    jl_srht_sample,
    walsh_hadamard,
    jl_components,
    jl_project,
)
from .rsvd import (  # noqa: F401
    randomized_svd,
)
from .attention import (  # noqa: F401
    attention,
    attention_varlen,
    attention_backward,
    attention_varlen_backward,
)

__all__ = [
    "FORMATS",
    "mitchell_multiply",
    "mitchell_divide",
    "mitchell_matmul",
    "randomized_svd",
]
