"""Entropy-invariant attention: softmax(lambda_i q_i K^T) V with a per-row scale
that grows with the number of keys the row sees.

Su Jianlin ("从熵不变性看Attention的Scale操作", 2021) showed that the entropy
of a softmax over n scores scaled by 1/sqrt(d) grows with n, so a model
trained at one length attends more diffusely at another; scaling row i by
lambda_i = log_b(n_i) / sqrt(d), n_i the keys row i sees and b a reference
length (512 by default, or the training length), keeps it nearly constant.
Qwen-7B's ``logn`` attention is the same scale floored at 1:
``scale="entropy", base=<training length>, min_scale=1``.

Definition
----------
For query row i of batch entry b, with L_k keys (seq_k, ``kv_lengths[b]`` or
the varlen sequence's key length) and L_q query rows:

- n_i = L_k, or with ``causal=True`` (queries aligned to the end of the keys,
  the KV-cache convention of FlashAttention >= 2.1: row i sees keys
  j <= i + L_k - L_q) n_i = clamp(i + 1 + L_k - L_q, 0, L_k).
- ``scale="entropy"``: factor_i = ln(n_i) / ln(base), raised to ``min_scale``
  when given; lambda_i = factor_i / sqrt(d), d q's head dim.
  ``scale="standard"``: lambda_i = 1/sqrt(d).  A float: lambda_i = scale.
- out_i = sum_j p_ij v_j with p_ij = exp(lambda_i q_i.k_j) / sum_j' exp(...)
  over the keys row i sees; lse_i = ln sum_j exp(lambda_i q_i.k_j) (natural
  log).  A row that sees no key gives zeros and lse = -inf.

Shapes, dtypes and layouts
--------------------------
``attention``: q (batch, heads_q, seq_q, d), k (batch, heads_kv, seq_k, d), v
(batch, heads_kv, seq_k, d_v); heads_q a multiple of heads_kv (GQA/MQA: query
head h reads kv head h // (heads_q / heads_kv)); out (batch, heads_q, seq_q,
d_v), lse (batch, heads_q, seq_q).  ``attention_varlen``: packed q
(total_q, heads_q, d), k (total_k, heads_kv, d), v (total_k, heads_kv, d_v)
with cumulative int32/int64 offsets ``cu_seqlens_q``/``cu_seqlens_k`` (batch + 1
entries from 0, non-decreasing, ending at the totals), as flash-attn's varlen
API; out (total_q, heads_q, d_v), lse (heads_q, total_q).

On the CPU: float16, float32 and float64 (inputs of different float dtypes are
promoted to the widest, a copy); float16 and float32 accumulate in float32,
float64 in float64; out has the input dtype, lse is float32 (float64 for
float64 inputs).  bfloat16 is refused (numpy has no native bfloat16: convert
to float32).  Head dims 1..256, d and d_v independent.  Any strides with a
contiguous last dimension are read in place (so a (batch, seq, heads, d) array
passed as ``x.transpose(0, 2, 1, 3)`` costs no copy); other layouts are copied
first.  Empty sizes give empty outputs.

Numerics: a flash-style kernel (online softmax over key blocks, exp2 from a
polynomial, ~2 ulp in float32), so results differ from a materialized softmax
by float rounding only; they do not depend on the thread count (the work split
is a function of the shapes), and may differ in the last bits between SIMD
levels.  NaN in q, k or v propagates as IEEE arithmetic does: a NaN in q_i
makes row i NaN, a NaN in k_j every row that sees key j; a +inf score makes
its row NaN (inf - inf in the max-subtracted softmax), as the reference does.

On the GPU
----------
CUDA arrays (torch tensors, CuPy arrays) are checked here (scale, base,
min_scale, shapes) and run by ``logsketch._attention_gpu``, returning the same
framework's arrays.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _core
from ._arrays import is_cuda_array

__all__ = ["attention", "attention_varlen", "entropy_scale"]

_CPU_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
MAX_HEAD_DIM = 256
_MAX_SEQ = 2**31 - 1  # sequence positions index int32 lanes in the float kernels


# --------------------------------------------------------------------------- argument checks


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool; got {type(value).__name__}")
    return bool(value)


def _check_base(base):
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(f"base must be a real number > 1; got {type(base).__name__}")
    base = float(base)
    if not (base > 1 and math.isfinite(base)):
        raise ValueError(f"base must be a finite number > 1; got {base!r}")
    return base


def _check_min_scale(min_scale):
    if min_scale is None:
        return None
    if isinstance(min_scale, bool) or not isinstance(min_scale, numbers.Real):
        raise TypeError(f"min_scale must be None or a real number; got {type(min_scale).__name__}")
    min_scale = float(min_scale)
    if not math.isfinite(min_scale):
        raise ValueError(f"min_scale must be finite; got {min_scale!r}")
    return min_scale


def _check_scale(scale):
    if isinstance(scale, str):
        if scale not in ("entropy", "standard"):
            raise ValueError(f"scale must be 'entropy', 'standard' or a float; got {scale!r}")
        return scale
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be 'entropy', 'standard' or a float; got {type(scale).__name__}")
    scale = float(scale)
    if not math.isfinite(scale):
        raise ValueError(f"scale must be finite; got {scale!r}")
    return scale


def _check_scale_args(scale, base, min_scale):
    return _check_scale(scale), _check_base(base), _check_min_scale(min_scale)


def _kernel_scale(scale, base, min_scale, d):
    """(entropy, log_base, min_factor, value) as the compiled core takes them."""
    min_factor = -math.inf if min_scale is None else min_scale
    if scale == "entropy":
        return True, math.log(base), min_factor, 0.0
    value = 1 / math.sqrt(d) if scale == "standard" else scale
    return False, math.log(base), min_factor, value


def _check_head_dims(d, dv):
    for name, x in (("head_dim of q and k", d), ("head_dim of v", dv)):
        if not 1 <= x <= MAX_HEAD_DIM:
            raise ValueError(f"{name} must be in [1, {MAX_HEAD_DIM}]; got {x}")


def _check_shapes(qs, ks, vs):
    """The shape rules of attention(), on plain tuples (numpy or CUDA arrays)."""
    for name, s in (("q", qs), ("k", ks), ("v", vs)):
        if len(s) != 4:
            raise ValueError(f"{name} must have shape (batch, heads, seq, head_dim); got {s}")
    if ks[0] != qs[0] or vs[0] != qs[0]:
        raise ValueError(f"q, k and v must have the same batch size; got {qs[0]}, {ks[0]}, {vs[0]}")
    if vs[1] != ks[1] or vs[2] != ks[2]:
        raise ValueError(f"v must have k's heads and seq_k: k {ks}, v {vs}")
    if ks[3] != qs[3]:
        raise ValueError(f"k must have q's head_dim; got q {qs}, k {ks}")
    if ks[1] < 1 or qs[1] % ks[1]:
        raise ValueError(f"heads_q must be a positive multiple of heads_kv; got heads_q={qs[1]}, heads_kv={ks[1]}")
    _check_head_dims(qs[3], vs[3])
    if qs[2] > _MAX_SEQ or ks[2] > _MAX_SEQ:
        raise ValueError("seq_q and seq_k must be < 2**31")


def _check_varlen_shapes(qs, ks, vs):
    for name, s in (("q", qs), ("k", ks), ("v", vs)):
        if len(s) != 3:
            raise ValueError(f"{name} must have shape (total_tokens, heads, head_dim); got {s}")
    if vs[0] != ks[0] or vs[1] != ks[1]:
        raise ValueError(f"v must have k's tokens and heads: k {ks}, v {vs}")
    if ks[2] != qs[2]:
        raise ValueError(f"k must have q's head_dim; got q {qs}, k {ks}")
    if ks[1] < 1 or qs[1] % ks[1]:
        raise ValueError(f"heads_q must be a positive multiple of heads_kv; got heads_q={qs[1]}, heads_kv={ks[1]}")
    _check_head_dims(qs[2], vs[2])


def _shape(x, name):
    shape = getattr(x, "shape", None)
    if shape is None:
        raise TypeError(f"{name} must be an array; got {type(x).__name__}")
    return tuple(int(s) for s in shape)


def _as_input(x, name):
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of floats; could not convert {type(x).__name__}: {exc}") from None
    if arr.dtype.name == "bfloat16":
        raise TypeError(f"{name} is bfloat16, which the CPU kernels do not take (numpy has no native bfloat16); "
                        "convert it to float32")
    if arr.dtype not in _CPU_DTYPES:
        raise TypeError(f"{name} must have a float dtype (float16, float32 or float64); got {arr.dtype}")
    return arr


def _cpu_arrays(q, k, v):
    """q, k, v as arrays of one dtype whose rows the kernels read in place
    (any strides, contiguous last dimension); others are copied."""
    arrays = [_as_input(x, name) for x, name in ((q, "q"), (k, "k"), (v, "v"))]
    dtype = np.result_type(*arrays)
    out = []
    for arr in arrays:
        if arr.dtype != dtype:
            arr = arr.astype(dtype)
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        in_place = (
            arr.flags.aligned
            and all(s % arr.itemsize == 0 for s in arr.strides)
            and (arr.ndim == 0 or arr.shape[-1] <= 1 or arr.strides[-1] == arr.itemsize)
        )
        out.append(arr if in_place else np.ascontiguousarray(arr))
    return out


def _check_kv_lengths(kv_lengths, batch, seq_k):
    if kv_lengths is None:
        return None
    try:
        arr = np.asarray(kv_lengths)
    except Exception:
        raise TypeError("kv_lengths must be an integer array of shape (batch,)") from None
    if arr.dtype.kind not in "iu":
        raise TypeError(f"kv_lengths must be an integer array; got dtype {arr.dtype}")
    if arr.shape != (batch,):
        raise ValueError(f"kv_lengths must have shape ({batch},); got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > seq_k):
        raise ValueError(f"kv_lengths must lie in [0, seq_k={seq_k}]; got values in [{arr.min()}, {arr.max()}]")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _check_cu_seqlens(cu, name, total):
    if is_cuda_array(cu):
        raise TypeError(f"{name} must be on the CPU when q, k and v are")
    try:
        arr = np.asarray(cu)
    except Exception:
        raise TypeError(f"{name} must be an int32 or int64 array") from None
    if arr.dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
        raise TypeError(f"{name} must be an int32 or int64 array; got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"{name} must be 1-D with batch + 1 entries; got shape {arr.shape}")
    if arr[0] != 0:
        raise ValueError(f"{name} must start at 0; got {arr[0]}")
    if np.any(np.diff(arr) < 0):
        raise ValueError(f"{name} must be non-decreasing")
    if arr[-1] != total:
        raise ValueError(f"{name} must end at the number of tokens ({total}); got {arr[-1]}")
    if arr.size > 1 and np.diff(arr).max() > _MAX_SEQ:
        raise ValueError(f"{name}: sequences must be < 2**31 tokens")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _lse_dtype(dtype):
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


# --------------------------------------------------------------------------- public functions


def entropy_scale(n, head_dim, *, base=512, min_scale=None):
    """lambda = max(ln(n) / ln(base), min_scale) / sqrt(head_dim) for n >= 1 keys.

    The scale :func:`attention` gives a row that sees ``n`` keys under
    ``scale="entropy"`` (computed in float64; the kernels round it to their
    working precision).  ``n`` an int gives a float, an array of ints an
    array of float64.

    Raises
    ------
    TypeError
        ``n`` or ``head_dim`` not integers, ``base``/``min_scale`` not real.
    ValueError
        ``n`` < 1, ``head_dim`` < 1, ``base`` <= 1 or not finite, ``min_scale`` not finite.
    """
    base = _check_base(base)
    min_scale = _check_min_scale(min_scale)
    if isinstance(head_dim, bool) or not isinstance(head_dim, numbers.Integral):
        raise TypeError(f"head_dim must be an int; got {type(head_dim).__name__}")
    if head_dim < 1:
        raise ValueError(f"head_dim must be >= 1; got {head_dim}")
    scalar = isinstance(n, numbers.Integral) and not isinstance(n, bool)
    arr = np.asarray(n)
    if isinstance(n, bool) or arr.dtype.kind not in "iu":
        raise TypeError(f"n must be an int or an integer array; got {type(n).__name__} ({arr.dtype})")
    if arr.size and arr.min() < 1:
        raise ValueError("n must be >= 1 (a row that sees no key has no scale)")
    factor = np.log(arr.astype(np.float64)) / math.log(base)
    if min_scale is not None:
        factor = np.maximum(factor, min_scale)
    lam = factor / math.sqrt(head_dim)
    return float(lam) if scalar else lam


def attention(q, k, v, *, causal=False, scale="entropy", base=512, min_scale=None, kv_lengths=None,
              return_lse=False):
    """softmax(lambda_i q_i K^T) V over (batch, heads, seq, head_dim) arrays.

    See the module docstring for the definition of lambda_i, the causal
    alignment, shapes, dtypes and layouts.

    Parameters
    ----------
    q, k, v : arrays (batch, heads_q, seq_q, d), (batch, heads_kv, seq_k, d),
        (batch, heads_kv, seq_k, d_v).
    causal : bool
        Row i sees keys j <= i + L_k - seq_q (bottom-right aligned).
    scale : "entropy" (default), "standard" or a float
    base : float > 1, the reference length b of log_b(n_i) (default 512).
    min_scale : float or None, a floor on log_b(n_i) (Qwen's logn: 1).
    kv_lengths : int array (batch,) or None: keys j >= kv_lengths[b] are invisible.
    return_lse : bool, also return lse (batch, heads_q, seq_q).

    Returns
    -------
    out, or (out, lse)

    Raises
    ------
    TypeError
        Non-float (or bfloat16) inputs, a non-integer kv_lengths, wrongly typed options.
    ValueError
        Shapes that do not match, heads_q not a multiple of heads_kv, head
        dims outside [1, 256], kv_lengths outside [0, seq_k], base <= 1,
        a non-finite min_scale or scale, an unknown scale name.
    """
    causal = _check_bool(causal, "causal")
    return_lse = _check_bool(return_lse, "return_lse")
    scale, base, min_scale = _check_scale_args(scale, base, min_scale)
    if is_cuda_array(q) or is_cuda_array(k) or is_cuda_array(v):
        _check_shapes(_shape(q, "q"), _shape(k, "k"), _shape(v, "v"))
        from . import _attention_gpu

        return _attention_gpu.attention(q, k, v, causal=causal, scale=scale, base=base, min_scale=min_scale,
                                        kv_lengths=kv_lengths, return_lse=return_lse)
    q, k, v = _cpu_arrays(q, k, v)
    _check_shapes(q.shape, k.shape, v.shape)
    batch, heads_q, seq_q, d = q.shape
    kv = _check_kv_lengths(kv_lengths, batch, k.shape[2])
    out = np.empty((batch, heads_q, seq_q, v.shape[3]), dtype=q.dtype)
    lse = np.empty((batch, heads_q, seq_q), dtype=_lse_dtype(q.dtype)) if return_lse else None
    if out.size == 0 or k.size == 0:  # nothing to compute, or no keys: zeros and lse = -inf
        out[...] = 0
        if return_lse:
            lse[...] = -np.inf
    else:
        _core.attention(q, k, v, out, lse, kv, causal, *_kernel_scale(scale, base, min_scale, d))
    return (out, lse) if return_lse else out


def attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, *, causal=False, scale="entropy", base=512,
                     min_scale=None, return_lse=False):
    """Attention over packed variable-length sequences (flash-attn's varlen layout).

    q (total_q, heads_q, d), k (total_k, heads_kv, d), v (total_k, heads_kv,
    d_v); sequence b holds query tokens cu_seqlens_q[b]:cu_seqlens_q[b+1] and
    keys cu_seqlens_k[b]:cu_seqlens_k[b+1].  Returns out (total_q, heads_q,
    d_v), and lse (heads_q, total_q) with ``return_lse=True``.  The rest as
    :func:`attention` (n_i, causal alignment and scale per sequence).

    Raises
    ------
    TypeError
        As :func:`attention`; cu_seqlens not int32/int64.
    ValueError
        As :func:`attention`; cu_seqlens not 1-D, of different lengths, not
        starting at 0, decreasing, or not ending at the number of tokens.
    """
    causal = _check_bool(causal, "causal")
    return_lse = _check_bool(return_lse, "return_lse")
    scale, base, min_scale = _check_scale_args(scale, base, min_scale)
    if is_cuda_array(q) or is_cuda_array(k) or is_cuda_array(v):
        _check_varlen_shapes(_shape(q, "q"), _shape(k, "k"), _shape(v, "v"))
        from . import _attention_gpu

        return _attention_gpu.attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, causal=causal, scale=scale,
                                               base=base, min_scale=min_scale, return_lse=return_lse)
    q, k, v = _cpu_arrays(q, k, v)
    _check_varlen_shapes(q.shape, k.shape, v.shape)
    cu_q = _check_cu_seqlens(cu_seqlens_q, "cu_seqlens_q", q.shape[0])
    cu_k = _check_cu_seqlens(cu_seqlens_k, "cu_seqlens_k", k.shape[0])
    if cu_q.shape != cu_k.shape:
        raise ValueError(f"cu_seqlens_q and cu_seqlens_k must have the same length; got {cu_q.size} and {cu_k.size}")
    total_q, heads_q, d = q.shape
    out = np.empty((total_q, heads_q, v.shape[2]), dtype=q.dtype)
    lse = np.empty((heads_q, total_q), dtype=_lse_dtype(q.dtype)) if return_lse else None
    if out.size == 0 or k.size == 0:
        out[...] = 0
        if return_lse:
            lse[...] = -np.inf
        return (out, lse) if return_lse else out
    _core.attention_varlen(q, k, v, cu_q, cu_k, out, lse, causal, *_kernel_scale(scale, base, min_scale, d))
    return (out, lse) if return_lse else out
