"""logsketch.torch against the calls a PyTorch user would make instead.

    python bench/bench_torch.py [--size default|small] [--out PATH] [--plot PATH]

Rows (ratio = peer time / logsketch time; > 1: logsketch faster):

- overhead: each torch op on tiny inputs (1 thread) against the numpy API on
  the same data; the extra time per call is reported beside its target
  (under 10 us).  The "ratio" here is numpy-API time / torch-op time.
- MitchellLinear(backward="mitchell") training step (forward + backward)
  against nn.Linear, float32 (the goal is >= 0.5x), in steady state (3 warm-up steps).
- lt.attention forward + backward against torch SDPA forward + backward on q
  pre-scaled by lambda_i (autograd through the pre-scale), float32; and the
  backward alone against SDPA's backward (its CPU flash kernel).
  GFLOP/s count the causal half where it applies (4 * heads * seq^2 * d
  forward, 2.5x that backward), and are printed beside SGEMM's.

Writes bench/results/<date>-<cpu>-torch.json (and a PNG of the ratios).
"""

from __future__ import annotations

import math
import os
import time
from functools import partial

import numpy as np

import logsketch as ls
from _harness import Case, add_sgemm_ceiling, median_time, plot_ratios, report, result_row, save, sgemm_rate, start

try:
    import torch
    import torch.nn.functional as F

    import logsketch.torch as lt
except ImportError:
    torch = None

SIZES = {
    "default": dict(linear=(256, 4096, 4096), attention=[(1, 8, 2048, 64, False), (1, 8, 2048, 64, True),
                                                         (1, 8, 4096, 128, True)], sgemm=2048),
    "small": dict(linear=(64, 512, 512), attention=[(1, 2, 256, 64, False), (1, 2, 256, 64, True)], sgemm=512),
}
TIMING = {"default": dict(repeat=3, warmup=1, min_time=0), "small": dict(repeat=3, warmup=1, min_time=0)}
OVERHEAD_TIMING = dict(repeat=15, warmup=200, min_time=2e-3)
# A training step allocates its gradients afresh (zero_grad(set_to_none=True)); the first steps of a
# process pay the kernel's first-touch cost of those 64 MiB buffers several times over: steady state
# is what a training loop sees.
STEP_TIMING = dict(repeat=5, warmup=3, min_time=0)
OVERHEAD_TARGET_S = 10e-6
SETTLE_S = 0.5


def overhead_rows():
    """(name, torch call, numpy-API call) on tiny inputs."""
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, 1, 1, 64)).astype(np.float32)
    k, v = rng.standard_normal((2, 1, 1, 16, 64)).astype(np.float32)
    tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))
    yield "attention 1x1x1x64 over 16 keys", partial(lt.attention, tq, tk, tv), partial(ls.attention, q, k, v)
    a, b = rng.uniform(0.5, 2, (2, 2, 2)).astype(np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    yield "mitchell_matmul 2x2", partial(lt.mitchell_matmul, ta, tb), partial(ls.mitchell_matmul, a, b)
    x = rng.standard_normal((1, 64)).astype(np.float32)
    tx = torch.from_numpy(x)
    yield "jl_project 1x64->8", partial(lt.jl_project, tx, 8), partial(ls.jl_project, x, 8)
    cu = np.array([0, 1], np.int32)
    tcu = torch.from_numpy(cu)
    yield ("attention_varlen 1 token", partial(lt.attention_varlen, tq[0].transpose(0, 1), tk[0].transpose(0, 1)[:1],
                                               tv[0].transpose(0, 1)[:1], tcu, tcu, 1, 1),
           partial(ls.attention_varlen, q[0].swapaxes(0, 1), k[0].swapaxes(0, 1)[:1], v[0].swapaxes(0, 1)[:1], cu, cu))


def measure_overhead():
    ls_threads, torch_threads = ls.get_num_threads(), torch.get_num_threads()
    ls.set_num_threads(1)
    torch.set_num_threads(1)
    rows = []
    for name, torch_call, numpy_call in overhead_rows():
        t_torch = median_time(torch_call, **OVERHEAD_TIMING)
        t_numpy = median_time(numpy_call, **OVERHEAD_TIMING)
        extra = t_torch - t_numpy
        rows.append({"kernel": f"overhead {name}", "size": "tiny", "dtype": "float32", "peer": "numpy API",
                     "time_s": t_torch, "peer_time_s": t_numpy, "ratio": t_numpy / t_torch, "throughput": 0.0,
                     "peer_throughput": 0.0, "unit": "-", "target": None, "extra_s": extra,
                     "target_extra_s": OVERHEAD_TARGET_S, "passed": None,
                     "extra_passed": bool(extra <= OVERHEAD_TARGET_S)})
        print(f"  overhead {name}: torch {t_torch * 1e6:.2f} us, numpy API {t_numpy * 1e6:.2f} us, "
              f"extra {extra * 1e6:.2f} us", flush=True)
    ls.set_num_threads(ls_threads)
    torch.set_num_threads(torch_threads)
    return rows


def linear_case(batch, n_in, n_out):
    torch.manual_seed(0)
    x = torch.randn(batch, n_in)
    mitchell = lt.MitchellLinear(n_in, n_out, backward="mitchell")
    linear = torch.nn.Linear(n_in, n_out)

    def step(layer):
        layer.zero_grad(set_to_none=True)
        x_ = x.detach().requires_grad_()
        layer(x_).sum().backward()

    return Case(kernel="MitchellLinear fwd+bwd", size=f"{batch}x{n_in}->{n_out}", dtype="float32",
                peer="nn.Linear fwd+bwd", run=partial(step, mitchell), run_peer=partial(step, linear),
                work=3 * 2 * batch * n_in * n_out, unit="GFLOP/s", target=0.5)


def _lambda(seq, d, causal):
    n = torch.arange(1, seq + 1, dtype=torch.float64) if causal else torch.full((seq,), float(seq), dtype=torch.float64)
    return (torch.log(n) / math.log(512) / math.sqrt(d)).float().view(1, 1, seq, 1)


def attention_cases(batch, heads, seq, d, causal):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(batch, heads, seq, d, generator=g) for _ in range(3))
    dout = torch.randn(batch, heads, seq, d, generator=g)
    lam = _lambda(seq, d, causal)
    frac = 0.5 if causal else 1.0
    fwd_flops = 4 * batch * heads * seq * seq * d * frac
    size = f"{batch}x{heads}x{seq}x{d}{' causal' if causal else ''}"

    def ours():
        qs, ks, vs = (x.detach().requires_grad_() for x in (q, k, v))
        lt.attention(qs, ks, vs, causal=causal).backward(dout)

    def peer():
        qs, ks, vs = (x.detach().requires_grad_() for x in (q, k, v))
        F.scaled_dot_product_attention(qs * lam, ks, vs, is_causal=causal, scale=1.0).backward(dout)

    yield Case(kernel="attention fwd+bwd", size=size, dtype="float32", peer="SDPA(q*lambda) fwd+bwd", run=ours,
               run_peer=peer, work=3.5 * fwd_flops, unit="GFLOP/s", target=1.5)

    out, lse = lt.attention(q, k, v, causal=causal, return_lse=True)
    bwd = partial(torch.ops.logsketch.attention_backward, dout, q, k, v, out, lse, None, causal, "entropy", 0.0,
                  512.0, None)
    qs, ks, vs = (x.detach().requires_grad_() for x in (q, k, v))
    o = F.scaled_dot_product_attention(qs * lam, ks, vs, is_causal=causal, scale=1.0)
    peer_bwd = partial(torch.autograd.grad, o, (qs, ks, vs), dout, retain_graph=True)
    yield Case(kernel="attention bwd", size=size, dtype="float32", peer="SDPA bwd (CPU flash)", run=bwd,
               run_peer=peer_bwd, work=2.5 * fwd_flops, unit="GFLOP/s", target=1.3)


def main():
    args, info, notes = start(__doc__, SIZES, "-torch")
    sizes, timing = SIZES[args.size], TIMING[args.size]
    if torch is None:
        notes.append("torch not installed: no rows")
        report([], notes, args.size)
        save(args, "-torch", {"benchmark": "torch", "size": args.size, "machine": info, "notes": notes, "rows": []},
             None)
        return
    torch.set_num_threads(ls.get_num_threads())
    notes.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads (logsketch "
                 f"{ls.get_num_threads()}); the overhead rows run on 1 thread each")
    sgemm = sgemm_rate(sizes["sgemm"], **timing)
    print(f"machine   SGEMM {sgemm:.0f} GFLOP/s (np.matmul {sizes['sgemm']}^3 float32)")
    rows = measure_overhead()
    cases = [linear_case(*sizes["linear"])]
    for shape in sizes["attention"]:
        cases.extend(attention_cases(*shape))
    for case in cases:
        case_timing = STEP_TIMING if case.kernel.startswith("MitchellLinear") and args.size == "default" else timing
        time.sleep(SETTLE_S)
        t = median_time(case.run, **case_timing)
        time.sleep(SETTLE_S)
        t_peer = median_time(case.run_peer, **case_timing)
        row = result_row(case, t, t_peer, args.size)
        rows.append(add_sgemm_ceiling(row, sgemm) if case.kernel.startswith("attention") else row)
        print(f"  measured {case.kernel} {case.size} vs {case.peer}: ratio {t_peer / t:.3g}", flush=True)
    load = os.getloadavg()[0]
    if load > 1.5 * (os.cpu_count() or 1) / 2:
        notes.append(f"load average {load:.1f} on {os.cpu_count()} cores at the end: the machine was shared, "
                     "times are noisy")
    report(rows, notes, args.size)
    print()
    for r in rows:
        if r.get("extra_s") is not None:
            print(f"{r['kernel']}: {r['extra_s'] * 1e6:.2f} us extra per call (target < "
                  f"{r['target_extra_s'] * 1e6:.0f} us): {'pass' if r['extra_passed'] else 'MISS'}")
        elif r["unit"] == "GFLOP/s":
            ceiling = (f"; at the SGEMM rate the ratio would be {r['ratio_at_sgemm_rate']:.2f}"
                       if "ratio_at_sgemm_rate" in r else "")
            print(f"{r['kernel']} {r['size']}: {r['throughput']:.0f} GFLOP/s (peer {r['peer_throughput']:.0f}); "
                  f"SGEMM {sgemm:.0f}{ceiling}")
    payload = {"benchmark": "torch", "size": args.size, "machine": info, "sgemm_gflops": sgemm,
               "notes": notes, "rows": rows}
    save(args, "-torch", payload, lambda png: plot_ratios(rows, info, png, "torch"))


if __name__ == "__main__":
    main()
