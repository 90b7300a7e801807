"""Entropy-invariant attention's gradients side by side with PyTorch's on the CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_attention_backward.py \
        [--size default|small] [--out PATH] [--plot PATH]

Two comparisons, float32 on every core, ratio = torch time / logsketch time
(> 1: logsketch faster), medians of several repetitions measured in this run:

- "fwd+bwd": logsketch.attention(return_lse=True) then
  logsketch.attention_backward, against torch autograd through
  scaled_dot_product_attention(q * lambda_i, k, v, scale=1.0) — the
  multiplication by lambda_i is inside the timed graph, so its backward is too
  (torch.autograd.grad, so no .grad accumulates between calls).
- "bwd": logsketch.attention_backward alone, against torch's CPU
  flash-attention backward (aten._scaled_dot_product_flash_attention_for_cpu_backward)
  given the pre-scaled q and its own saved out and logsumexp.

torch's is_causal aligns the mask top-left, which equals logsketch's
bottom-right alignment only when seq_q == seq_k, so every size is square.
Throughput: GFLOP/s with 4 B H N^2 d for the forward and 10 B H N^2 d for the
backward (five products of the size of one), halved for causal, printed
beside this machine's SGEMM rate (np.matmul 2048^3 float32, same run).
torch is optional: without it the rows are skipped with a note.  Targets
(fwd+bwd >= 1.5, bwd >= 1.3) are checked at the default sizes only.
Writes bench/results/<date>-<cpu>-attention-backward.json (and a PNG of the ratios).
"""

from __future__ import annotations

import os
import time
from functools import partial

import numpy as np

import logsketch as ls
from _harness import Case, add_sgemm_ceiling, median_time, plot_ratios, report, result_row, save, sgemm_rate, start

try:
    import torch
except ImportError:
    torch = None

# (batch, heads, seq, d, causal)
SIZES = {
    "default": dict(shapes=[(1, 8, 2048, 64, False), (1, 8, 2048, 64, True), (1, 8, 4096, 128, True)], sgemm=2048),
    "small": dict(shapes=[(1, 2, 256, 64, False), (1, 2, 256, 64, True)], sgemm=512),
}
# Each side is timed after a pause: torch's and OpenBLAS's threads keep
# spinning after their last call and slow a call that starts meanwhile
# (bench_attention.py).
SETTLE_S = 0.5
TIMING = {
    "default": dict(repeat=5, warmup=2, min_time=0),
    "small": dict(repeat=5, warmup=1, min_time=1e-3),
}
TARGETS = {"fwd+bwd": 1.5, "bwd": 1.3}


def lambdas(seq, d, causal):
    """lambda_i per query row, as logsketch computes it (float64)."""
    n = np.arange(1, seq + 1) if causal else np.full(seq, seq)
    return ls.entropy_scale(n, d)


def ours_fwd_bwd(q, k, v, dout, causal):
    out, lse = ls.attention(q, k, v, causal=causal, return_lse=True)
    return ls.attention_backward(dout, q, k, v, out, lse, causal=causal)


def torch_fwd_bwd(q, k, v, lam, dout, causal):
    out = torch.nn.functional.scaled_dot_product_attention(q * lam, k, v, is_causal=causal, scale=1.0)
    return torch.autograd.grad(out, (q, k, v), dout)


def torch_peers(q, k, v, dout, causal):
    """(fwd+bwd through autograd, flash backward alone) on the same data."""
    lam = torch.from_numpy(lambdas(q.shape[2], q.shape[3], causal).astype(np.float32))[:, None]
    tq, tk, tv = (torch.from_numpy(x).requires_grad_() for x in (q, k, v))
    tdout = torch.from_numpy(dout)
    fwd_bwd = partial(torch_fwd_bwd, tq, tk, tv, lam, tdout, causal)
    qs, tk0, tv0 = tq.detach() * lam, tk.detach(), tv.detach()
    out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(qs, tk0, tv0, 0.0, causal, scale=1.0)
    bwd = partial(torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward, tdout, qs, tk0, tv0, out,
                  lse, 0.0, causal, scale=1.0)
    return fwd_bwd, bwd


def cases(sizes, rng):
    for b, h, n, d, causal in sizes["shapes"]:
        q, k, v, dout = (rng.standard_normal((b, h, n, d), dtype=np.float32) for _ in range(4))
        out, lse = ls.attention(q, k, v, causal=causal, return_lse=True)
        half = 2 if causal else 1
        size = f"{b}x{h}x{n}x{d}" + (" causal" if causal else "")
        fwd_bwd, bwd = torch_peers(q, k, v, dout, causal)
        yield Case("attention fwd+bwd", size, "float32", "torch sdpa autograd",
                   partial(ours_fwd_bwd, q, k, v, dout, causal), fwd_bwd, 14 * b * h * n * n * d / half, "GFLOP/s",
                   TARGETS["fwd+bwd"])
        yield Case("attention bwd", size, "float32", "torch flash bwd",
                   partial(ls.attention_backward, dout, q, k, v, out, lse, causal=causal), bwd,
                   10 * b * h * n * n * d / half, "GFLOP/s", TARGETS["bwd"])


def main():
    args, info, notes = start(__doc__, SIZES, "-attention-backward")
    timing = TIMING[args.size]
    sgemm = {"sgemm_gflops": sgemm_rate(SIZES[args.size]["sgemm"], **timing), "sgemm_size": SIZES[args.size]["sgemm"]}
    print(f"machine   SGEMM {sgemm['sgemm_gflops']:.0f} GFLOP/s (np.matmul {sgemm['sgemm_size']}^3 float32)")
    notes.append(f"SGEMM in the same run: {sgemm['sgemm_gflops']:.0f} GFLOP/s (np.matmul {sgemm['sgemm_size']}^3 "
                 "float32)")
    rows = []
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if torch is None:
        notes.append("torch not installed: no peer, no rows")
    else:
        torch.set_num_threads(ls.get_num_threads())
        notes.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        for case in cases(SIZES[args.size], np.random.default_rng(0)):
            time.sleep(SETTLE_S)
            t = median_time(case.run, **timing)
            time.sleep(SETTLE_S)
            t_peer = median_time(case.run_peer, **timing)
            rows.append(add_sgemm_ceiling(result_row(case, t, t_peer, args.size), sgemm["sgemm_gflops"]))
            print(f"  measured {case.kernel} {case.size} vs {case.peer}", flush=True)
    if load is not None:  # a shared machine: other jobs slow both sides unevenly
        notes.append(f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
                     f"({os.cpu_count()} cores)")
    report(rows, notes, args.size)
    print()
    for r in rows:
        print(f"{r['kernel']} {r['size']}: {r['throughput']:.0f} GFLOP/s = "
              f"{r['share_of_sgemm']:.0%} of SGEMM (torch {r['peer_throughput']:.0f}); at the SGEMM rate the ratio "
              f"would be {r['ratio_at_sgemm_rate']:.2f}")
    payload = {"benchmark": "attention_backward", "size": args.size, "machine": info, "sgemm": sgemm,
               "notes": notes, "rows": rows}
    save(args, "-attention-backward", payload, lambda png: plot_ratios(rows, info, png, "attention backward"))


if __name__ == "__main__":
    main()
