"""GPU benchmark of the Mitchell kernels against PyTorch on the same device.

Elementwise multiply (float32, 2^24 and 2^26 elements) is memory-bound: its
GB/s (3 arrays of traffic) is compared with the device's copy bandwidth
measured in the same run (``out.copy_(a)``, 2 arrays); the target is >= 80%.
Matmul (float32, n^3 for n = 2048, 4096, 8192) is compared with torch.matmul
with TF32 off, in TFLOP/s (2 flops per multiply-add), on random normal data
(every product normal: the kernel's fast tier) and on ReLU-like data (half
zeros: the general tier); float16 and bfloat16 Mitchell matmuls are compared
with torch's float16/bfloat16 matmul (tensor cores).

Every figure is the median of several runs timed with CUDA events around a
few back-to-back calls (so Python overhead overlaps the GPU work).

Run: python bench/bench_mitchell_gpu.py [--size small|full] [--out PATH]
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
    "small": {"elementwise": [1 << 20, 1 << 22], "matmul": [512, 1024], "repeats": 3},
    "full": {"elementwise": [1 << 24, 1 << 26], "matmul": [2048, 4096, 8192], "repeats": 7},
}


def _skip(reason):
    print(f"bench_mitchell_gpu: skipped: {reason}")
    sys.exit(0)


def _time(torch, fn, repeats, inner):
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


def bench_elementwise(torch, logsketch, n, repeats):
    a = torch.randn(n, device="cuda")
    b = torch.randn(n, device="cuda")
    out = torch.empty_like(a)
    nbytes = n * a.element_size()
    t_ours = _time(torch, lambda: logsketch.mitchell_multiply(a, b, out=out), repeats, inner=10)
    t_copy = _time(torch, lambda: out.copy_(a), repeats, inner=10)
    ours_gbs = 3 * nbytes / t_ours / 1e9
    copy_gbs = 2 * nbytes / t_copy / 1e9
    return {
        "kind": "multiply", "dtype": "float32", "size": n,
        "ms": t_ours * 1e3, "throughput": ours_gbs, "unit": "GB/s",
        "peer": "copy_ (device copy bandwidth)", "peer_ms": t_copy * 1e3, "peer_throughput": copy_gbs,
        "ratio": ours_gbs / copy_gbs, "target_ratio": 0.8,
    }  # fmt: skip


def bench_matmul(torch, logsketch, n, dtype, data, repeats):
    tdt = getattr(torch, dtype)
    a = torch.randn(n, n, device="cuda")
    b = torch.randn(n, n, device="cuda")
    if data == "relu":
        a = a.clamp_min(0)
        b = b.clamp_min(0)
    a, b = a.to(tdt), b.to(tdt)
    out = torch.empty(n, n, device="cuda", dtype=tdt)
    inner = 1 if n >= 4096 else 3
    t_ours = _time(torch, lambda: logsketch.mitchell_matmul(a, b, out=out), repeats, inner)
    t_peer = _time(torch, lambda: torch.matmul(a, b, out=out), repeats, inner)
    flops = 2.0 * n**3
    peer = f"torch.matmul {dtype}" + (" (TF32 off)" if dtype == "float32" else " (tensor cores)")
    return {
        "kind": "matmul", "dtype": dtype, "data": data, "size": n,
        "ms": t_ours * 1e3, "throughput": flops / t_ours / 1e12, "unit": "TFLOP/s",
        "peer": peer, "peer_ms": t_peer * 1e3, "peer_throughput": flops / t_peer / 1e12,
        "ratio": t_peer / t_ours,
    }  # fmt: skip


def machine(torch, logsketch):
    props = torch.cuda.get_device_properties(0)
    return {
        "gpu": props.name,
        "compute_capability": f"{props.major}.{props.minor}",
        "sms": props.multi_processor_count,
        "memory_gib": round(props.total_memory / 2**30, 1),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "logsketch": logsketch.__version__,
        "logsketch_cuda": logsketch.config()["cuda"],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def print_table(rows):
    header = (
        f"{'kernel':<9} {'dtype':<9} {'data':<7} {'size':>10} {'ms':>9} {'ours':>15} {'peer':>15} {'ratio':>6}  peer"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        size = f"{r['size']}^3" if r["kind"] == "matmul" else f"2^{r['size'].bit_length() - 1}"
        print(
            f"{r['kind']:<9} {r['dtype']:<9} {r.get('data', ''):<7} {size:>10} {r['ms']:>9.3f} "
            f"{r['throughput']:>9.2f} {r['unit']:<5} {r['peer_throughput']:>9.2f} {r['unit']:<5} "
            f"{r['ratio']:>6.2f}  {r['peer']}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, help="JSON path (default bench/results/<date>-<gpu>.json)")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        _skip("PyTorch is not installed")
    if not torch.cuda.is_available():
        _skip("PyTorch sees no CUDA device")
    import logsketch

    status = logsketch.config()["cuda"]
    if not status.get("built") or not status.get("device_found"):
        _skip(f"logsketch's CUDA module is unavailable: {status.get('detail')}")

    torch.backends.cuda.matmul.allow_tf32 = False  # the float32 peer is a true float32 GEMM
    torch.backends.cudnn.allow_tf32 = False
    cfg = SIZES[args.size]
    info = machine(torch, logsketch)
    print(f"GPU: {info['gpu']} (cc {info['compute_capability']}, {info['sms']} SMs), torch {info['torch']}")

    rows = []
    for n in cfg["elementwise"]:
        rows.append(bench_elementwise(torch, logsketch, n, cfg["repeats"]))
        torch.cuda.empty_cache()
    for n in cfg["matmul"]:
        rows.append(bench_matmul(torch, logsketch, n, "float32", "normal", cfg["repeats"]))
        rows.append(bench_matmul(torch, logsketch, n, "float32", "relu", cfg["repeats"]))
        for dtype in ("float16", "bfloat16"):
            rows.append(bench_matmul(torch, logsketch, n, dtype, "normal", cfg["repeats"]))
        torch.cuda.empty_cache()
    print_table(rows)

    out = args.out
    if out is None:
        gpu = re.sub(r"[^A-Za-z0-9]+", "-", info["gpu"]).strip("-").lower()
        out = Path(__file__).resolve().parent / "results" / f"{datetime.date.today():%Y-%m-%d}-{gpu}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "mitchell_gpu",
        "size": args.size,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": info,
        "results": rows,
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
