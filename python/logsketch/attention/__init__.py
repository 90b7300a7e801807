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
promoted to the widest, a copy; so are arrays in the non-native byte order
and unaligned ones, and kv_lengths / cu_seqlens of any byte order); float16
and float32 accumulate in float32, float64 in float64; out has the input dtype, lse is float32 (float64 for
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

Gradients
---------
``attention_backward`` and ``attention_varlen_backward`` give dq, dk, dv from
dout and the forward's ``out`` and ``lse`` (``return_lse=True``), on the CPU:
P is recomputed from lse, so nothing of size seq_q x seq_k is stored.
lambda_i depends only on n_i, not on q or k, so it is a constant of the
gradient: dq_i = lambda_i sum_j dS_ij k_j, dk_j = sum_i lambda_i dS_ij q_i,
dv_j = sum_i p_ij dout_i, with dS_ij = p_ij (dout_i . v_j - dout_i . out_i).

On the GPU
----------
CUDA arrays (torch tensors, CuPy arrays) are checked here (scale, base,
min_scale, shapes) and run by ``logsketch.attention._cuda``, returning the same
framework's arrays.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._backend import backend_of
from . import _cpu
from ._spec import MAX_HEAD_DIM  # noqa: F401  (the CPU kernels' limit)
from ._spec import check_base, check_min_scale, check_shapes, check_varlen_shapes, shape_of, spec

__all__ = ["attention", "attention_backward", "attention_varlen", "attention_varlen_backward", "entropy_scale"]


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
    base = check_base(base)
    min_scale = check_min_scale(min_scale)
    if isinstance(head_dim, bool) or not isinstance(head_dim, numbers.Integral):
        raise TypeError(f"head_dim must be an int; got {type(head_dim).__name__}")
    if head_dim < 1:
        raise ValueError(f"head_dim must be >= 1; got {head_dim}")
    if isinstance(n, numbers.Integral) and not isinstance(n, bool):  # Python ints of any size, numpy ints
        n = int(n)
        if n < 1:
            raise ValueError("n must be >= 1 (a row that sees no key has no scale)")
        factor = math.log(n) / math.log(base)  # math.log takes ints past float range
        if min_scale is not None:
            factor = max(factor, min_scale)
        return factor / math.sqrt(head_dim)
    arr = np.asarray(n)
    if isinstance(n, bool) or arr.dtype.kind not in "iu":
        raise TypeError(f"n must be an int or an integer array; got {type(n).__name__} ({arr.dtype})")
    if arr.size and arr.min() < 1:
        raise ValueError("n must be >= 1 (a row that sees no key has no scale)")
    factor = np.log(arr.astype(np.float64)) / math.log(base)
    if min_scale is not None:
        factor = np.maximum(factor, min_scale)
    return factor / math.sqrt(head_dim)


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
    s = spec(causal, scale, base, min_scale, return_lse)
    if type(q) is not np.ndarray and backend_of(q, k, v) == "cuda":  # a numpy q never runs on a device
        check_shapes(shape_of(q, "q"), shape_of(k, "k"), shape_of(v, "v"))
        from . import _cuda

        return _cuda.forward(q, k, v, kv_lengths, s)
    return _cpu.attention(q, k, v, kv_lengths, s)


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
    s = spec(causal, scale, base, min_scale, return_lse)
    if backend_of(q, k, v) == "cuda":
        check_varlen_shapes(shape_of(q, "q"), shape_of(k, "k"), shape_of(v, "v"))
        from . import _cuda

        return _cuda.forward_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, s)
    return _cpu.attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, s)


def _cpu_only(name, *arrays):
    if backend_of(*arrays) == "cuda":
        raise NotImplementedError(f"{name} runs on the CPU only: pass numpy arrays or CPU tensors (the "
                                  "gradients of CUDA tensors come from logsketch.torch's autograd)")


def attention_backward(dout, q, k, v, out, lse, *, causal=False, scale="entropy", base=512, min_scale=None,
                       kv_lengths=None):
    """The gradients (dq, dk, dv) of :func:`attention` given dout = dL/d(out).

    ``out`` and ``lse`` are what ``attention(q, k, v, return_lse=True, ...)``
    returned for the same q, k, v and options; the options must be the
    forward's (they define lambda_i and which keys a row sees).  Rows that see
    no key give dq = 0 and add nothing to dk, dv; keys past ``kv_lengths[b]``
    get dk = dv = 0.  GQA/MQA: dk and dv of a kv head sum over the query
    heads that read it.

    Parameters
    ----------
    dout : array (batch, heads_q, seq_q, d_v), the gradient of out; another
        float dtype is converted to q's (a copy).
    q, k, v : arrays (batch, heads_q, seq_q, d), (batch, heads_kv, seq_k, d),
        (batch, heads_kv, seq_k, d_v), as for :func:`attention` (different
        float dtypes are promoted to the widest, a copy).
    out : array (batch, heads_q, seq_q, d_v) of q's dtype: the forward's out.
    lse : array (batch, heads_q, seq_q), float32 (float64 for float64 inputs):
        the forward's lse.
    causal, scale, base, min_scale, kv_lengths : as for :func:`attention`.

    Returns
    -------
    dq, dk, dv : new C-contiguous arrays with the shapes of q, k, v and
        their (common) dtype.  float16 inputs are computed in float32 and
        rounded once.

    Numerics: flash-style (P recomputed per block of 64 keys from lse, float32
    accumulation for float16 and float32, float64 for float64); the same bits
    for any thread count; the last bits may differ between SIMD levels.  NaN:
    a NaN in q_i, k_j, v_j, dout_i, out_i or lse_i reaches every gradient the
    formulas above make depend on it; through products with a zero
    probability (0 x NaN) it may also reach dk, dv of other keys in the same
    block of 64, as a plain matrix product with the masked P would.

    Raises
    ------
    TypeError
        Non-float (or bfloat16) q, k, v or dout; out not of q's dtype; lse not
        float32 (float64 for float64 inputs); a non-integer kv_lengths;
        wrongly typed options.
    ValueError
        As :func:`attention`; out, dout or lse of the wrong shape.
    NotImplementedError
        CUDA arrays (the backward runs on the CPU only).
    """
    s = spec(causal, scale, base, min_scale, False)
    _cpu_only("attention_backward", dout, q, k, v, out, lse)
    return _cpu.attention_backward(dout, q, k, v, out, lse, kv_lengths, s)


def attention_varlen_backward(dout, q, k, v, out, lse, cu_seqlens_q, cu_seqlens_k, *, causal=False,
                              scale="entropy", base=512, min_scale=None):
    """The gradients (dq, dk, dv) of :func:`attention_varlen` given dout.

    dout and out (total_q, heads_q, d_v), lse (heads_q, total_q): what
    ``attention_varlen(..., return_lse=True)`` returned for the same inputs
    and options.  Returns dq (total_q, heads_q, d), dk (total_k, heads_kv,
    d), dv (total_k, heads_kv, d_v); keys of a sequence without query tokens
    get zeros.  Dtypes, numerics and the rest as :func:`attention_backward`.

    Raises
    ------
    TypeError
        As :func:`attention_backward`; cu_seqlens not int32/int64.
    ValueError
        As :func:`attention_varlen`; out, dout or lse of the wrong shape.
    NotImplementedError
        CUDA arrays (the backward runs on the CPU only).
    """
    s = spec(causal, scale, base, min_scale, False)
    _cpu_only("attention_varlen_backward", dout, q, k, v, out, lse, cu_seqlens_q, cu_seqlens_k)
    return _cpu.attention_varlen_backward(dout, q, k, v, out, lse, cu_seqlens_q, cu_seqlens_k, s)
