"""Mitchell kernels side by side with numpy, the plain-numpy reference and torch.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_mitchell.py \
        [--size default|small] [--out PATH] [--plot PATH]

Every ratio is peer time / logsketch time measured in this run (> 1: logsketch
faster), from medians of several repetitions.  Targets are checked at the
default sizes only; --size small runs in seconds (for CI) and shows them
unenforced.  Misses are printed; the exit code is 0 either way.
Writes bench/results/<date>-<cpu>.json (and a PNG of the ratios beside it).
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

import logsketch as ls
from _harness import Case, median_time, plot_ratios, report, result_row, save, start

try:
    import torch
except ImportError:
    torch = None

SIZES = {  # elementwise length, float32 matmul sizes, other matmul size, reference matmul size
    "default": dict(elements=1 << 24, matmul=(1024, 2048), other=1024, reference=256),
    "small": dict(elements=1 << 16, matmul=(128,), other=128, reference=64),
}
# Small sizes take microseconds: more, shorter samples and a longer warmup (the
# first calls after OpenBLAS's threads ran wait for a core; see _harness).
TIMING = {
    "default": dict(repeat=7, warmup=2, min_time=0.02),
    "small": dict(repeat=21, warmup=20, min_time=1e-3),
}




def elementwise_cases(n, rng):
    x, y = rng.standard_normal((2, n), dtype=np.float32)
    y[y == 0] = 1  # a few exact zeros: np.divide would warn
    out_ls, out_np = np.empty_like(x), np.empty_like(x)
    size, nbytes = f"2^{n.bit_length() - 1}", 3 * 4 * n
    yield Case("multiply", size, "float32", "np.multiply",
               partial(ls.mitchell_multiply, x, y), partial(np.multiply, x, y), nbytes, "GB/s", 1.5)
    yield Case("multiply", size, "float32", "reference",
               partial(ls.mitchell_multiply, x, y), partial(ls.reference.mitchell_multiply, x, y),
               nbytes, "GB/s", 20, slow_peer=True)
    yield Case("divide", size, "float32", "np.divide",
               partial(ls.mitchell_divide, x, y), partial(np.divide, x, y), nbytes, "GB/s")
    yield Case("multiply out=", size, "float32", "np.multiply out=",
               partial(ls.mitchell_multiply, x, y, out=out_ls), partial(np.multiply, x, y, out=out_np), nbytes, "GB/s")


def matmul_cases(sizes, rng):
    for m in sizes["matmul"]:
        a, b = rng.standard_normal((2, m, m), dtype=np.float32)
        yield Case("matmul", f"{m}^3", "float32", "np.matmul",
                   partial(ls.mitchell_matmul, a, b), partial(np.matmul, a, b), 2 * m**3, "GFLOP/s", 0.4)
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            yield Case("matmul", f"{m}^3", "float32", "torch.matmul",
                       partial(ls.mitchell_matmul, a, b), partial(torch.matmul, ta, tb), 2 * m**3, "GFLOP/s")
    m = sizes["other"]
    # Half the products have a zero factor: the kernel's general (special-value) tier.
    a = np.maximum(rng.standard_normal((m, m), dtype=np.float32), 0)
    b = rng.standard_normal((m, m), dtype=np.float32)
    yield Case("matmul ReLU A", f"{m}^3", "float32", "np.matmul",
               partial(ls.mitchell_matmul, a, b), partial(np.matmul, a, b), 2 * m**3, "GFLOP/s")
    for dtype in (np.float16, np.float64):
        a, b = rng.standard_normal((2, m, m)).astype(dtype)
        yield Case("matmul", f"{m}^3", np.dtype(dtype).name, "np.matmul",
                   partial(ls.mitchell_matmul, a, b), partial(np.matmul, a, b), 2 * m**3, "GFLOP/s",
                   slow_peer=dtype == np.float16)  # numpy has no float16 GEMM: seconds per call
    r = sizes["reference"]
    a, b = rng.standard_normal((2, r, r), dtype=np.float32)
    yield Case("matmul", f"{r}^3", "float32", "reference",
               partial(ls.mitchell_matmul, a, b), partial(ls.reference.mitchell_matmul, a, b),
               2 * r**3, "GFLOP/s", 1000, slow_peer=True)


def measure(case, size):
    t = median_time(case.run, **TIMING[size])
    if case.slow_peer:
        t_peer = median_time(case.run_peer, repeat=2, warmup=0, min_time=0)
    else:
        t_peer = median_time(case.run_peer, **TIMING[size])
    return result_row(case, t, t_peer, size)


def main():
    args, info, notes = start(__doc__, SIZES, "")
    if torch is None:
        notes.append("torch not installed: torch.matmul rows skipped")

    rng = np.random.default_rng(0)
    sizes = SIZES[args.size]
    rows = []
    # Cases are built one at a time, so only one case's arrays are alive at once.
    for case in itertools.chain(elementwise_cases(sizes["elements"], rng), matmul_cases(sizes, rng)):
        rows.append(measure(case, args.size))
        print(f"  measured {case.kernel} {case.size} {case.dtype} vs {case.peer}", flush=True)

    report(rows, notes, args.size)
    payload = {"benchmark": "mitchell", "size": args.size, "machine": info, "notes": notes, "rows": rows}
    save(args, "", payload, lambda png: plot_ratios(rows, info, png, "Mitchell kernels"))


if __name__ == "__main__":
    main()
