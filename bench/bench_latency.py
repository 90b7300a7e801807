"""Tiny-call latency: logsketch's argument handling over its own compiled call.

    python bench/bench_latency.py [--size default|small] [--out PATH]  (--plot is ignored: no plot)

On inputs so small that the kernel takes nanoseconds, what a user waits for is
the Python layer: argument checks, the problem spec, allocation.  Each row
times three things on one thread (``logsketch.set_num_threads(1)``):

- the public call (``logsketch.mitchell_multiply(a, b)`` ...),
- the compiled call alone (``logsketch._core.<fn>`` with arguments prepared
  beforehand, the output included),
- the peer a user would pick instead (numpy, torch SDPA when installed),

and reports the overhead = public - compiled against its target (2 us for
mitchell_multiply with and without out=, 4 us for attention decode and
jl_project).  The whole measurement is repeated ``rounds`` times; the table
gives the median over rounds and the spread (min..max) of the overhead, as the
machine may be shared.  Exit code 0 either way; misses are printed.
Writes bench/results/<date>-<cpu>-latency.json.
"""

from __future__ import annotations

import datetime
import math
import statistics
from functools import partial
from pathlib import Path

import numpy as np

import logsketch as ls
from _harness import cpu_slug, machine_info, median_time, parse_args, print_machine, write_json

try:
    import torch
except ImportError:
    torch = None

SIZES = {
    "default": dict(rounds=7, repeat=15, warmup=200, min_time=2e-3),
    "small": dict(rounds=3, repeat=7, warmup=50, min_time=1e-3),
}


def cases():
    """(name, target overhead in s, public call, compiled call, peer name, peer call) per row."""
    from logsketch import _core

    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 2, (2, 2)).astype(np.float32)
    out_ls, out_np, out_core = np.empty_like(a), np.empty_like(a), np.empty_like(a)
    yield ("mitchell_multiply 2 float32", 2e-6, partial(ls.mitchell_multiply, a, b),
           partial(_core.mitchell_binary, a, b, out_core, "multiply", False),
           "np.multiply", partial(np.multiply, a, b))
    yield ("mitchell_multiply out= 2 float32", 2e-6, partial(ls.mitchell_multiply, a, b, out=out_ls),
           partial(_core.mitchell_binary, a, b, out_core, "multiply", False),
           "np.multiply out=", partial(np.multiply, a, b, out=out_np))

    q = rng.standard_normal((1, 1, 1, 64)).astype(np.float32)
    k, v = rng.standard_normal((2, 1, 1, 16, 64)).astype(np.float32)
    out = np.empty_like(q)
    core = partial(_core.attention, q, k, v, out, None, None, False, True, math.log(512), -math.inf, 0.0)
    if torch is not None:
        tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))
        peer = ("torch SDPA", partial(torch.nn.functional.scaled_dot_product_attention, tq, tk, tv))
    else:
        peer = (None, None)
    yield ("attention decode 1x1x1x64 over 16 keys float32", 4e-6, partial(ls.attention, q, k, v), core, *peer)

    X = rng.standard_normal((1, 64)).astype(np.float32)
    Y = np.empty((1, 8), np.float32)
    density = 1 / math.sqrt(64)
    RT = np.ascontiguousarray(ls.jl_components(8, 64, seed=0).T)
    yield ("jl_project 1x64->8 gaussian float32", 4e-6, partial(ls.jl_project, X, 8, seed=0),
           partial(_core.jl_project_dense, X, Y, "gaussian", 8, 0, density),
           "np.matmul(X, R.T) materialized", partial(np.matmul, X, RT))


def measure(timing):
    """One round: {name: (public, compiled, peer)} medians in seconds."""
    t = partial(median_time, repeat=timing["repeat"], warmup=timing["warmup"], min_time=timing["min_time"])
    return {name: (t(public), t(compiled), t(peer) if peer else None)
            for name, _, public, compiled, _, peer in cases()}


def row(name, target, peer_name, samples):
    public = [s[0] for s in samples]
    compiled = [s[1] for s in samples]
    overhead = [p - c for p, c in zip(public, compiled)]
    peer = [s[2] for s in samples if s[2] is not None]
    med = statistics.median(overhead)
    return {
        "kernel": name,
        "peer": peer_name,
        "time_s": statistics.median(public),
        "compiled_time_s": statistics.median(compiled),
        "overhead_s": med,
        "overhead_min_s": min(overhead),
        "overhead_max_s": max(overhead),
        "peer_time_s": statistics.median(peer) if peer else None,
        "target_overhead_s": target,
        "passed": med <= target,
        "rounds": len(samples),
    }


def _us(t):
    return "-" if t is None else f"{t * 1e6:.2f}"


def print_table(rows):
    header = ("kernel", "public us", "compiled us", "overhead us (min..max)", "target us", "", "peer", "peer us")
    lines = [(r["kernel"], _us(r["time_s"]), _us(r["compiled_time_s"]),
              f"{_us(r['overhead_s'])} ({_us(r['overhead_min_s'])}..{_us(r['overhead_max_s'])})",
              f"<= {_us(r['target_overhead_s'])}", "pass" if r["passed"] else "MISS",
              r["peer"] or "-", _us(r["peer_time_s"])) for r in rows]
    widths = [max(len(str(x[i])) for x in [header] + lines) for i in range(len(header))]
    for line in [header] + lines:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())


def main():
    args = parse_args(__doc__, SIZES, "-latency")
    ls.set_num_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    info = machine_info()
    print_machine(info)
    notes = ["1 thread; overhead = public call - compiled call alone (logsketch._core with prepared arguments)"]
    if torch is None:
        notes.append("torch not installed: the torch SDPA peer is skipped")
    timing = SIZES[args.size]
    rounds = []
    for i in range(timing["rounds"]):
        rounds.append(measure(timing))
        print(f"  round {i + 1} of {timing['rounds']} done", flush=True)
    rows = [row(name, target, peer_name, [r[name] for r in rounds])
            for name, target, _, _, peer_name, _ in cases()]
    print()
    print_table(rows)
    for note in notes:
        print(f"note: {note}")
    misses = [r["kernel"] for r in rows if not r["passed"]]
    print("MISSED TARGET: " + ", ".join(misses) if misses else "all targets met")
    payload = {"benchmark": "latency", "size": args.size, "machine": info, "notes": notes, "timing": timing,
               "rows": rows, "rounds": [{k: list(v) for k, v in r.items()} for r in rounds]}
    suffix = "-latency" if args.size == "default" else f"-latency-{args.size}"
    out = args.out or Path(__file__).parent / "results" / f"{datetime.date.today()}-{cpu_slug()}{suffix}.json"
    print(f"wrote {write_json(out, payload)}")


if __name__ == "__main__":
    main()
