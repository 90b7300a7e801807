"""The GPU path of entropy-invariant attention: CUDA arrays in, the same framework's arrays out.

The public functions route here when q, k and v are CUDA arrays (PyTorch
tensors or CuPy arrays; other CUDA arrays are refused with a TypeError), with
the options checked (a :class:`~logsketch.attention._spec.Spec`) and the
shapes checked.  What the GPU adds is checked here:

- dtype: float16 or bfloat16 (CuPy has no bfloat16), the same for q, k and v
  (TypeError otherwise).  Scores, softmax and the accumulation of P V run in
  float32; out has the inputs' dtype, lse is float32.
- head dims: d in SUPPORTED_HEAD_DIMS (32, 64, 96 and 128) and d_v == d (ValueError
  otherwise).
- layout: any strides are taken in place as long as the last dimension is
  contiguous, the data pointer is 16-byte aligned and every other stride is a
  multiple of 8 elements (the kernels move 16-byte chunks).  A (batch, seq,
  heads, d) tensor passed as ``.transpose(1, 2)`` therefore needs no copy;
  anything else (a strided last dimension, an odd slice) is copied to C order
  first.
- kv_lengths: a CUDA integer array (int32 or int64) of q's framework and
  device, shape (batch,).  Its values are not read on the host (that would
  wait for the stream); they are clamped to [0, seq_k] on the device, so an
  out-of-range value can never read outside k and v.
- varlen: cu_seqlens_q/cu_seqlens_k (batch + 1,) int32 or int64, CUDA arrays
  of q's framework and device, or host arrays (numpy, lists).  They are read
  on the host once, which for CUDA arrays waits for the stream (one small
  device-to-host copy): the grid is sized by the longest sequence and the
  offsets are validated there (start at 0, non-decreasing, cu_seqlens_q ends
  at total_q, cu_seqlens_k at most at total_k).
- Outputs, and the float32 workspace of split-KV decoding (short queries over
  long keys split the keys over several blocks and merge the parts by their
  lse), are allocated by q's framework on q's device, and the kernels are
  enqueued on that framework's current stream for that device: no
  synchronisation (varlen's cu_seqlens read aside).
- Forward only: nothing is recorded for autograd.
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import is_cuda_array
from .._backend.cuda import Array, Backend, as_array, c_order, check_same, framework, to_device
from .._native import cuda_module
from .._validate import check_int
from ._cuda_instantiations import DTYPES, HEAD_DIMS
from ._spec import check_shapes, check_varlen_shapes, shape_of, spec

SUPPORTED_HEAD_DIMS = HEAD_DIMS  # the generated instantiations of cuda/attention
MAX_SPLITS = 64  # cuda/attention/attention_fwd.cuh: kMaxSplits
_INT_DTYPES = ("int32", "int64")


def _arrays(q, k, v):
    """q, k, v as Arrays of one framework, device and dtype (float16 or bfloat16)."""
    named = [(name, as_array(x, name, others)) for name, x, others in
             (("q", q, "k and v"), ("k", k, "q and v"), ("v", v, "q and k"))]
    check_same(named)
    for name, x in named:
        if x.dtype not in DTYPES:
            raise TypeError(f"{name} must have dtype float16 or bfloat16 on the GPU; got {x.dtype}")
    (n0, x0), *rest = named
    for name, x in rest:
        if x.dtype != x0.dtype:
            raise TypeError(f"{n0} and {name} must have the same dtype; got {x0.dtype} and {x.dtype}")
    return [x for _, x in named]


def _check_head_dims(d, dv):
    if dv != d:
        raise ValueError(f"v's head dim (d_v={dv}) must equal q's and k's (d={d}) on the GPU")
    if d not in HEAD_DIMS:
        dims = ", ".join(str(x) for x in HEAD_DIMS)
        raise ValueError(f"head dim d must be one of {dims} on the GPU; got {d}")


def _scale_args(spec, d):
    """(mode, scale, log_base, min_scale) as the bindings take them."""
    if spec.scale == "standard":
        return "constant", 1.0 / math.sqrt(d), math.e, -math.inf
    if spec.scale == "entropy":
        return "entropy", 0.0, math.log(spec.base), -math.inf if spec.min_scale is None else spec.min_scale
    return "constant", spec.scale, math.e, -math.inf


def _kernel_layout(x, backend):
    """x as the kernels read it: last dimension contiguous, 16-byte aligned data,
    other strides multiples of 8 elements; a C-ordered copy when it is not.
    Strides of dimensions of size 0 or 1 never matter and are reported as 0."""
    strides = tuple(0 if n <= 1 else s for n, s in zip(x.shape, x.strides))
    if strides[-1] not in (0, 1) or x.ptr % 16 or any(s % 8 for s in strides[:-1]):
        x = c_order(x, backend)
        strides = tuple(0 if n <= 1 else s for n, s in zip(x.shape, x.strides))
    x.strides = strides
    return x


def _int_array(x, name, q):
    """A CUDA integer array of q's framework and device."""
    xa = as_array(x, name, "q")
    check_same([("q", q), (name, xa)])
    if xa.dtype not in _INT_DTYPES:
        raise TypeError(f"{name} must have dtype int32 or int64; got {xa.dtype}")
    return xa


def _kv_lengths(kv_lengths, q, backend, batch, seq_k):
    """kv_lengths clamped to [0, seq_k] as a contiguous int32 device array, or None."""
    if kv_lengths is None:
        return None
    xa = _int_array(kv_lengths, "kv_lengths", q)
    if xa.shape != (batch,):
        raise ValueError(f"kv_lengths must have shape (batch,) = ({batch},); got {xa.shape}")
    obj = xa.obj
    if xa.fw == "torch":
        obj = obj.clamp(0, seq_k).to(backend.mod.int32).contiguous()
    else:
        with backend.mod.cuda.Device(backend.device):
            obj = backend.mod.ascontiguousarray(backend.mod.clip(obj, 0, seq_k).astype(np.int32))
    return Array(obj, xa.fw, "kv_lengths")


def _cu_seqlens(x, name, q, backend, total, exact):
    """(host int64 copy, contiguous int32 device array) of a cu_seqlens argument."""
    if framework(x) is not None or is_cuda_array(x):
        xa = _int_array(x, name, q)
        if xa.fw == "torch":
            host = xa.obj.detach().cpu().numpy()
        else:
            host = xa.obj.get()
    else:
        host = np.asarray(x)
        if host.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an integer array; got dtype {host.dtype}")
    host = np.asarray(host, dtype=np.int64)
    if host.ndim != 1 or host.size < 1:
        raise ValueError(f"{name} must have shape (batch + 1,); got {host.shape}")
    if host[0] != 0:
        raise ValueError(f"{name} must start at 0; got {int(host[0])}")
    if np.any(np.diff(host) < 0):
        raise ValueError(f"{name} must be non-decreasing")
    if exact and host[-1] != total:
        raise ValueError(f"{name} must end at the packed row count {total}; got {int(host[-1])}")
    if not exact and host[-1] > total:
        raise ValueError(f"{name} must end at most at the packed row count {total}; got {int(host[-1])}")
    return host, Array(to_device(host.astype(np.int32), backend), backend.fw, name)


def _splits(num_splits, batch, heads_q, seq_q, seq_k, device):
    if num_splits is None:
        return cuda_module().attention_num_splits(batch, heads_q, seq_q, seq_k, device)
    return check_int(num_splits, "num_splits", 1, MAX_SPLITS)


def _run(backend, dtype, q, k, v, out, lse, st, dims, causal, scale_args, kv_lengths, cu, splits):
    """Allocate the split-KV workspace and enqueue the kernels."""
    mod = cuda_module()
    batch, heads_q, heads_kv, seq_q, seq_k, total_q, d = dims
    varlen = cu is not None
    ws, ws_numel = None, 0
    if splits > 1:
        ws_numel = mod.attention_workspace_numel(batch, heads_q, seq_q, total_q, d, varlen, splits)
        ws = Array(backend.empty((max(ws_numel, 1),), "float32"), backend.fw, "workspace")
    mode, scale, log_base, min_scale = scale_args
    mod.attention_forward(
        q.ptr, st["q"], k.ptr, st["k"], v.ptr, st["v"], out.ptr, st["out"],
        lse.ptr if lse is not None else 0, st["lse"],
        dtype, batch, heads_q, heads_kv, seq_q, seq_k, total_q, d, bool(causal),
        mode, scale, log_base, min_scale,
        kv_lengths.ptr if kv_lengths is not None else 0,
        cu[0].ptr if varlen else 0, cu[1].ptr if varlen else 0,
        splits, ws.ptr if ws is not None else 0, ws_numel, backend.stream(), backend.device,
    )  # fmt: skip
    return ws  # kept alive by the caller until the call has been enqueued


def forward(q, k, v, kv_lengths, spec, num_splits=None):
    """attention() of CUDA arrays whose shapes and options the public function checked.

    q (batch, heads_q, seq_q, d), k and v (batch, heads_kv, seq_k, d); returns
    out (batch, heads_q, seq_q, d) in the inputs' dtype and, with return_lse,
    lse (batch, heads_q, seq_q) float32.  num_splits: None picks split-KV by
    shape and device; an int in [1, 64] forces it (for tests and tuning).
    """
    qa, ka, va = _arrays(q, k, v)
    batch, heads_q, seq_q, d = qa.shape
    _check_head_dims(d, va.shape[3])
    heads_kv, seq_k = ka.shape[1], ka.shape[2]
    backend = Backend(qa.fw, qa.device)
    out = backend.empty((batch, heads_q, seq_q, d), qa.dtype)
    lse = backend.empty((batch, heads_q, seq_q), "float32") if spec.return_lse else None
    kvl = _kv_lengths(kv_lengths, qa, backend, batch, seq_k)
    splits = _splits(num_splits, batch, heads_q, seq_q, seq_k, qa.device)
    if batch * heads_q * seq_q:
        qa, ka, va = (_kernel_layout(x, backend) for x in (qa, ka, va))
        outa = Array(out, backend.fw, "out")
        lsea = Array(lse, backend.fw, "lse") if lse is not None else None
        st = {
            "q": qa.strides[:3], "k": ka.strides[:3], "v": va.strides[:3], "out": outa.strides[:3],
            "lse": lsea.strides if lsea is not None else (0, 0, 0),
        }  # fmt: skip
        dims = (batch, heads_q, heads_kv, seq_q, seq_k, 0, d)
        _run(backend, qa.dtype, qa, ka, va, outa, lsea, st, dims, spec.causal, _scale_args(spec, d), kvl, None,
             splits)
    return (out, lse) if spec.return_lse else out


def _packed_strides(x):
    """(row, head, dim) strides -> (batch, head, row)."""
    return (0, x.strides[1], x.strides[0])


def forward_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, spec, num_splits=None):
    """attention_varlen() of CUDA arrays whose shapes and options the public function checked.

    q (total_q, heads_q, d), k and v (total_k, heads_kv, d); sequence b owns
    rows cu_seqlens_q[b]:cu_seqlens_q[b+1] of q and cu_seqlens_k[b]:cu_seqlens_k[b+1]
    of k and v.  Returns out (total_q, heads_q, d) and, with return_lse,
    lse (heads_q, total_q) float32.
    """
    qa, ka, va = _arrays(q, k, v)
    total_q, heads_q, d = qa.shape
    _check_head_dims(d, va.shape[2])
    backend = Backend(qa.fw, qa.device)
    host_q, cu_q = _cu_seqlens(cu_seqlens_q, "cu_seqlens_q", qa, backend, total_q, exact=True)
    host_k, cu_k = _cu_seqlens(cu_seqlens_k, "cu_seqlens_k", qa, backend, ka.shape[0], exact=False)
    if host_q.size != host_k.size:
        raise ValueError(
            f"cu_seqlens_q and cu_seqlens_k must have the same length (batch + 1); got {host_q.size} and {host_k.size}"
        )
    batch = host_q.size - 1
    max_q = int(np.max(np.diff(host_q))) if batch else 0
    max_k = int(np.max(np.diff(host_k))) if batch else 0
    out = backend.empty((total_q, heads_q, d), qa.dtype)
    lse = backend.empty((heads_q, total_q), "float32") if spec.return_lse else None
    splits = _splits(num_splits, batch, heads_q, max_q, max_k, qa.device)
    if batch and heads_q and total_q:
        qa, ka, va = (_kernel_layout(x, backend) for x in (qa, ka, va))
        outa = Array(out, backend.fw, "out")
        lsea = Array(lse, backend.fw, "lse") if lse is not None else None
        st = {
            "q": _packed_strides(qa), "k": _packed_strides(ka), "v": _packed_strides(va),
            "out": _packed_strides(outa), "lse": (0, total_q, 1) if lsea is not None else (0, 0, 0),
        }  # fmt: skip
        dims = (batch, heads_q, ka.shape[1], max_q, max_k, total_q, d)
        _run(backend, qa.dtype, qa, ka, va, outa, lsea, st, dims, spec.causal, _scale_args(spec, d), None,
             (cu_q, cu_k), splits)
    return (out, lse) if spec.return_lse else out


def attention(q, k, v, *, causal, scale, base, min_scale, kv_lengths, return_lse, num_splits=None):
    """logsketch.attention for CUDA arrays with ``num_splits`` exposed (tests and tuning)."""
    s = spec(causal, scale, base, min_scale, return_lse)
    check_shapes(shape_of(q, "q"), shape_of(k, "k"), shape_of(v, "v"))
    return forward(q, k, v, kv_lengths, s, num_splits)


def attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, *, causal, scale, base, min_scale, return_lse,
                     num_splits=None):  # fmt: skip
    """logsketch.attention_varlen for CUDA arrays with ``num_splits`` exposed (tests and tuning)."""
    s = spec(causal, scale, base, min_scale, return_lse)
    check_varlen_shapes(shape_of(q, "q"), shape_of(k, "k"), shape_of(v, "v"))
    return forward_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, s, num_splits)
