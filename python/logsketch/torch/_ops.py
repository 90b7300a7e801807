"""The logsketch operators as torch.library custom ops, with fake (meta)
implementations for tracing and autograd formulas.

Each op takes and returns torch tensors on one device.  CPU tensors reach the
numpy API as numpy views of their memory (``Tensor.numpy()``: no copy for the
layouts the kernels read in place, the (batch, seq, heads, d) ``transpose(1, 2)``
view of attention included); the numpy results come back as tensors that
share their memory (``torch.from_numpy``).  CUDA tensors go to logsketch's
CUDA path as they are and come back as torch tensors.
"""

from __future__ import annotations

import math
import numbers
from typing import Optional

import numpy as np
import torch
import torch.autograd.forward_ad as _forward_ad
import torch.nn.functional as F
from torch import Tensor
from torch._C._functorch import TransformType
from torch._functorch.pyfunctorch import retrieve_all_functorch_interpreters

import logsketch
from logsketch.attention import _cpu as _attention_cpu
from logsketch.attention._spec import check_shapes, check_varlen_shapes, spec
from logsketch.jl._spec import KINDS

__all__ = ["attention", "attention_varlen", "jl_project", "mitchell_matmul"]

_CPU_DTYPES = (torch.float16, torch.float32, torch.float64)
_CUDA_DTYPES = _CPU_DTYPES + (torch.bfloat16,)
_INDEX_DTYPES = (torch.int32, torch.int64)
_MITCHELL_BACKWARDS = ("mitchell", "exact")

# How the CPU computes the attention gradient: "fused" (logsketch's flash-style
# backward kernel) or "sdpa" (the CUDA path's torch SDPA backward on q scaled
# by lambda_i, run on the CPU: for tests of that path).  CUDA always uses "sdpa".
CPU_ATTENTION_BACKWARD = "fused"


# --------------------------------------------------------------------------- tensors <-> arrays


def _array(t):
    """A CPU tensor as a numpy view of its memory; a CUDA tensor as itself."""
    if t is None:
        return None
    if t.requires_grad:
        t = t.detach()
    return t if t.is_cuda else t.numpy()


def _tensor(x, like):
    """A numpy result as a tensor sharing its memory (a CUDA result as it is),
    in the dtype of ``like`` (a tensor or a dtype: the numpy API widens float16 in places)."""
    t = torch.from_numpy(x) if type(x) is np.ndarray else x
    dtype = like if isinstance(like, torch.dtype) else like.dtype
    return t if t.dtype == dtype else t.to(dtype)


def _lse_dtype(dtype):
    return torch.float64 if dtype == torch.float64 else torch.float32


# --------------------------------------------------------------------------- the eager fast path


_is_wrapped = torch._C._functorch.is_functorch_wrapped_tensor
_functorch_level = torch._C._functorch.maybe_current_level
_dispatch_modes = torch._C._len_torch_dispatch_stack
_function_mode = torch._C._is_torch_function_mode_enabled
_is_compiling = torch.compiler.is_compiling
_jit_tracing = torch._C._get_tracing_state
_grad_enabled = torch.is_grad_enabled


def _dual_level():
    """The forward-mode AD level in effect (-1: none): dual tensors are plain tensors, so it is checked apart."""
    return _forward_ad._current_level


def _refuse_forward_ad(name, *tensors):
    """NotImplementedError under forward-mode AD (torch.func.jvp, torch.autograd.forward_ad): these ops
    have reverse-mode rules only, and torch would otherwise carry on with the tangents dropped."""
    if _is_compiling():
        return
    jvp = any(i.key() == TransformType.Jvp for i in retrieve_all_functorch_interpreters())
    if not jvp and _dual_level() >= 0:
        jvp = any(t is not None and _forward_ad.unpack_dual(t).tangent is not None for t in tensors)
    if jvp:
        raise NotImplementedError(f"logsketch.torch.{name} has no forward-mode derivative (torch.func.jvp, "
                                  "torch.autograd.forward_ad); use reverse mode: loss.backward() or torch.autograd.grad")


def _plain(*tensors):
    """True where the op's implementation may be called directly, skipping the
    dispatcher (~tens of us a call): plain CPU tensors that need no gradient,
    outside compilation, tracing (torch.jit.trace included), dispatch/function
    modes and functorch transforms.  Anything else goes through the registered op."""
    if _is_compiling() or _dispatch_modes() or _function_mode() or _jit_tracing() or _dual_level() >= 0:
        return False
    grad = torch.is_grad_enabled()
    for t in tensors:
        if t is None:
            continue
        if type(t) is not Tensor or not t.is_cpu or (grad and t.requires_grad) or _is_wrapped(t):
            return False
    return True


def _eager(a, b=None, c=None):
    """True where an eager call may run the CPU kernels on numpy views of its
    tensors (``Tensor.numpy()``, which grad mode off allows on tensors that
    require grad), checking no more than its dtypes itself: ``a``
    (and ``b``, ``c``) plain CPU tensors that need no gradient (none requires
    grad, or grad mode is off), outside compilation, tracing, dispatch/function
    modes and functorch transforms (vmap, grad: inside one every call goes to
    the op).  What it refuses takes the checked path."""
    if _is_compiling() or _dispatch_modes() or _function_mode() or _jit_tracing() or _functorch_level() is not None \
            or _dual_level() >= 0:
        return False
    grad = _grad_enabled()
    if type(a) is not Tensor or not a.is_cpu or (grad and a.requires_grad):
        return False
    if b is not None and (type(b) is not Tensor or not b.is_cpu or (grad and b.requires_grad)):
        return False
    return c is None or (type(c) is Tensor and c.is_cpu and not (grad and c.requires_grad))


def _eager_index(x):
    """True for an int32/int64 plain CPU tensor (the rest as :func:`_eager`, checked before)."""
    return type(x) is Tensor and x.is_cpu and x.dtype in _INDEX_DTYPES


def _from_numpy(x, dtype):
    """A numpy result as a tensor sharing its memory, in ``dtype``."""
    t = torch.from_numpy(x)
    return t if t.dtype is dtype else t.to(dtype)


def _direct(op):
    """The Python implementation a custom op was defined with."""
    return getattr(op, "_init_fn", op)


# --------------------------------------------------------------------------- argument checks


def _check_float(x, name, device=None, dtype=None):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if device is not None and x.device != device:
        raise ValueError(f"{name} must be on the same device as the first input ({device}); got {x.device}")
    if x.dtype not in (_CUDA_DTYPES if x.is_cuda else _CPU_DTYPES):
        hint = " (the CPU kernels take no bfloat16: convert to float32)" if x.dtype == torch.bfloat16 else ""
        raise TypeError(f"{name} must be a float16, float32 or float64 tensor{hint}; got {x.dtype}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name} must have the dtype of the first input ({dtype}); got {x.dtype}")


def _check_index(x, name, device):
    if x is None:
        return None
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be an int32 or int64 torch.Tensor; got {type(x).__name__}")
    if x.dtype not in _INDEX_DTYPES:
        raise TypeError(f"{name} must be an int32 or int64 tensor; got {x.dtype}")
    if x.device.type != device.type:
        raise ValueError(f"{name} must be on {device.type} like q; got {x.device}")
    return x


def _check_int(x, name, low=0):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(x).__name__}")
    if x < low:
        raise ValueError(f"{name} must be >= {low}; got {x}")
    return int(x)


def _check_qkv(q, k, v):
    _check_float(q, "q")
    cpu = q.is_cpu and isinstance(k, Tensor) and k.is_cpu and isinstance(v, Tensor) and v.is_cpu
    device = None if cpu else q.device  # one CPU: no device objects to compare
    _check_float(k, "k", device, q.dtype)
    _check_float(v, "v", device, q.dtype)


def _scale_args(scale, base, min_scale):
    """(scale name, scale value, base, min_scale) as the ops' schema types;
    the values themselves are checked by the op (and its fake)."""
    if isinstance(scale, str):
        name, value = scale, 0.0
    else:
        name, value = "value", _float(scale, "scale", "'entropy', 'standard' or a float")
    base = _float(base, "base", "a real number > 1")
    if min_scale is not None:
        min_scale = _float(min_scale, "min_scale", "None or a real number")
    return name, value, base, min_scale


def _float(x, name, what):
    if isinstance(x, (bool, str)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be {what}; got {type(x).__name__}")
    return float(x)


def _scale_option(scale, value):
    return value if scale == "value" else scale


_NUMPY_SPECS = {}  # the Specs of recent option values, keyed with their types: a call's options rarely change


def _numpy_spec(causal, scale, base, min_scale, return_lse):
    """The checked options (:func:`logsketch.attention._spec.spec`) that the
    numpy API receives from the op for these arguments: converted as the
    public functions convert them for the op's schema."""
    key = (causal, scale, base, min_scale, return_lse, type(causal), type(scale), type(base), type(min_scale),
           type(return_lse))
    try:
        return _NUMPY_SPECS[key]
    except (KeyError, TypeError):  # TypeError: an unhashable option, converted and checked below
        pass
    scale, value, base, min_scale = _scale_args(scale, base, min_scale)
    s = spec(bool(causal), _scale_option(scale, value), base, min_scale, bool(return_lse))
    if len(_NUMPY_SPECS) > 64:
        _NUMPY_SPECS.clear()
    _NUMPY_SPECS[key] = s
    return s


def _check_options(causal, scale, value, base, min_scale):
    spec(causal, _scale_option(scale, value), base, min_scale, True)


# --------------------------------------------------------------------------- attention: forward


@torch.library.custom_op("logsketch::attention", mutates_args=())
def _attention_op(q: Tensor, k: Tensor, v: Tensor, kv_lengths: Optional[Tensor], causal: bool, scale: str,
                  scale_value: float, base: float, min_scale: Optional[float]) -> tuple[Tensor, Tensor]:
    out, lse = logsketch.attention(_array(q), _array(k), _array(v), causal=causal,
                                   scale=_scale_option(scale, scale_value), base=base, min_scale=min_scale,
                                   kv_lengths=_array(kv_lengths), return_lse=True)
    return _tensor(out, q), _tensor(lse, _lse_dtype(q.dtype))


@_attention_op.register_fake
def _(q, k, v, kv_lengths, causal, scale, scale_value, base, min_scale):
    check_shapes(tuple(q.shape), tuple(k.shape), tuple(v.shape))
    _check_options(causal, scale, scale_value, base, min_scale)
    batch, heads, seq_q, _ = q.shape
    out = q.new_empty((batch, heads, seq_q, v.shape[3]))
    return out, q.new_empty((batch, heads, seq_q), dtype=_lse_dtype(q.dtype))


@torch.library.custom_op("logsketch::attention_backward", mutates_args=())
def _attention_backward_op(dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor,
                           kv_lengths: Optional[Tensor], causal: bool, scale: str, scale_value: float, base: float,
                           min_scale: Optional[float]) -> tuple[Tensor, Tensor, Tensor]:
    grads = logsketch.attention_backward(
        _array(dout), _array(q), _array(k), _array(v), _array(out), _array(lse), causal=causal,
        scale=_scale_option(scale, scale_value), base=base, min_scale=min_scale, kv_lengths=_array(kv_lengths))
    return tuple(_tensor(g, x).contiguous() for g, x in zip(grads, (q, k, v)))


@_attention_backward_op.register_fake
def _(dout, q, k, v, out, lse, kv_lengths, causal, scale, scale_value, base, min_scale):
    return q.new_empty(q.shape), k.new_empty(k.shape), v.new_empty(v.shape)  # contiguous, as the kernel's


def _attention_setup(ctx, inputs, output):
    q, k, v, kv_lengths, causal, scale, scale_value, base, min_scale = inputs
    out, lse = output
    ctx.save_for_backward(q, k, v, out, lse, kv_lengths)
    ctx.options = (causal, scale, scale_value, base, min_scale)
    ctx.mark_non_differentiable(lse)


def _fused(q):
    """True where the fused CPU backward computes the attention gradient."""
    return q.device.type == "cpu" and CPU_ATTENTION_BACKWARD == "fused"


def _attention_grad(ctx, dout, dlse):
    q, k, v, out, lse, kv_lengths = ctx.saved_tensors
    if _fused(q):
        dq, dk, dv = _attention_backward_op(dout, q, k, v, out, lse, kv_lengths, *ctx.options)
    else:
        dq, dk, dv = _sdpa_backward(dout, q, k, v, kv_lengths, *ctx.options)
    return dq, dk, dv, None, None, None, None, None, None


_attention_op.register_autograd(_attention_grad, setup_context=_attention_setup)


# --------------------------------------------------------------------------- attention: the SDPA backward


def _visible_and_scale(batch, seq_q, seq_k, kv_lengths, head_dim, causal, scale, scale_value, base, min_scale,
                       device):
    """The keys each row sees (bool, (B', 1, seq_q, seq_k)), lambda_i (float64,
    (B', 1, seq_q, 1)) and whether the row sees any key; B' is batch with
    kv_lengths, else 1.  The definition is logsketch.attention's."""
    rows = torch.arange(seq_q, device=device).view(1, 1, -1, 1)
    cols = torch.arange(seq_k, device=device).view(1, 1, 1, -1)
    if kv_lengths is None:
        length = torch.full((1, 1, 1, 1), seq_k, dtype=torch.int64, device=device)
    else:
        length = kv_lengths.to(device=device, dtype=torch.int64).view(-1, 1, 1, 1)
    visible = cols < length
    if causal:
        visible = visible & (cols <= rows + length - seq_q)
    n = visible.sum(-1, keepdim=True)
    if scale == "entropy":
        factor = torch.log(n.clamp(min=1).double()) / math.log(base)
        if min_scale is not None:
            factor = factor.clamp(min=min_scale)
        lam = factor / math.sqrt(head_dim)
    else:
        value = 1 / math.sqrt(head_dim) if scale == "standard" else scale_value
        lam = torch.full(n.shape, value, dtype=torch.float64, device=device)
    return visible, lam, n > 0


def _sdpa_backward(dout, q, k, v, kv_lengths, causal, scale, scale_value, base, min_scale):
    """The attention gradient through torch's scaled_dot_product_attention on
    q * lambda_i with scale 1: softmax((lambda_i q_i) K^T) V is the same function."""
    batch, heads_q, seq_q, head_dim = q.shape
    heads_kv, seq_k = k.shape[1], k.shape[2]
    visible, lam, sees = _visible_and_scale(batch, seq_q, seq_k, kv_lengths, head_dim, causal, scale, scale_value,
                                            base, min_scale, q.device)
    plain = kv_lengths is None and (not causal or bool(seq_q == seq_k))  # SDPA's own masks: its fast kernels
    group = heads_q // max(heads_kv, 1)
    mask = None if plain else visible | ~sees  # a row that sees no key: any softmax, its gradient zeroed

    def sdpa(q, k, v):
        if group > 1:
            k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        return F.scaled_dot_product_attention(q * lam.to(q.dtype), k, v, attn_mask=mask,
                                              is_causal=plain and causal, scale=1.0)

    _, vjp = torch.func.vjp(sdpa, q, k, v)
    return vjp(dout if plain else dout * sees.to(dout.dtype))


# --------------------------------------------------------------------------- attention: varlen


@torch.library.custom_op("logsketch::attention_varlen", mutates_args=())
def _attention_varlen_op(q: Tensor, k: Tensor, v: Tensor, cu_seqlens_q: Tensor, cu_seqlens_k: Tensor,
                         causal: bool, scale: str, scale_value: float, base: float,
                         min_scale: Optional[float]) -> tuple[Tensor, Tensor]:
    out, lse = logsketch.attention_varlen(_array(q), _array(k), _array(v), _array(cu_seqlens_q),
                                          _array(cu_seqlens_k), causal=causal,
                                          scale=_scale_option(scale, scale_value), base=base, min_scale=min_scale,
                                          return_lse=True)
    return _tensor(out, q), _tensor(lse, _lse_dtype(q.dtype))


@_attention_varlen_op.register_fake
def _(q, k, v, cu_seqlens_q, cu_seqlens_k, causal, scale, scale_value, base, min_scale):
    check_varlen_shapes(tuple(q.shape), tuple(k.shape), tuple(v.shape))
    _check_options(causal, scale, scale_value, base, min_scale)
    total_q, heads, _ = q.shape
    out = q.new_empty((total_q, heads, v.shape[2]))
    return out, q.new_empty((heads, total_q), dtype=_lse_dtype(q.dtype))


@torch.library.custom_op("logsketch::attention_varlen_backward", mutates_args=())
def _attention_varlen_backward_op(dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor,
                                  cu_seqlens_q: Tensor, cu_seqlens_k: Tensor, causal: bool, scale: str,
                                  scale_value: float, base: float,
                                  min_scale: Optional[float]) -> tuple[Tensor, Tensor, Tensor]:
    grads = logsketch.attention_varlen_backward(
        _array(dout), _array(q), _array(k), _array(v), _array(out), _array(lse), _array(cu_seqlens_q),
        _array(cu_seqlens_k), causal=causal, scale=_scale_option(scale, scale_value), base=base,
        min_scale=min_scale)
    return tuple(_tensor(g, x).contiguous() for g, x in zip(grads, (q, k, v)))


def _sdpa_varlen_backward(dout, q, k, v, cu_seqlens_q, cu_seqlens_k, causal, scale, scale_value, base,
                          min_scale):
    """The varlen gradient as :func:`_sdpa_backward` per sequence."""
    parts = ([], [], [])
    for (q0, q1), (k0, k1) in zip(_spans(cu_seqlens_q), _spans(cu_seqlens_k)):
        if q1 == q0 or k1 == k0:  # no query, or rows that see no key: zero gradients
            grads = (torch.zeros_like(q[q0:q1]), torch.zeros_like(k[k0:k1]), torch.zeros_like(v[k0:k1]))
        else:
            seq = (x.transpose(0, 1).unsqueeze(0) for x in (dout[q0:q1], q[q0:q1], k[k0:k1], v[k0:k1]))
            grads = (g[0].transpose(0, 1) for g in
                     _sdpa_backward(*seq, None, causal, scale, scale_value, base, min_scale))
        for part, g in zip(parts, grads):
            part.append(g)
    return tuple(torch.cat(part) if part else torch.zeros_like(x) for part, x in zip(parts, (q, k, v)))


def _spans(cu):
    bounds = cu.tolist()
    return list(zip(bounds[:-1], bounds[1:]))


@_attention_varlen_backward_op.register_fake
def _(dout, q, k, v, out, lse, cu_seqlens_q, cu_seqlens_k, causal, scale, scale_value, base, min_scale):
    return q.new_empty(q.shape), k.new_empty(k.shape), v.new_empty(v.shape)  # contiguous, as the kernel's


def _attention_varlen_setup(ctx, inputs, output):
    q, k, v, cu_seqlens_q, cu_seqlens_k, causal, scale, scale_value, base, min_scale = inputs
    out, lse = output
    ctx.save_for_backward(q, k, v, out, lse, cu_seqlens_q, cu_seqlens_k)
    ctx.options = (causal, scale, scale_value, base, min_scale)
    ctx.mark_non_differentiable(lse)


def _attention_varlen_grad(ctx, dout, dlse):
    q, k, v, out, lse, cu_q, cu_k = ctx.saved_tensors
    if _fused(q):
        dq, dk, dv = _attention_varlen_backward_op(dout, q, k, v, out, lse, cu_q, cu_k, *ctx.options)
    else:
        dq, dk, dv = _sdpa_varlen_backward(dout, q, k, v, cu_q, cu_k, *ctx.options)
    return dq, dk, dv, None, None, None, None, None, None, None


_attention_varlen_op.register_autograd(_attention_varlen_grad, setup_context=_attention_varlen_setup)


# --------------------------------------------------------------------------- attention: public functions


def attention(q, k, v, causal=False, scale="entropy", base=512, min_scale=None, kv_lengths=None,
              return_lse=False):
    """Entropy-invariant attention on torch tensors, differentiable in q, k and v.

    softmax(lambda_i q_i K^T) V with lambda_i = log_base(n_i) / sqrt(d) (the
    definition, shapes, causal alignment, GQA, kv_lengths and dtypes of
    :func:`logsketch.attention`).  q (batch, heads_q, seq_q, d), k and v
    (batch, heads_kv, seq_k, d / d_v), one device and dtype; any strides with
    a contiguous last dimension are read without a copy on the CPU, so a
    (batch, seq, heads, d) tensor passed as ``x.transpose(1, 2)`` costs none.
    Returns out (batch, heads_q, seq_q, d_v) in q's dtype, and with
    ``return_lse=True`` also lse (batch, heads_q, seq_q), float32 (float64
    for float64 inputs).  lse is not differentiable.

    Gradients: on the CPU, logsketch's fused flash-style backward (P
    recomputed from lse, dS = P * (dP - rowsum(dO * O)), lambda_i folded in,
    GQA reduced over the group).  On CUDA the backward is torch's own
    ``scaled_dot_product_attention`` backward on q pre-scaled by lambda_i with
    scale 1: softmax((lambda_i q_i) K^T) V is mathematically the same op, so
    its gradients are those of this one (rows that see no key get zero).

    Raises TypeError for non-tensors, non-float dtypes, dtypes that differ
    from q's, non-integer kv_lengths; ValueError for another device than q's
    and for the shape and option errors of :func:`logsketch.attention`.
    """
    if _eager(q, k, v) and (kv_lengths is None or _eager_index(kv_lengths)):
        dtype = q.dtype
        if dtype in _CPU_DTYPES and k.dtype is dtype and v.dtype is dtype:
            s = _numpy_spec(causal, scale, base, min_scale, return_lse)
            result = _attention_cpu.attention(q.numpy(), k.numpy(), v.numpy(),
                                              None if kv_lengths is None else kv_lengths.numpy(), s)
            if not return_lse:
                return _from_numpy(result, dtype)
            return _from_numpy(result[0], dtype), _from_numpy(result[1], _lse_dtype(dtype))
    _check_qkv(q, k, v)
    kv_lengths = _check_index(kv_lengths, "kv_lengths", q.device)
    scale, value, base, min_scale = _scale_args(scale, base, min_scale)
    _refuse_forward_ad("attention", q, k, v)
    if _plain(q, k, v, kv_lengths):
        if not return_lse:  # no gradient to come: lse is not needed
            out = logsketch.attention(q.numpy(), k.numpy(), v.numpy(), causal=bool(causal),
                                      scale=_scale_option(scale, value), base=base, min_scale=min_scale,
                                      kv_lengths=_array(kv_lengths))
            return _tensor(out, q)
        op = _direct(_attention_op)
    else:
        op = _attention_op
    out, lse = op(q, k, v, kv_lengths, bool(causal), scale, value, base, min_scale)
    return (out, lse) if return_lse else out


def attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, causal=False,
                     scale="entropy", base=512, min_scale=None, return_lse=False):
    """Attention over packed variable-length sequences, differentiable in q, k and v.

    flash-attn's varlen layout, as :func:`logsketch.attention_varlen`: q
    (total_q, heads_q, d), k (total_k, heads_kv, d), v (total_k, heads_kv,
    d_v), int32/int64 ``cu_seqlens_q``/``cu_seqlens_k`` (batch + 1 offsets)
    on the device of q.  ``max_seqlen_q``/``max_seqlen_k`` (ints, as flash-attn
    takes them) are checked to be ints >= 0 and otherwise unused: the kernels
    read the lengths from the offsets.  Returns out (total_q, heads_q, d_v)
    and with ``return_lse=True`` lse (heads_q, total_q), not differentiable.
    Gradients as :func:`attention` (the CPU's fused varlen backward; torch
    SDPA per sequence on CUDA).
    """
    if _eager(q, k, v) and _eager_index(cu_seqlens_q) and _eager_index(cu_seqlens_k) \
            and type(max_seqlen_q) is int and max_seqlen_q >= 0 and type(max_seqlen_k) is int and max_seqlen_k >= 0:
        dtype = q.dtype
        if dtype in _CPU_DTYPES and k.dtype is dtype and v.dtype is dtype:
            s = _numpy_spec(causal, scale, base, min_scale, return_lse)
            cu_q = cu_seqlens_q.numpy()
            cu_k = cu_q if cu_seqlens_k is cu_seqlens_q else cu_seqlens_k.numpy()  # self-attention: one view
            result = _attention_cpu.attention_varlen(q.numpy(), k.numpy(), v.numpy(), cu_q, cu_k, s)
            if not return_lse:
                return _from_numpy(result, dtype)
            return _from_numpy(result[0], dtype), _from_numpy(result[1], _lse_dtype(dtype))
    _check_qkv(q, k, v)
    cu_q = _check_index(cu_seqlens_q, "cu_seqlens_q", q.device)
    cu_k = _check_index(cu_seqlens_k, "cu_seqlens_k", q.device)
    if cu_q is None or cu_k is None:
        raise TypeError("cu_seqlens_q and cu_seqlens_k must be int32 or int64 tensors; got None")
    _check_int(max_seqlen_q, "max_seqlen_q")
    _check_int(max_seqlen_k, "max_seqlen_k")
    scale, value, base, min_scale = _scale_args(scale, base, min_scale)
    _refuse_forward_ad("attention_varlen", q, k, v)
    op = _direct(_attention_varlen_op) if _plain(q, k, v, cu_q, cu_k) else _attention_varlen_op
    out, lse = op(q, k, v, cu_q, cu_k, bool(causal), scale, value, base, min_scale)
    return (out, lse) if return_lse else out


# --------------------------------------------------------------------------- Mitchell matmul


@torch.library.custom_op("logsketch::mitchell_matmul", mutates_args=())
def _mitchell_matmul_op(a: Tensor, b: Tensor, compensated: bool, backward: str) -> Tensor:
    if a.is_cpu:
        return _mitchell_cpu(_array(a), _array(b), compensated, a.dtype)
    return _tensor(logsketch.mitchell_matmul(_array(a), _array(b), compensated=compensated), a)


_HUGE_PAGE_BYTES = 1 << 22


def _mitchell_cpu(x, y, compensated, dtype):
    """mitchell_matmul of two numpy views, into a tensor torch allocated.  Not into numpy's
    allocation: numpy asks for transparent huge pages on large arrays, and in a process that
    holds torch (hundreds of MB mapped) the first touch of such an output often costs several
    times the product itself (a 64 MiB weight gradient: 55 ms or 200+ ms, at random).  numpy
    asks only from 4 MiB on; smaller results skip the cost of ``out=``'s checks."""
    # The result's elements (a lower bound where both batch shapes broadcast), without the shape checks.
    elements = x.shape[-2] * y.shape[-1] * max(math.prod(x.shape[:-2]), math.prod(y.shape[:-2]))
    if elements * x.itemsize < _HUGE_PAGE_BYTES:
        return _from_numpy(logsketch.mitchell_matmul(x, y, compensated=compensated), dtype)
    try:
        shape = _matmul_shape(x.shape, y.shape)
    except ValueError:  # the numpy API raises its own error
        return _from_numpy(logsketch.mitchell_matmul(x, y, compensated=compensated), dtype)
    out = torch.empty(shape, dtype=dtype)
    logsketch.mitchell_matmul(x, y, compensated=compensated, out=out.numpy())
    return out


def _matmul_shape(a_shape, b_shape):
    if a_shape[-1] != b_shape[-2]:
        raise ValueError(f"the inner dimensions of a and b must match; got a {tuple(a_shape)}, b {tuple(b_shape)}")
    try:
        batch = torch.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2]))
    except RuntimeError:
        raise ValueError(f"the batch dimensions of a and b must broadcast; got a {tuple(a_shape)}, "
                         f"b {tuple(b_shape)}") from None
    return (*batch, a_shape[-2], b_shape[-1])


@_mitchell_matmul_op.register_fake
def _(a, b, compensated, backward):
    return a.new_empty(_matmul_shape(a.shape, b.shape))


def _mitchell_setup(ctx, inputs, output):
    a, b, compensated, backward = inputs
    ctx.save_for_backward(a, b)
    ctx.options = (compensated, backward)


def _mitchell_grad(ctx, grad):
    a, b = ctx.saved_tensors
    compensated, backward = ctx.options
    if backward == "mitchell":
        def product(x, y):
            return _mitchell_matmul_op(x, y, compensated, backward)
    else:
        product = torch.matmul
    grad_a = grad_b = None
    if ctx.needs_input_grad[0]:
        grad_a = _in_layout_of(a, product, grad, b.mT)
    if ctx.needs_input_grad[1]:
        grad_b = _in_layout_of(b, product, a.mT, grad)
    return grad_a, grad_b, None, None


def _in_layout_of(x, product, left, right):
    """product(left, right) summed to x's shape, computed as product(right^T, left^T)^T when x is a
    transposed matrix (a Linear's W^T): the gradient then has x's layout and the parameter's gradient
    needs no copy.  The same bits: each entry sums the same (symmetric) products in the same order."""
    if x.dim() == 2 and left.dim() == 2 and right.dim() == 2 and x.stride(0) == 1 and x.stride(1) == x.shape[0] \
            and x.shape[0] > 1:
        return product(right.mT, left.mT).mT
    return product(left, right).sum_to_size(x.shape)


_mitchell_matmul_op.register_autograd(_mitchell_grad, setup_context=_mitchell_setup)


def mitchell_matmul(a, b, compensated=False, backward="mitchell"):
    """Mitchell's approximate matmul on torch tensors, differentiable in a and b.

    The product of :func:`logsketch.mitchell_matmul` (every multiply
    Mitchell's, sums in float32 / float64), with torch.matmul's shape rules:
    1-D operands promoted and the dimension removed, batch dimensions
    broadcast.  a and b one float dtype on one device.

    Gradients of C = A (x) B, G = dL/dC:

    - ``backward="mitchell"`` (ApproxTrain, PAM): grad_a = G (x) B^T and
      grad_b = A^T (x) G with the same Mitchell product (and ``compensated``);
      every multiply of training is then Mitchell's.
    - ``backward="exact"``: grad_a = G B^T, grad_b = A^T G with ordinary
      matmuls (a straight-through estimator: the gradient of the exact product).

    Raises TypeError for non-tensors, non-float or differing dtypes, a
    non-bool ``compensated``; ValueError for 0-d operands, inner or batch
    dimensions that do not match, another device, an unknown ``backward``.
    """
    if _eager(a, b):
        dtype = a.dtype
        if dtype in _CPU_DTYPES and b.dtype is dtype and (compensated is False or compensated is True) \
                and backward in _MITCHELL_BACKWARDS:
            x, y = a.numpy(), b.numpy()
            if x.ndim >= 2 and y.ndim >= 2:
                return _mitchell_cpu(x, y, compensated, dtype)
            if x.ndim and y.ndim:  # a 1-D operand promoted to a matrix, the added dimension removed after
                c = logsketch.mitchell_matmul(x[np.newaxis] if x.ndim == 1 else x,
                                              y[:, np.newaxis] if y.ndim == 1 else y, compensated=compensated)
                if y.ndim == 1:
                    c = c[..., 0]
                if x.ndim == 1:
                    c = c[..., 0, :] if y.ndim > 1 else c[..., 0]
                return _from_numpy(c, dtype)
    _check_float(a, "a")
    _check_float(b, "b", a.device, a.dtype)
    if not isinstance(compensated, (bool, np.bool_)):
        raise TypeError(f"compensated must be a bool; got {type(compensated).__name__}")
    if backward not in _MITCHELL_BACKWARDS:
        raise ValueError(f"backward must be 'mitchell' or 'exact'; got {backward!r}")
    if a.dim() == 0 or b.dim() == 0:
        raise ValueError(f"a and b must have at least one dimension; got a {tuple(a.shape)}, b {tuple(b.shape)}")
    vector_a, vector_b = a.dim() == 1, b.dim() == 1
    _refuse_forward_ad("mitchell_matmul", a, b)
    op = _direct(_mitchell_matmul_op) if _plain(a, b) else _mitchell_matmul_op
    y = op(a.unsqueeze(0) if vector_a else a, b.unsqueeze(-1) if vector_b else b, bool(compensated), backward)
    if vector_b:
        y = y.squeeze(-1)
    if vector_a:
        y = y.squeeze(-1 if vector_b else -2)  # vector @ vector: a 0-d result, as torch.matmul's
    return y


# --------------------------------------------------------------------------- JL projection


def _seed_arg(seed):
    """A seed in [0, 2**64) as the int64 of the same bits (the schema's int)."""
    seed = _check_int(seed, "seed")
    if seed >= 2**64:
        raise ValueError(f"seed must be in [0, 2**64); got {seed}")
    return seed - 2**64 if seed >= 2**63 else seed


def _seed_value(seed):
    return seed + 2**64 if seed < 0 else seed


def _density_option(density):
    return "auto" if density is None else density


@torch.library.custom_op("logsketch::jl_project", mutates_args=())
def _jl_project_op(x: Tensor, n_components: int, kind: str, density: Optional[float], seed: int) -> Tensor:
    y = logsketch.jl_project(_array(x), n_components, kind=kind, density=_density_option(density),
                             seed=_seed_value(seed))
    return _tensor(y, x)


@_jl_project_op.register_fake
def _(x, n_components, kind, density, seed):
    if x.dim() != 2:
        raise ValueError(f"x must be 2-D (n_samples, n_features); got shape {tuple(x.shape)}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}; got {kind!r}")
    return x.new_empty((x.shape[0], n_components))


@torch.library.custom_op("logsketch::jl_project_backward", mutates_args=())
def _jl_project_backward_op(grad: Tensor, n_features: int, kind: str, density: Optional[float],
                            seed: int) -> Tensor:
    """grad R: R regenerated from the seed (logsketch.jl_components), then dropped."""
    work = torch.float64 if grad.dtype == torch.float64 else torch.float32
    r = logsketch.jl_components(grad.shape[1], n_features, kind=kind, density=_density_option(density),
                                seed=_seed_value(seed), dtype=np.float64 if work == torch.float64 else np.float32)
    if grad.device.type == "cpu":
        g = grad.detach().to(work).numpy()
        result = (r.T @ g.T).T if kind == "sparse" else g @ r  # sparse R: its own product with a dense matrix
        return torch.from_numpy(np.ascontiguousarray(result)).to(grad.dtype)
    dense = r.toarray() if kind == "sparse" else r
    return (grad.detach().to(work) @ torch.from_numpy(dense).to(grad.device)).to(grad.dtype)


@_jl_project_backward_op.register_fake
def _(grad, n_features, kind, density, seed):
    return grad.new_empty((grad.shape[0], n_features))


def _jl_setup(ctx, inputs, output):
    x, n_components, kind, density, seed = inputs
    ctx.options = (x.shape[1], n_components, kind, density, seed)


def _jl_grad(ctx, grad):
    n_features, _, kind, density, seed = ctx.options
    return _jl_project_backward_op(grad, n_features, kind, density, seed), None, None, None, None


def _jl_backward_setup(ctx, inputs, output):
    grad, n_features, kind, density, seed = inputs
    ctx.options = (grad.shape[1], kind, density, seed)


def _jl_backward_grad(ctx, grad_grad):
    n_components, kind, density, seed = ctx.options
    return _jl_project_op(grad_grad, n_components, kind, density, seed), None, None, None, None


_jl_project_op.register_autograd(_jl_grad, setup_context=_jl_setup)
_jl_project_backward_op.register_autograd(_jl_backward_grad, setup_context=_jl_backward_setup)


def jl_project(x, n_components, kind="gaussian", density="auto", seed=0):
    """JL random projection ``x @ R.T`` on torch tensors, differentiable in x.

    R is :func:`logsketch.jl_components` (n_components, n_features) of the
    same kind, density and seed, generated on the fly and never stored.  x
    (..., n_features), float16/32/64; the leading dimensions are kept (a
    non-contiguous x is copied to rows first).  Returns (..., n_components)
    in x's dtype.  grad_x = grad R, with R generated again from the seed in
    the backward and dropped after it.
    """
    if _eager(x) and type(n_components) is int and n_components >= 1 and type(kind) is str \
            and type(seed) is int and 0 <= seed < 2**64:
        dtype = x.dtype
        if dtype in _CPU_DTYPES and x.dim():
            if isinstance(density, str):
                if density != "auto":
                    raise ValueError(f"density must be 'auto' or a float; got {density!r}")
            else:
                density = _float(density, "density", "'auto' or a float")
            if x.dim() == 2:
                return _from_numpy(logsketch.jl_project(x.numpy(), n_components, kind=kind, density=density,
                                                        seed=seed), dtype)
            rows = x.reshape(-1, x.shape[-1]).numpy()
            y = _from_numpy(logsketch.jl_project(rows, n_components, kind=kind, density=density, seed=seed), dtype)
            return y.view(*x.shape[:-1], n_components)
    _check_float(x, "x")
    if x.dim() == 0:
        raise ValueError("x must have at least one dimension (..., n_features)")
    n_components = _check_int(n_components, "n_components", low=1)
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a str; got {type(kind).__name__}")
    if isinstance(density, str):
        if density != "auto":
            raise ValueError(f"density must be 'auto' or a float; got {density!r}")
        density = None
    else:
        density = _float(density, "density", "'auto' or a float")
    _refuse_forward_ad("jl_project", x)
    op = _direct(_jl_project_op) if _plain(x) else _jl_project_op
    if x.dim() == 2:
        return op(x, n_components, kind, density, _seed_arg(seed))
    y = op(x.reshape(-1, x.shape[-1]), n_components, kind, density, _seed_arg(seed))
    return y.view(*x.shape[:-1], n_components)


# --------------------------------------------------------------------------- vmap rules


def _batched(x, dim, size):
    """x with its vmapped dimension first (expanded where x has none)."""
    if dim is None:
        return x.expand(size, *x.shape)
    return x.movedim(dim, 0)


@_mitchell_matmul_op.register_vmap
def _(info, in_dims, a, b, compensated, backward):
    # The op broadcasts batch dimensions itself: a leading vmapped dimension is one more.
    a_dim, b_dim = in_dims[0], in_dims[1]
    a = a.movedim(a_dim, 0) if a_dim is not None else a
    b = b.movedim(b_dim, 0) if b_dim is not None else b
    if a_dim is not None and a.dim() < b.dim() + (b_dim is None):
        a = a.view(a.shape[0], *([1] * (b.dim() - a.dim() + (b_dim is None))), *a.shape[1:])
    if b_dim is not None and b.dim() < a.dim() + (a_dim is None):
        b = b.view(b.shape[0], *([1] * (a.dim() - b.dim() + (a_dim is None))), *b.shape[1:])
    return _mitchell_matmul_op(a, b, compensated, backward), 0


@_jl_project_op.register_vmap
def _(info, in_dims, x, n_components, kind, density, seed):
    x = x.movedim(in_dims[0], 0)
    y = _jl_project_op(x.reshape(-1, x.shape[-1]), n_components, kind, density, seed)
    return y.view(x.shape[0], x.shape[1], n_components), 0


@_attention_op.register_vmap
def _(info, in_dims, q, k, v, kv_lengths, causal, scale, scale_value, base, min_scale):
    if in_dims[3] is not None:
        raise ValueError("vmap over kv_lengths is not supported; fold the mapped dimension into batch instead")
    size = info.batch_size
    q, k, v = (_batched(x, d, size) for x, d in zip((q, k, v), in_dims[:3]))
    if kv_lengths is not None:
        kv_lengths = kv_lengths.repeat(size)
    out, lse = _attention_op(*(x.reshape(-1, *x.shape[2:]) for x in (q, k, v)), kv_lengths, causal, scale,
                             scale_value, base, min_scale)
    return (out.view(size, -1, *out.shape[1:]), lse.view(size, -1, *lse.shape[1:])), (0, 0)
