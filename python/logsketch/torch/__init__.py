"""logsketch for PyTorch: differentiable operators and nn modules.

    import logsketch.torch as lt
    out = lt.attention(q, k, v, causal=True)            # differentiable in q, k, v
    y = lt.mitchell_matmul(a, b, backward="mitchell")   # or backward="exact"
    z = lt.jl_project(x, 64, seed=0)                    # differentiable in x
    lt.EntropyInvariantAttention(...), lt.MitchellLinear(...), lt.JLProjection(...)

The operators are ``torch.library`` custom ops (``torch.ops.logsketch.*``)
with fake (meta) implementations and autograd formulas, so
``torch.compile(fullgraph=True)``, ``torch.export`` and
``torch.library.opcheck`` work with them.  Torch tensors in, torch tensors
out, on the inputs' device and in their dtype.  See docs/torch.md.

Needs torch >= 2.4 (the ``logsketch[torch]`` extra).  ``import logsketch``
alone never imports torch.
"""

from __future__ import annotations

MIN_TORCH = (2, 4)


def _check_torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError("logsketch.torch needs PyTorch >= 2.4, which is not installed; install the extra: "
                          "pip install 'logsketch[torch]'") from exc
    version = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2] if p.isdigit())
    if version < MIN_TORCH:
        raise ImportError(f"logsketch.torch needs PyTorch >= 2.4; found {torch.__version__}: upgrade it, or "
                          "install the extra: pip install 'logsketch[torch]'")


_check_torch()

from ._ops import attention, attention_varlen, jl_project, mitchell_matmul  # noqa: E402
from .nn import EntropyInvariantAttention, JLProjection, MitchellLinear  # noqa: E402

__all__ = [
    "attention",
    "attention_varlen",
    "EntropyInvariantAttention",
    "jl_project",
    "JLProjection",
    "mitchell_matmul",
    "MitchellLinear",
]
