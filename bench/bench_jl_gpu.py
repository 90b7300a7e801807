"""GPU benchmark of logsketch.jl_project against a cuBLAS GEMM on the same device.

For each kind and shape (N x d -> k, float32), the projection (R generated on
the fly, never stored) is compared with torch.matmul(X, R.T) for a
materialized R of the same shape (cuBLAS, TF32 off), in TFLOP/s counted as
2 N d k for both (the srht kind does O(N d' log d') work; its figure is the
dense GEMM's equivalent rate).  Materializing R is not timed: the peer is the
best case of "keep R and call a GEMM".

Every figure is the median of several runs timed with CUDA events around a
few back-to-back calls.

Run: python bench/bench_jl_gpu.py [--size small|full] [--out PATH]
Without PyTorch or a CUDA device it prints why and exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import re
import statistics
import sys
from pathlib import Path

SIZES = {
    "small": {"shapes": [(4096, 1024, 128)], "repeats": 3},
    "full": {"shapes": [(20000, 4096, 256), (100000, 1024, 128), (8192, 16384, 512)], "repeats": 7},
}
KINDS = ("gaussian", "sparse", "srht")


def _skip(reason):
    print(f"bench_jl_gpu: skipped: {reason}")
    sys.exit(0)


def _time(torch, fn, repeats, inner=3):
    """Median seconds per call of fn over `repeats` runs of `inner` back-to-back calls."""
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3 / inner)
    return statistics.median(times)


def bench_one(torch, logsketch, jl_gpu, kind, n, d, k, repeats):
    X = torch.randn(n, d, device="cuda")
    R = jl_gpu.components(k, d, kind=kind, seed=1, framework="torch", device=torch.cuda.current_device())
    ours = _time(torch, lambda: logsketch.jl_project(X, k, kind=kind, seed=1), repeats)
    peer = _time(torch, lambda: torch.matmul(X, R.T), repeats)
    flops = 2.0 * n * d * k
    return {
        "kind": kind, "n": n, "d": d, "k": k, "dtype": "float32",
        "ms": ours * 1e3, "tflops": flops / ours / 1e12,
        "peer": "torch.matmul (cuBLAS, materialized R)", "peer_ms": peer * 1e3, "peer_tflops": flops / peer / 1e12,
        "ratio": peer / ours,
    }  # fmt: skip


def machine(torch, logsketch):
    props = torch.cuda.get_device_properties(0)
    return {
        "gpu": props.name,
        "compute_capability": f"{props.major}.{props.minor}",
        "sms": props.multi_processor_count,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "logsketch": logsketch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, help="JSON path (default bench/results/<date>-<gpu>-jl.json)")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        _skip("PyTorch is not installed")
    if not torch.cuda.is_available():
        _skip("PyTorch sees no CUDA device")
    import logsketch
    from logsketch import _jl_gpu

    status = logsketch.config()["cuda"]
    if not status.get("built") or not status.get("device_found"):
        _skip(f"logsketch's CUDA module is unavailable: {status.get('detail')}")

    torch.backends.cuda.matmul.allow_tf32 = False  # the float32 peer is a true float32 GEMM
    cfg = SIZES[args.size]
    info = machine(torch, logsketch)
    print(f"GPU: {info['gpu']} (cc {info['compute_capability']}, {info['sms']} SMs), torch {info['torch']}")
    rows = []
    for n, d, k in cfg["shapes"]:
        for kind in KINDS:
            if kind == "srht" and d > _jl_gpu.MAX_SRHT_ORDER:
                continue
            rows.append(bench_one(torch, logsketch, _jl_gpu, kind, n, d, k, cfg["repeats"]))
            torch.cuda.empty_cache()
    print(f"{'kind':<9} {'N x d -> k':>22} {'ms':>9} {'TFLOP/s':>8} {'peer ms':>9} {'peer':>8} {'ratio':>6}")
    for r in rows:
        shape = f"{r['n']} x {r['d']} -> {r['k']}"
        print(
            f"{r['kind']:<9} {shape:>22} {r['ms']:>9.3f} {r['tflops']:>8.2f} {r['peer_ms']:>9.3f} "
            f"{r['peer_tflops']:>8.2f} {r['ratio']:>6.2f}"
        )

    out = args.out
    if out is None:
        gpu = re.sub(r"[^A-Za-z0-9]+", "-", info["gpu"]).strip("-").lower()
        out = Path(__file__).resolve().parent / "results" / f"{datetime.date.today():%Y-%m-%d}-{gpu}-jl.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "jl_gpu",
        "size": args.size,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": info,
        "results": rows,
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
