"""The CUDA units logsketch compiles, in one table.

tools/generate_cuda_units.py turns this table into the per-instantiation
sources under cuda/attention/instantiations/, the header through which the
launcher dispatches to them, and the Python module that tells the package
which head dims and dtypes the GPU attention supports.  Change the table, run
the generator, commit what it writes (tests/test_generated_units.py checks
that the committed files match).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttentionDtype:
    name: str       # the dtype's name in Python (numpy / torch spelling)
    cuda_type: str  # the CUDA element type the kernel is instantiated for
    tag: str        # the short name in file names
    enum: str       # the logsketch::Dtype enumerator


# Head dims of the attention forward kernel: multiples of 16 in [32, 128]
# (the kernel's static_assert), one instantiation each per dtype and causality.
ATTENTION_HEAD_DIMS = (32, 64, 96, 128)

ATTENTION_DTYPES = (
    AttentionDtype("float16", "__half", "fp16", "float16"),
    AttentionDtype("bfloat16", "__nv_bfloat16", "bf16", "bfloat16"),
)

ATTENTION_CAUSAL = (False, True)
