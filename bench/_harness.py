"""Shared benchmark helpers: timing, the machine's description, the table, JSON,
and the command line and report every benchmark script shares."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import socket
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

import logsketch

# Set on the shared machines: they slow OpenBLAS, so BLAS benchmarks run with both unset.
BLAS_SLOWING_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BLAS_ENV = BLAS_SLOWING_ENV + ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


@dataclass
class Case:
    """One row of a benchmark: logsketch's call against a peer's, on the same data."""

    kernel: str
    size: str
    dtype: str
    peer: str
    run: Callable[[], object]
    run_peer: Callable[[], object] | tuple  # a tuple: parts timed apart, medians summed
    work: float  # bytes moved or flops done by one call
    unit: str  # "GB/s" or "GFLOP/s"
    target: float | None = None
    slow_peer: bool = False  # timed twice, one call each
    error: Callable[[object], tuple] | None = None  # a call's result -> error figures


def _per_call(fn, args, loops):
    start = time.perf_counter()
    for _ in range(loops):
        fn(*args)
    return (time.perf_counter() - start) / loops


def median_time(fn, *args, repeat=7, warmup=1, min_time=1e-3):
    """Median seconds per call of ``fn(*args)`` over ``repeat`` samples.

    A sample calls ``fn`` enough times in a row to last at least ``min_time``
    seconds, so calls too fast for the timer are still measured well;
    ``min_time=0`` makes every sample a single call (for slow functions).
    Keep ``min_time`` short: on a shared machine a stall of several ms now and
    then inflates whole samples, and the median only drops it when it hits a
    minority of samples.  The doubling search for the loop count adds to the
    warmup: the first calls after another thread pool (BLAS) ran can be slow.
    """
    for _ in range(warmup):
        fn(*args)
    loops = 1
    while (t := _per_call(fn, args, loops)) * loops < min_time:
        loops *= 2
    samples = [t] + [_per_call(fn, args, loops) for _ in range(repeat - 1)]
    return statistics.median(samples)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_slug() -> str:
    """A short file-name-safe name for the CPU, e.g. 'amd-epyc'."""
    return re.sub(r"[^a-z0-9]+", "-", cpu_model().lower()).strip("-")[:40] or "cpu"


def _numpy_blas():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):  # numpy < 1.26 has no mode="dicts"
        return None
    return {k: blas.get(k) for k in ("name", "version", "openblas configuration")}


def machine_info() -> dict:
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "hostname": socket.gethostname(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "logsketch": logsketch.config(),
        "numpy": np.__version__,
        "numpy_blas": _numpy_blas(),
        "blas_env": {name: os.environ.get(name) for name in BLAS_ENV},
    }


def print_machine(info: dict) -> None:
    cfg = info["logsketch"]
    blas = info["numpy_blas"] or {}
    cuda = cfg["cuda"]
    print(f"date      {info['date']}  host {info['hostname']}")
    print(f"cpu       {info['cpu']}, {info['cores']} cores")
    print(
        f"logsketch {cfg['version']} ({cfg['compiler']}), SIMD {cfg['simd_in_use']} "
        f"(detected {cfg['simd_detected']}), {cfg['threads']} threads, "
        f"GPU {cuda['device_name'] if cuda['device_found'] else 'none'}"
    )
    print(f"numpy     {info['numpy']}, BLAS {blas.get('name')} {blas.get('version')}")
    print("BLAS env  " + ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in info["blas_env"].items()))
    slowing = [k for k in BLAS_SLOWING_ENV if info["blas_env"][k] is not None]
    if slowing:
        print(f"WARNING   {', '.join(slowing)} set: BLAS peers run slow; rerun with `env -u {' -u '.join(slowing)}`")


def _seconds(t: float) -> str:
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t * 1e9:.3g} ns"


def format_table(rows: list[dict]) -> str:
    """Rows as a text table; ratio = peer time / logsketch time (> 1: logsketch faster)."""
    header = ("kernel", "size", "dtype", "peer", "logsketch", "peer time", "ratio", "throughput", "target", "")
    lines = [
        (
            r["kernel"],
            r["size"],
            r["dtype"],
            r["peer"],
            _seconds(r["time_s"]),
            _seconds(r["peer_time_s"]),
            f"{r['ratio']:.3g}",
            f"{r['throughput']:.3g} {r['unit']}",
            f">= {r['target']:g}" if r["target"] is not None else "-",
            {True: "pass", False: "MISS", None: ""}[r["passed"]],
        )
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in [header] + lines) for i in range(len(header))]
    right = {4, 5, 6, 7}  # numbers

    def fmt(line):
        cells = (str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(line, widths)))
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths).rstrip()
    return "\n".join([fmt(header), rule] + [fmt(line) for line in lines])


def write_json(path, payload) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def result_row(case, t: float, t_peer: float, size: str) -> dict:
    """A table row from a case (kernel, size, dtype, peer, work, unit, target)
    and its two times; the target counts at the default size only."""
    ratio = t_peer / t
    enforced = case.target is not None and size == "default"
    return {
        "kernel": case.kernel,
        "size": case.size,
        "dtype": case.dtype,
        "peer": case.peer,
        "time_s": t,
        "peer_time_s": t_peer,
        "ratio": ratio,
        "throughput": case.work / t / 1e9,
        "peer_throughput": case.work / t_peer / 1e9,
        "unit": case.unit,
        "target": case.target,
        "passed": bool(ratio >= case.target) if enforced else None,
    }


def sgemm_rate(n: int, **timing) -> float:
    """This machine's float32 GEMM rate in GFLOP/s (np.matmul n^3, all threads)."""
    a = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    return 2 * n**3 / median_time(np.matmul, a, a, **timing) / 1e9


def add_sgemm_ceiling(row: dict, sgemm_gflops: float) -> dict:
    """Add to a GFLOP/s row the ratio logsketch would reach running its flops at
    the SGEMM rate: peer time / (work / SGEMM rate).  Work that is matrix
    products plus more (exponentials, packing) beats that rate only with
    products more efficient than this machine's BLAS, so a target above it
    asks for more than the best GEMM here gives (the FMA peak is the hard
    limit; docs/torch.md)."""
    ceiling = sgemm_gflops / row["peer_throughput"]
    row["ratio_at_sgemm_rate"] = ceiling
    row["share_of_sgemm"] = row["throughput"] / sgemm_gflops
    if row.get("target") is not None:
        row["target_within_ceiling"] = bool(row["target"] <= ceiling)
    return row


def start(doc: str, sizes, name: str):
    """Parse the command line and print the machine: (args, info, notes)."""
    args = parse_args(doc, sizes, name)
    info = machine_info()
    print_machine(info)
    notes = ["--size small: targets shown, not enforced"] if args.size == "small" else []
    return args, info, notes


def parse_args(doc: str, sizes, name: str):
    """--size (default|small, keys of `sizes`), --out and --plot."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(sizes), default="default")
    parser.add_argument("--out", type=Path, help=f"JSON path (default bench/results/<date>-<cpu>{name}.json)")
    parser.add_argument("--plot", type=Path, help="PNG path (default: the JSON path with .png)")
    return parser.parse_args()


def report(rows: list[dict], notes: list[str], size: str) -> None:
    """The table, the notes, and each missed target (targets count at the default size)."""
    print()
    print(format_table(rows))
    for note in notes:
        print(f"note: {note}")
    misses = [r for r in rows if r["passed"] is False]
    for r in misses:
        print(f"MISSED TARGET: {r['kernel']} {r['size']} {r['dtype']} vs {r['peer']}: "
              f"ratio {r['ratio']:.3g} < {r['target']:g}")
    if size == "default" and not misses:
        print("all targets met")


def save(args, name: str, payload: dict, plot) -> None:
    """payload as JSON at --out (default bench/results/<date>-<cpu><name>[-small].json),
    then plot(path) beside it unless matplotlib is missing or there are no rows
    (every peer missing)."""
    suffix = name if args.size == "default" else f"{name}-{args.size}"
    out = args.out or Path(__file__).parent / "results" / f"{datetime.date.today()}-{cpu_slug()}{suffix}.json"
    write_json(out, payload)
    print(f"wrote {out}")
    png = args.plot or out.with_suffix(".png")
    if not payload.get("rows"):
        print("note: no rows: no plot")
        return
    try:
        plot(png)
        print(f"wrote {png}")
    except ImportError:
        print("note: matplotlib not installed: no plot")


def plot_ratios(rows: list[dict], info: dict, path, family: str) -> None:
    """The ratios as horizontal bars, coloured by target met/missed/unchecked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colors = {True: "tab:green", False: "tab:red", None: "tab:gray"}
    y = np.arange(len(rows))[::-1]
    ratios = [r["ratio"] for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(rows) + 1.8))
    ax.barh(y, ratios, color=[colors[r["passed"]] for r in rows])
    for yi, ratio in zip(y, ratios):
        ax.annotate(f"{ratio:.3g}", (ratio, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    targets = [(yi, r["target"]) for yi, r in zip(y, rows) if r["target"] is not None]
    ax.scatter([t for _, t in targets], [yi for yi, _ in targets], marker="|", s=300, color="black")
    ax.axvline(1, color="black", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_xlim(right=4 * max(ratios + [t for _, t in targets]))
    ax.set_yticks(y, [f"{r['kernel']} {r['size']} {r['dtype']} vs {r['peer']}" for r in rows], fontsize=8)
    ax.set_xlabel("peer time / logsketch time  (> 1: logsketch faster)")
    cfg = info["logsketch"]
    ax.set_title(f"logsketch {family}: {info['cpu']}, {cfg['simd_in_use']}, {cfg['threads']} threads",
                 fontsize=10)
    handles = [Patch(color=c, label=label) for c, label in
               ((colors[True], "target met"), (colors[False], "target missed"), (colors[None], "not checked"))]
    handles.append(Line2D([], [], marker="|", markersize=12, linestyle="none", color="black", label="target"))
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
