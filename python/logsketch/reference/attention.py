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


def _attention_backward_one(dout, q, k, v, causal, lam_args, accumulate):
    """One (sequence, query head): the gradients dq (Lq, d), dk (Lk, d), dv (Lk, dv)
    of out = softmax(lambda_i q_i K^T) V, with P recomputed from scratch."""
    lq, d = q.shape
    lk = k.shape[0]
    i = np.arange(lq)
    n = np.clip(i + 1 + lk - lq, 0, lk) if causal else np.full(lq, lk)
    lam = _attention_lambda(n, d, *lam_args).astype(accumulate)
    q, k, v, dout = (x.astype(accumulate) for x in (q, k, v, dout))
    rows = n > 0
    with np.errstate(invalid="ignore", over="ignore"):  # inf and NaN inputs propagate
        scores = (lam[:, None] * q) @ k.T
        seen = np.arange(lk)[None, :] < n[:, None]
        scores = np.where(seen, scores, -np.inf)
        p = np.zeros((lq, lk), accumulate)
        if rows.any() and lk:
            m = scores[rows].max(axis=1, keepdims=True)
            e = np.exp(scores[rows] - m)
            p[rows] = e / e.sum(axis=1, keepdims=True)
        dv = p.T @ dout
        dp = dout @ v.T
        ds = p * (dp - (dp * p).sum(axis=1, keepdims=True))  # D_i = dout_i . out_i = sum_j p_ij dp_ij
        ds = np.where(seen, ds, 0)
        dq = lam[:, None] * (ds @ k)
        dk = ds.T @ (lam[:, None] * q)
    return dq, dk, dv


def attention_backward(dout, q, k, v, *, causal=False, scale="entropy", base=512, min_scale=None,
                       kv_lengths=None, accumulate=np.float64):
    """Reference for :func:`logsketch.attention_backward`: the softmax P
    materialized (not taken from a saved lse), dS = P o (dP - rowsum(P o dP)),
    every step in ``accumulate``.  Returns (dq, dk, dv) of ``accumulate``;
    GQA gradients summed over each kv head's query heads, keys past
    kv_lengths zero."""
    dout, q, k, v = (np.asarray(x) for x in (dout, q, k, v))
    batch, heads_q = q.shape[:2]
    group = heads_q // k.shape[1]
    dq = np.zeros(q.shape, accumulate)
    dk = np.zeros(k.shape, accumulate)
    dv = np.zeros(v.shape, accumulate)
    for b in range(batch):
        lk = k.shape[2] if kv_lengths is None else int(kv_lengths[b])
        for h in range(heads_q):
            g = h // group
            dq[b, h], dkh, dvh = _attention_backward_one(dout[b, h], q[b, h], k[b, g, :lk], v[b, g, :lk], causal,
                                                         (scale, base, min_scale), accumulate)
            dk[b, g, :lk] += dkh
            dv[b, g, :lk] += dvh
    return dq, dk, dv


def attention_varlen_backward(dout, q, k, v, cu_seqlens_q, cu_seqlens_k, *, causal=False, scale="entropy",
                              base=512, min_scale=None, accumulate=np.float64):
    """Reference for :func:`logsketch.attention_varlen_backward`, sequence by
    sequence as :func:`attention_backward` does."""
    dout, q, k, v = (np.asarray(x) for x in (dout, q, k, v))
    heads_q = q.shape[1]
    group = heads_q // k.shape[1]
    dq = np.zeros(q.shape, accumulate)
    dk = np.zeros(k.shape, accumulate)
    dv = np.zeros(v.shape, accumulate)
    for b in range(len(cu_seqlens_q) - 1):
        qs = slice(int(cu_seqlens_q[b]), int(cu_seqlens_q[b + 1]))
        ks = slice(int(cu_seqlens_k[b]), int(cu_seqlens_k[b + 1]))
        for h in range(heads_q):
            g = h // group
            dq[qs, h], dkh, dvh = _attention_backward_one(dout[qs, h], q[qs, h], k[ks, g], v[ks, g], causal,
                                                          (scale, base, min_scale), accumulate)
            dk[ks, g] += dkh
            dv[ks, g] += dvh
    return dq, dk, dv
