"""The checked description of an attention call, shared by every backend."""

from __future__ import annotations

import math
from typing import NamedTuple

from .._validate import check_bool, check_real

MAX_HEAD_DIM = 256
MAX_SEQ = 2**31 - 1  # sequence positions index int32 lanes in the float kernels


class Spec(NamedTuple):
    causal: bool
    return_lse: bool
    scale: object  # "entropy", "standard" or a float
    base: float
    min_scale: object  # None or a float


def check_base(base):
    base = check_real(base, "base", what="a real number > 1")
    if not base > 1:
        raise ValueError(f"base must be a finite float > 1; got {base!r}")
    return base


def check_min_scale(min_scale):
    return check_real(min_scale, "min_scale", what="None or a real number", allow_none=True)


def check_scale(scale):
    if isinstance(scale, str):
        if scale not in ("entropy", "standard"):
            raise ValueError(f"scale must be 'entropy', 'standard' or a float; got {scale!r}")
        return scale
    return check_real(scale, "scale", what="'entropy', 'standard' or a float")


_SPECS = {}  # the checked Specs of recent option values, keyed with their types: a call's options rarely change


def spec(causal, scale, base, min_scale, return_lse):
    """The :class:`Spec` of the options of attention() and attention_varlen()."""
    key = (causal, return_lse, scale, base, min_scale, type(causal), type(return_lse), type(scale), type(base),
           type(min_scale))
    try:
        return _SPECS[key]
    except (KeyError, TypeError):  # TypeError: an unhashable option, checked below
        pass
    s = Spec(check_bool(causal, "causal"), check_bool(return_lse, "return_lse"), check_scale(scale),
             check_base(base), check_min_scale(min_scale))
    if len(_SPECS) > 64:
        _SPECS.clear()
    _SPECS[key] = s
    return s


def scale_of(spec, d):
    """(entropy, log_base, min_factor, constant) as the kernels take them."""
    min_factor = -math.inf if spec.min_scale is None else spec.min_scale
    if spec.scale == "entropy":
        return True, math.log(spec.base), min_factor, 0.0
    value = 1 / math.sqrt(d) if spec.scale == "standard" else spec.scale
    return False, math.log(spec.base), min_factor, value


def _check_head_dims(d, dv):
    if 1 <= d <= MAX_HEAD_DIM and 1 <= dv <= MAX_HEAD_DIM:
        return
    for name, x in (("head_dim of q and k", d), ("head_dim of v", dv)):
        if not 1 <= x <= MAX_HEAD_DIM:
            raise ValueError(f"{name} must be in [1, {MAX_HEAD_DIM}]; got {x}")


def _check_heads(qs, ks):
    if ks[1] < 1 or qs[1] % ks[1]:
        raise ValueError(f"heads_q must be a positive multiple of heads_kv; got heads_q={qs[1]}, heads_kv={ks[1]}")


def check_shapes(qs, ks, vs):
    """The shape rules of attention(), on plain tuples (numpy or CUDA arrays)."""
    if len(qs) != 4 or len(ks) != 4 or len(vs) != 4:
        name, s = next((n, s) for n, s in (("q", qs), ("k", ks), ("v", vs)) if len(s) != 4)
        raise ValueError(f"{name} must have shape (batch, heads, seq, head_dim); got {s}")
    if ks[0] != qs[0] or vs[0] != qs[0]:
        raise ValueError(f"q, k and v must have the same batch size; got {qs[0]}, {ks[0]}, {vs[0]}")
    if vs[1] != ks[1] or vs[2] != ks[2]:
        raise ValueError(f"v must have k's heads and seq_k (the same number of heads and the same sequence "
                         f"length); got k {ks}, v {vs}")
    if ks[3] != qs[3]:
        raise ValueError(f"k must have q's head_dim; got q {qs}, k {ks}")
    _check_heads(qs, ks)
    _check_head_dims(qs[3], vs[3])
    if qs[2] > MAX_SEQ or ks[2] > MAX_SEQ:
        raise ValueError("seq_q and seq_k must be < 2**31")


def check_varlen_shapes(qs, ks, vs):
    """The shape rules of attention_varlen()."""
    for name, s in (("q", qs), ("k", ks), ("v", vs)):
        if len(s) != 3:
            raise ValueError(f"{name} must have shape (total, heads, head_dim) in varlen mode; got {s}")
    if vs[0] != ks[0] or vs[1] != ks[1]:
        raise ValueError(f"v must have k's tokens and heads (the same number of rows and the same number of "
                         f"heads); got k {ks}, v {vs}")
    if ks[2] != qs[2]:
        raise ValueError(f"k must have q's head_dim; got q {qs}, k {ks}")
    _check_heads(qs, ks)
    _check_head_dims(qs[2], vs[2])


def shape_of(x, name):
    shape = getattr(x, "shape", None)
    if shape is None:
        raise TypeError(f"{name} must be an array; got {type(x).__name__}")
    return tuple(int(s) for s in shape)
