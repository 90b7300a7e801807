"""What the GPU benchmarks share: arguments, the skip rule, CUDA-event timing,
the machine record and the results file."""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import re
import statistics
import sys
from pathlib import Path


def start(name: str, doc: str, sizes: dict, suffix: str = ""):
    """Parse --size/--out; return (args, torch, logsketch), or exit 0 with a
    note when torch, a CUDA device or logsketch's CUDA module is missing."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--size", choices=sorted(sizes), default="full")
    parser.add_argument("--out", type=Path, help=f"JSON path (default bench/results/<date>-<gpu>{suffix}.json)")
    args = parser.parse_args()

    def skip(reason):
        print(f"{name}: skipped: {reason}")
        sys.exit(0)

    try:
        import torch
    except ImportError:
        skip("PyTorch is not installed")
    if not torch.cuda.is_available():
        skip("PyTorch sees no CUDA device")
    import logsketch

    status = logsketch.config()["cuda"]
    if not status.get("built") or not status.get("device_found"):
        skip(f"logsketch's CUDA module is unavailable: {status.get('detail')}")
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 peers are true float32 GEMMs
    torch.backends.cudnn.allow_tf32 = False
    return args, torch, logsketch


def cuda_time(torch, fn, repeats, inner=3):
    """Median seconds per call of fn over `repeats` runs of `inner` back-to-back calls."""
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        begin = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        begin.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        times.append(begin.elapsed_time(end) / 1e3 / inner)
    return statistics.median(times)


def machine(torch, logsketch) -> dict:
    props = torch.cuda.get_device_properties(0)
    info = {
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
    print(f"GPU: {info['gpu']} (cc {info['compute_capability']}, {info['sms']} SMs), torch {info['torch']}")
    return info


def save(benchmark: str, args, info: dict, rows: list, suffix: str = "") -> None:
    """The run as JSON at --out, default bench/results/<date>-<gpu><suffix>.json."""
    out = args.out
    if out is None:
        gpu = re.sub(r"[^A-Za-z0-9]+", "-", info["gpu"]).strip("-").lower()
        out = Path(__file__).resolve().parent / "results" / f"{datetime.date.today():%Y-%m-%d}-{gpu}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": benchmark,
        "size": args.size,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": info,
        "results": rows,
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")
