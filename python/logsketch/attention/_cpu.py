"""Entropy-invariant attention on the CPU."""

from __future__ import annotations

import numpy as np

from .._backend import backend_of
from .._native import _core
from .._validate import as_array, kernel_array, native_dtype
from ._spec import MAX_SEQ, check_shapes, check_varlen_shapes, scale_of

CPU_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_F16, _F32, _F64 = CPU_DTYPES
_INDEX_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))


def _as_input(x, name):
    arr = as_array(x, name)
    if native_dtype(arr.dtype) not in CPU_DTYPES:
        if arr.dtype.name == "bfloat16":
            raise TypeError(f"{name} is bfloat16, which the CPU kernels do not take (numpy has no native "
                            "bfloat16); convert it to float32")
        raise TypeError(f"{name} must have a float dtype (float16, float32 or float64); got {arr.dtype}")
    return arr


def _fast(x, dtype):
    """The common operand: a plain C-contiguous aligned ndarray of ``dtype``
    (a native float dtype, compared by identity); the kernels read it in place."""
    if type(x) is not np.ndarray or x.dtype is not dtype:
        return False
    flags = x.flags
    return flags.aligned and flags.c_contiguous


def _cpu_arrays(q, k, v):
    """q, k, v as arrays of one dtype whose rows the kernels read in place
    (any strides, contiguous last dimension); others are copied."""
    if type(q) is np.ndarray:
        dtype = q.dtype
        if (dtype is _F32 or dtype is _F16 or dtype is _F64) and _fast(q, dtype) and _fast(k, dtype) \
                and _fast(v, dtype):
            return q, k, v
    arrays = [_as_input(x, name) for x, name in ((q, "q"), (k, "k"), (v, "v"))]
    dtype = np.result_type(*(native_dtype(arr.dtype) for arr in arrays))
    out = []
    for arr in arrays:
        arr = kernel_array(arr, dtype)  # native byte order, aligned
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
    arr = kernel_array(arr)  # any byte order
    if arr.shape != (batch,):
        raise ValueError(f"kv_lengths must have shape ({batch},); got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > seq_k):
        raise ValueError(f"kv_lengths must lie in [0, seq_k={seq_k}]; got values in [{arr.min()}, {arr.max()}]")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _check_cu_seqlens(cu, name, total):
    if backend_of(cu) != "numpy":
        raise TypeError(f"{name} must be on the CPU when q, k and v are")
    try:
        arr = np.asarray(cu)
    except Exception:
        raise TypeError(f"{name} must be an int32 or int64 array") from None
    if native_dtype(arr.dtype) not in _INDEX_DTYPES:
        raise TypeError(f"{name} must be an int32 or int64 array; got dtype {arr.dtype}")
    arr = kernel_array(arr)  # any byte order
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"{name} must be 1-D with batch + 1 entries; got shape {arr.shape}")
    if arr[0] != 0:
        raise ValueError(f"{name} must start at 0; got {arr[0]}")
    if np.any(np.diff(arr) < 0):
        raise ValueError(f"{name} must be non-decreasing")
    if arr[-1] != total:
        raise ValueError(f"{name} must end at the number of tokens ({total}); got {arr[-1]}")
    if arr.size > 1 and np.diff(arr).max() > MAX_SEQ:
        raise ValueError(f"{name}: sequences must be < 2**31 tokens")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _lse_dtype(dtype):
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def _empty_result(out, lse):
    """Nothing to compute, or no keys: zeros and lse = -inf."""
    out[...] = 0
    if lse is not None:
        lse[...] = -np.inf


def attention(q, k, v, kv_lengths, spec):
    q, k, v = _cpu_arrays(q, k, v)
    check_shapes(q.shape, k.shape, v.shape)
    batch, heads_q, seq_q, d = q.shape
    kv = _check_kv_lengths(kv_lengths, batch, k.shape[2])
    out = np.empty((batch, heads_q, seq_q, v.shape[3]), dtype=q.dtype)
    lse = np.empty((batch, heads_q, seq_q), dtype=_lse_dtype(q.dtype)) if spec.return_lse else None
    if out.size == 0 or k.size == 0:
        _empty_result(out, lse)
    else:
        _core.attention(q, k, v, out, lse, kv, spec.causal, *scale_of(spec, d))
    return (out, lse) if spec.return_lse else out


def attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, spec):
    q, k, v = _cpu_arrays(q, k, v)
    check_varlen_shapes(q.shape, k.shape, v.shape)
    cu_q = _check_cu_seqlens(cu_seqlens_q, "cu_seqlens_q", q.shape[0])
    cu_k = _check_cu_seqlens(cu_seqlens_k, "cu_seqlens_k", k.shape[0])
    if cu_q.shape != cu_k.shape:
        raise ValueError(f"cu_seqlens_q and cu_seqlens_k must have the same length; got {cu_q.size} and {cu_k.size}")
    total_q, heads_q, d = q.shape
    out = np.empty((total_q, heads_q, v.shape[2]), dtype=q.dtype)
    lse = np.empty((heads_q, total_q), dtype=_lse_dtype(q.dtype)) if spec.return_lse else None
    if out.size == 0 or k.size == 0:
        _empty_result(out, lse)
    else:
        _core.attention_varlen(q, k, v, cu_q, cu_k, out, lse, spec.causal, *scale_of(spec, d))
    return (out, lse) if spec.return_lse else out


# --------------------------------------------------------------------------- backward


def _like_out(x, name, dtype, shape, *, convert):
    """out or dout: an array of ``shape`` and the working ``dtype`` whose rows the
    kernels read in place.  dout of another float dtype is converted (a copy);
    out must be what the forward returned."""
    arr = _as_input(x, name)
    if native_dtype(arr.dtype) != dtype and not convert:
        raise TypeError(f"{name} must have the dtype of q, k and v ({dtype}), as the forward returns it; "
                        f"got {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (the forward's out); got {arr.shape}")
    arr = kernel_array(arr, dtype)
    if arr.ndim and arr.shape[-1] > 1 and arr.strides[-1] != arr.itemsize:
        arr = np.ascontiguousarray(arr)
    return arr


def _lse_input(lse, dtype, shape):
    arr = as_array(lse, "lse")
    want = _lse_dtype(dtype)
    if native_dtype(arr.dtype) != want:
        raise TypeError(f"lse must be {want} for {dtype} inputs, as the forward returns it; got {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"lse must have shape {shape} (the forward's lse); got {arr.shape}")
    return kernel_array(arr)


def _grads(q, k, v):
    # dk and dv start at 0: keys past kv_lengths, and every key of a call
    # without query rows, receive no gradient.
    return np.empty(q.shape, q.dtype), np.zeros(k.shape, k.dtype), np.zeros(v.shape, v.dtype)


def attention_backward(dout, q, k, v, out, lse, kv_lengths, spec):
    q, k, v = _cpu_arrays(q, k, v)
    check_shapes(q.shape, k.shape, v.shape)
    batch, heads_q, seq_q, d = q.shape
    out_shape = (batch, heads_q, seq_q, v.shape[3])
    out = _like_out(out, "out", q.dtype, out_shape, convert=False)
    dout = _like_out(dout, "dout", q.dtype, out_shape, convert=True)
    lse = _lse_input(lse, q.dtype, out_shape[:3])
    kv = _check_kv_lengths(kv_lengths, batch, k.shape[2])
    dq, dk, dv = _grads(q, k, v)
    if dq.size:
        _core.attention_backward(dout, q, k, v, out, lse, dq, dk, dv, kv, spec.causal, *scale_of(spec, d))
    return dq, dk, dv


def attention_varlen_backward(dout, q, k, v, out, lse, cu_seqlens_q, cu_seqlens_k, spec):
    q, k, v = _cpu_arrays(q, k, v)
    check_varlen_shapes(q.shape, k.shape, v.shape)
    cu_q = _check_cu_seqlens(cu_seqlens_q, "cu_seqlens_q", q.shape[0])
    cu_k = _check_cu_seqlens(cu_seqlens_k, "cu_seqlens_k", k.shape[0])
    if cu_q.shape != cu_k.shape:
        raise ValueError(f"cu_seqlens_q and cu_seqlens_k must have the same length; got {cu_q.size} and {cu_k.size}")
    total_q, heads_q, d = q.shape
    out_shape = (total_q, heads_q, v.shape[2])
    out = _like_out(out, "out", q.dtype, out_shape, convert=False)
    dout = _like_out(dout, "dout", q.dtype, out_shape, convert=True)
    lse = _lse_input(lse, q.dtype, (heads_q, total_q))
    dq, dk, dv = _grads(q, k, v)
    if dq.size:
        _core.attention_varlen_backward(dout, q, k, v, out, lse, cu_q, cu_k, dq, dk, dv, spec.causal,
                                        *scale_of(spec, d))
    return dq, dk, dv
