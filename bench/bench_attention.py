"""Entropy-invariant attention side by side with PyTorch's fused CPU attention.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_attention.py \
        [--size default|small] [--out PATH] [--plot PATH]

The peer is torch.nn.functional.scaled_dot_product_attention given q already
multiplied by lambda_i (the fastest PyTorch equivalent of the per-row scale,
called with scale=1.0; the pre-scaling is not timed).  torch's is_causal
aligns the mask top-left, which equals logsketch's bottom-right alignment only
when seq_q == seq_k, so causal rows use seq_q == seq_k.  Both sides run float32
on every core.  Every ratio is torch time / logsketch time measured in this run
(> 1: logsketch faster), from medians of several repetitions.  Throughput:
GFLOP/s = 4 B H Nq Nk d (halved for causal) per second for prefill, printed
beside this machine's SGEMM rate (np.matmul 2048^3 float32, measured in the
same run); GB/s of K and V read for decode, beside a large np.copyto's read +
write rate.  torch is optional: without it the peer rows are skipped with a
note.  Targets are checked at the default sizes only.
Writes bench/results/<date>-<cpu>-attention.json (and a PNG of the ratios beside it).
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np

import logsketch as ls
from _harness import Case, median_time, plot_ratios, report, result_row, save, start

try:
    import torch
except ImportError:
    torch = None

# (batch, heads, seq_q, seq_k, d, causal)
SIZES = {
    "default": dict(prefill=[(1, 8, 2048, 2048, 64, False), (1, 8, 2048, 2048, 64, True),
                             (1, 8, 4096, 4096, 128, True)],
                    decode=[(1, 32, 1, 32768, 128, False), (8, 32, 1, 32768, 128, False)],
                    sgemm=2048, copy_bytes=1 << 30),
    "small": dict(prefill=[(1, 2, 256, 256, 64, False), (1, 2, 256, 256, 64, True)],
                  decode=[(1, 4, 1, 4096, 128, False)], sgemm=512, copy_bytes=1 << 26),
}
# Each side is timed after a pause and three warmup calls: torch's and
# OpenBLAS's threads keep spinning after their last call, and on 2 cores a
# logsketch call that starts meanwhile ran at half speed (188 against 418
# GFLOP/s at 1x8x2048x2048x64 in a run without the pause).
SETTLE_S = 0.5
TIMING = {
    "default": dict(repeat=5, warmup=3, min_time=0),
    "small": dict(repeat=5, warmup=1, min_time=1e-3),
}
TARGETS = {"prefill": 1.2, "decode": 1.0}  # vs torch, issue 5




def lambdas(seq_q, seq_k, d, causal):
    """lambda_i per query row, as logsketch computes it (float64)."""
    n = np.clip(np.arange(seq_q) + 1 + seq_k - seq_q, 1, seq_k) if causal else np.full(seq_q, seq_k)
    return ls.entropy_scale(n, d)


def torch_peer(q, k, v, causal):
    b, h, seq_q, d = q.shape
    lam = lambdas(seq_q, k.shape[2], d, causal).astype(np.float32)
    tq = torch.from_numpy(q * lam[:, None])
    tk, tv = torch.from_numpy(k), torch.from_numpy(v)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    return partial(sdpa, tq, tk, tv, is_causal=causal, scale=1.0)


def cases(sizes, rng):
    for b, h, nq, nk, d, causal in sizes["prefill"]:
        q, k, v = (rng.standard_normal((b, h, n, d), dtype=np.float32) for n in (nq, nk, nk))
        flops = 4 * b * h * nq * nk * d / (2 if causal else 1)
        yield Case("attention causal" if causal else "attention", f"{b}x{h}x{nq}x{nk}x{d}", "float32",
                   "torch sdpa", partial(ls.attention, q, k, v, causal=causal), torch_peer(q, k, v, causal),
                   flops, "GFLOP/s", TARGETS["prefill"])
    for b, h, nq, nk, d, causal in sizes["decode"]:
        k = np.empty((b, h, nk, d), np.float32)
        v = np.empty_like(k)
        for i in range(b):  # one batch entry at a time: the float64 temporaries stay small
            k[i] = rng.standard_normal((h, nk, d), dtype=np.float32)
            v[i] = rng.standard_normal((h, nk, d), dtype=np.float32)
        q = rng.standard_normal((b, h, nq, d), dtype=np.float32)
        yield Case("attention decode", f"{b}x{h}x{nq}x{nk}x{d}", "float32", "torch sdpa",
                   partial(ls.attention, q, k, v), torch_peer(q, k, v, False), k.nbytes + v.nbytes, "GB/s",
                   TARGETS["decode"])
        del k, v


def machine_rates(sizes, timing):
    """This machine's SGEMM GFLOP/s and copy GB/s (read + write), measured now."""
    n = sizes["sgemm"]
    a = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    gemm = 2 * n**3 / median_time(np.matmul, a, a, **timing) / 1e9
    src = np.ones(sizes["copy_bytes"] // 4, np.float32)
    dst = np.empty_like(src)
    copy = 2 * src.nbytes / median_time(np.copyto, dst, src, **timing) / 1e9
    return {"sgemm_gflops": gemm, "sgemm_size": n, "copy_gbs": copy, "copy_bytes": src.nbytes}


def main():
    args, info, notes = start(__doc__, SIZES, "-attention")
    timing = TIMING[args.size]
    rates = machine_rates(SIZES[args.size], timing)
    print(f"machine   SGEMM {rates['sgemm_gflops']:.0f} GFLOP/s (np.matmul {rates['sgemm_size']}^3 float32), "
          f"copy {rates['copy_gbs']:.1f} GB/s read+write (np.copyto {rates['copy_bytes'] >> 20} MiB)")
    rows = []
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
            rows.append(result_row(case, t, t_peer, args.size))
            print(f"  measured {case.kernel} {case.size} vs {case.peer}", flush=True)
    report(rows, notes, args.size)
    print()
    for r in rows:
        if r["unit"] == "GFLOP/s":
            print(f"{r['kernel']} {r['size']}: {r['throughput']:.0f} GFLOP/s = "
                  f"{r['throughput'] / rates['sgemm_gflops']:.0%} of SGEMM")
        else:
            print(f"{r['kernel']} {r['size']}: {r['throughput']:.1f} GB/s of K/V = "
                  f"{r['throughput'] / rates['copy_gbs']:.0%} of np.copyto's read+write rate")
    payload = {"benchmark": "attention", "size": args.size, "machine": info, "rates": rates, "notes": notes,
               "rows": rows}
    save(args, "-attention", payload, lambda png: plot_ratios(rows, info, png, "attention"))


if __name__ == "__main__":
    main()
