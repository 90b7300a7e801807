"""nn modules over the logsketch operators: attention, a Mitchell linear layer
and a JL projection layer."""

from __future__ import annotations

import torch
from torch import nn

from ._ops import _MITCHELL_BACKWARDS, attention, jl_project, mitchell_matmul

__all__ = ["EntropyInvariantAttention", "JLProjection", "MitchellLinear"]


class EntropyInvariantAttention(nn.Module):
    """Multi-head self-attention whose softmax scale is logsketch's entropy-invariant lambda_i.

    x (batch, seq, embed_dim) -> (batch, seq, embed_dim): q, k and v
    projections (``nn.Linear``), :func:`logsketch.torch.attention` over the
    heads, an output projection.  ``num_kv_heads`` below ``num_heads`` gives
    grouped-query attention (``num_heads`` a multiple of it; 1 is multi-query).
    ``causal``, ``scale``, ``base`` and ``min_scale`` are those of
    :func:`logsketch.torch.attention` (base: the reference length b of
    log_b(n_i), e.g. the training length).  The projections' outputs are
    handed to the kernel as (batch, heads, seq, head_dim) views, no copy.

    ``rotary=True`` applies rotary position embeddings (RoPE, base 10000, the
    rotate-half form) to q and k.

    ``forward(x, kv_lengths=None)``: kv_lengths (batch,) int tensor, keys at
    positions >= kv_lengths[b] are invisible (padding).
    """

    def __init__(self, embed_dim, num_heads, num_kv_heads=None, *, causal=False, scale="entropy", base=512,
                 min_scale=None, bias=True, rotary=False, device=None, dtype=None):
        super().__init__()
        num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim must be a multiple of num_heads; got {embed_dim} and {num_heads}")
        if num_kv_heads < 1 or num_heads % num_kv_heads:
            raise ValueError(f"num_heads must be a multiple of num_kv_heads; got {num_heads} and {num_kv_heads}")
        self.embed_dim, self.num_heads, self.num_kv_heads = embed_dim, num_heads, num_kv_heads
        self.head_dim = embed_dim // num_heads
        self.causal, self.scale, self.base, self.min_scale = causal, scale, base, min_scale
        self.rotary = bool(rotary)
        if self.rotary and self.head_dim % 2:
            raise ValueError(f"rotary needs an even head_dim; got {self.head_dim}")
        kw = dict(bias=bias, device=device, dtype=dtype)
        kv_dim = num_kv_heads * self.head_dim
        self.q_proj = nn.Linear(embed_dim, embed_dim, **kw)
        self.k_proj = nn.Linear(embed_dim, kv_dim, **kw)
        self.v_proj = nn.Linear(embed_dim, kv_dim, **kw)
        self.out_proj = nn.Linear(embed_dim, embed_dim, **kw)

    def _heads(self, x, heads):
        batch, seq, _ = x.shape
        return x.view(batch, seq, heads, self.head_dim).transpose(1, 2)

    def attend(self, q, k, v, kv_lengths=None):
        """The attention of (batch, heads, seq, head_dim) q, k, v."""
        return attention(q, k, v, causal=self.causal, scale=self.scale, base=self.base, min_scale=self.min_scale,
                         kv_lengths=kv_lengths)

    def forward(self, x, kv_lengths=None):
        if x.dim() != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"x must have shape (batch, seq, {self.embed_dim}); got {tuple(x.shape)}")
        q = self._heads(self.q_proj(x), self.num_heads)
        k = self._heads(self.k_proj(x), self.num_kv_heads)
        v = self._heads(self.v_proj(x), self.num_kv_heads)
        if self.rotary:
            q, k = _rotate(q), _rotate(k)
        out = self.attend(q, k, v, kv_lengths)
        return self.out_proj(out.transpose(1, 2).reshape(x.shape))

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, num_kv_heads={self.num_kv_heads}, "
                f"causal={self.causal}, scale={self.scale!r}, base={self.base}, min_scale={self.min_scale}, "
                f"rotary={self.rotary}")


def _rotate(x):
    """RoPE on (batch, heads, seq, head_dim): pairs (i, i + d/2) rotated by position * 10000^(-2i/d)."""
    seq, dim = x.shape[-2], x.shape[-1]
    inv = 10000.0 ** (-torch.arange(0, dim // 2, device=x.device, dtype=torch.float32) * 2 / dim)
    angles = torch.arange(seq, device=x.device, dtype=torch.float32)[:, None] * inv
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., : dim // 2], x[..., dim // 2:]
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)


class MitchellLinear(nn.Linear):
    """``nn.Linear`` whose matmul is Mitchell's: y = x (x) W^T + b.

    A drop-in ``nn.Linear``: the same constructor (plus ``compensated`` and
    ``backward``), initialization and state_dict keys (``weight``, ``bias``).
    The bias is added exactly.  ``backward="mitchell"`` computes the input and
    weight gradients with Mitchell products too (ApproxTrain, PAM);
    ``"exact"`` with ordinary matmuls (see :func:`logsketch.torch.mitchell_matmul`).
    Inputs (..., in_features) are flattened to rows for the product.
    """

    def __init__(self, in_features, out_features, bias=True, compensated=False, backward="mitchell", device=None,
                 dtype=None):
        if backward not in _MITCHELL_BACKWARDS:
            raise ValueError(f"backward must be 'mitchell' or 'exact'; got {backward!r}")
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.compensated, self.backward = bool(compensated), backward

    def forward(self, x):
        rows = x.reshape(-1, x.shape[-1]) if x.dim() != 2 else x
        y = mitchell_matmul(rows, self.weight.t(), compensated=self.compensated, backward=self.backward)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features) if x.dim() != 2 else y

    def extra_repr(self):
        return f"{super().extra_repr()}, compensated={self.compensated}, backward={self.backward!r}"


class JLProjection(nn.Module):
    """A fixed JL random projection layer: x (..., in_features) -> x R^T (..., k).

    R (k, in_features) is :func:`logsketch.jl_components` of ``kind``,
    ``density`` and ``seed``: generated on the fly in the forward and again in
    the backward, never stored (no parameter, no buffer; the state_dict is
    empty and the module is rebuilt from its constructor arguments).
    """

    def __init__(self, in_features, k, kind="gaussian", density="auto", seed=0):
        super().__init__()
        self.in_features, self.k, self.kind, self.density, self.seed = in_features, k, kind, density, seed

    def forward(self, x):
        if x.dim() == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"x must have shape (..., {self.in_features}); got {tuple(x.shape)}")
        return jl_project(x, self.k, kind=self.kind, density=self.density, seed=self.seed)

    def extra_repr(self):
        return f"in_features={self.in_features}, k={self.k}, kind={self.kind!r}, density={self.density!r}, " \
               f"seed={self.seed}"
