"""Entropy-invariant attention with a materialized softmax."""

from __future__ import annotations

import numpy as np


def _attention_lambda(n, d, scale, base, min_scale):
    """lambda_i per row in float64 (rows with n = 0 get 0; they output zeros)."""
    if isinstance(scale, str) and scale == "standard":
        return np.full(n.shape, 1 / np.sqrt(d))
    if not isinstance(scale, str):
        return np.full(n.shape, float(scale))
    factor = np.log(np.maximum(n, 1).astype(np.float64)) / np.log(float(base))
    if min_scale is not None:
        factor = np.maximum(factor, float(min_scale))
    return factor / np.sqrt(d)


def _attention_one(q, k, v, causal, lam_args, accumulate):
    """One (sequence, head): q (Lq, d), k (Lk, d), v (Lk, dv) -> out (Lq, dv), lse (Lq,)."""
    lq, d = q.shape
    lk = k.shape[0]
    i = np.arange(lq)
    n = np.clip(i + 1 + lk - lq, 0, lk) if causal else np.full(lq, lk)
    lam = _attention_lambda(n, d, *lam_args).astype(accumulate)
    out = np.zeros((lq, v.shape[1]), accumulate)
    lse = np.full(lq, -np.inf, accumulate)
    rows = n > 0
    if not (rows.any() and lk):
        return out, lse
    with np.errstate(invalid="ignore"):  # inf and NaN inputs propagate, as documented
        scores = (lam[:, None] * q.astype(accumulate)) @ k.astype(accumulate).T
        scores = np.where(np.arange(lk)[None, :] < n[:, None], scores, -np.inf)[rows]
        m = scores.max(axis=1, keepdims=True)
        p = np.exp(scores - m)
        total = p.sum(axis=1, keepdims=True)
        out[rows] = (p @ v.astype(accumulate)) / total
        lse[rows] = (m + np.log(total))[:, 0]
    return out, lse


def attention(q, k, v, *, causal=False, scale="entropy", base=512, min_scale=None, kv_lengths=None,
              return_lse=False, accumulate=np.float64):
    """Reference for :func:`logsketch.attention`: the scores materialized, masked
    and soft-maxed with numpy, one (batch, head) at a time, every step in
    ``accumulate`` (float64: the yardstick; the input dtype: what a plain
    implementation in that precision loses).  Returns arrays of ``accumulate``."""
    q, k, v = (np.asarray(x) for x in (q, k, v))
    batch, heads_q, seq_q, _ = q.shape
    group = heads_q // k.shape[1]
    out = np.zeros((batch, heads_q, seq_q, v.shape[3]), accumulate)
    lse = np.zeros((batch, heads_q, seq_q), accumulate)
    for b in range(batch):
        lk = k.shape[2] if kv_lengths is None else int(kv_lengths[b])
        for h in range(heads_q):
            out[b, h], lse[b, h] = _attention_one(q[b, h], k[b, h // group, :lk], v[b, h // group, :lk], causal,
                                                  (scale, base, min_scale), accumulate)
    return (out, lse) if return_lse else out


def attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, *, causal=False, scale="entropy", base=512,
                     min_scale=None, return_lse=False, accumulate=np.float64):
    """Reference for :func:`logsketch.attention_varlen`, sequence by sequence as
    :func:`attention` does (out (total_q, heads_q, d_v), lse (heads_q, total_q))."""
    q, k, v = (np.asarray(x) for x in (q, k, v))
    heads_q = q.shape[1]
    group = heads_q // k.shape[1]
    out = np.zeros((q.shape[0], heads_q, v.shape[2]), accumulate)
    lse = np.zeros((heads_q, q.shape[0]), accumulate)
    for b in range(len(cu_seqlens_q) - 1):
        qs = slice(int(cu_seqlens_q[b]), int(cu_seqlens_q[b + 1]))
        ks = slice(int(cu_seqlens_k[b]), int(cu_seqlens_k[b + 1]))
        for h in range(heads_q):
            out[qs, h], lse[h, qs] = _attention_one(q[qs, h], k[ks, h // group], v[ks, h // group], causal,
                                                    (scale, base, min_scale), accumulate)
    return (out, lse) if return_lse else out
