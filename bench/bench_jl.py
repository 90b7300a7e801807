"""JL random projection side by side with scikit-learn and a BLAS GEMM, and its memory.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_jl.py \
        [--size default|small] [--out PATH] [--plot PATH]

Every ratio is peer time / logsketch time measured in this run (> 1: logsketch
faster), from medians of several repetitions.  The scikit-learn rows time
fit + transform on both sides, as a user would call them.  "materialize +
np.matmul" is the alternative the gaussian kernel was measured against
(generate R with jl_components, multiply with OpenBLAS): the reason there is
no BLAS path.  Its time is the sum of the two parts timed apart: run back to
back, libgomp's spinning threads (ours) slow OpenBLAS's next call several times
on a 2-core machine, which would only flatter the kernel.  The memory rows run each kind in a fresh process on d = 10^6
features and report the peak resident memory beyond X and Y (VmHWM, reset
before the call).  Targets are checked at the default sizes only.
Writes bench/results/<date>-<cpu>-jl.json (and a PNG of the ratios beside it).
"""

from __future__ import annotations

import json
import operator
import subprocess
import sys
import textwrap
from functools import partial

import numpy as np
import scipy.sparse as sp

import logsketch as ls
from _harness import Case, median_time, plot_ratios, report, result_row, save, start

try:
    from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection
except ImportError:
    GaussianRandomProjection = SparseRandomProjection = None

SIZES = {
    "default": dict(dense=(20000, 4096, 256), small_n=200, csr=(100_000, 100_000, 1e-3, 256),
                    memory=(1000, 1_000_000, 4096)),
    "small": dict(dense=(2000, 1024, 64), small_n=50, csr=(5000, 20000, 1e-3, 64), memory=(100, 100_000, 512)),
}
# Three warmup calls: the first calls after the other side's thread pool ran
# (OpenBLAS's, libgomp's) wait for it to stop spinning on the 2 cores.
TIMING = {
    "default": dict(repeat=5, warmup=3, min_time=0),
    "small": dict(repeat=7, warmup=2, min_time=1e-3),
}
TARGETS = {"gaussian": 2, "sparse": 20, "srht": 10}  # vs scikit-learn, issue 3




def fit_transform(est, X):
    return est.fit_transform(X)


def dense_cases(sizes, rng):
    n, d, k = sizes["dense"]
    X = rng.standard_normal((n, d), dtype=np.float32)
    size = f"{n}x{d}->{k}"
    if GaussianRandomProjection is not None:
        for kind in ("gaussian", "sparse", "srht"):
            peer = SparseRandomProjection if kind == "sparse" else GaussianRandomProjection
            ours = ls.JLProjection(n_components=k, kind=kind, seed=0)
            work, unit = (2 * n * d * k, "GFLOP/s") if kind == "gaussian" else (X.nbytes, "GB/s")
            yield Case(f"JLProjection {kind}", size, "float32", f"{peer.__name__}",
                       partial(fit_transform, ours, X), partial(fit_transform, peer(k, random_state=0), X),
                       work, unit, TARGETS[kind])
    # The BLAS alternative for the gaussian kind, at a large and a small N.
    for rows in (n, sizes["small_n"]):
        Xr = X[:rows]
        yield Case("jl_project gaussian", f"{rows}x{d}->{k}", "float32", "materialize + np.matmul",
                   partial(ls.jl_project, Xr, k), materialize_matmul(Xr, k), 2 * rows * d * k, "GFLOP/s")


def materialize_matmul(X, k):
    """The BLAS path's two parts: generate R, multiply (by R as generated once)."""
    R = ls.jl_components(k, X.shape[1], dtype=X.dtype)
    return partial(ls.jl_components, k, X.shape[1], dtype=X.dtype), partial(operator.matmul, X, R.T)


def csr_cases(sizes, rng):
    n, d, density, k = sizes["csr"]
    X = sp.random_array((n, d), density=density, format="csr", dtype=np.float32, rng=rng)
    size = f"{n}x{d} csr {density:g}->{k}"
    nbytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    if SparseRandomProjection is not None:
        # Both sides' default keeps sparse input sparse (R materialized); dense_output=True
        # is logsketch's matrix-free kernel against scikit-learn's densified product.
        for dense in (False, True):
            yield Case(f"JLProjection sparse dense_output={dense}", size, "float32", "SparseRandomProjection",
                       partial(fit_transform, ls.JLProjection(n_components=k, kind="sparse", dense_output=dense), X),
                       partial(fit_transform, SparseRandomProjection(k, random_state=0, dense_output=dense), X),
                       nbytes, "GB/s")
    yield Case("jl_project gaussian", size, "float32", "materialize + X @ R.T",
               partial(ls.jl_project, X, k), materialize_matmul(X, k), 2 * X.nnz * k, "GFLOP/s")


def measure(case, size):
    t = median_time(case.run, **TIMING[size])
    parts = case.run_peer if isinstance(case.run_peer, tuple) else (case.run_peer,)
    t_peer = sum(median_time(part, **TIMING[size]) for part in parts)
    return result_row(case, t, t_peer, size)


# A fresh process per kind: X is built first, the peak-RSS mark is reset
# (/proc/self/clear_refs, 5), then one jl_project call runs.
_MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import logsketch as ls

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024

    n, d, k, kind = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    X = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
    ls.jl_project(X[:1, :64], 8, kind=kind)  # load the module and threads outside the measurement
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS")
    start = time.perf_counter()
    y = ls.jl_project(X, k, kind=kind)
    seconds = time.perf_counter() - start
    extra = status("VmHWM") - before - y.nbytes
    print(json.dumps({"kind": kind, "seconds": seconds, "peak_extra_bytes": extra, "x_bytes": X.nbytes,
                      "y_bytes": y.nbytes}))
    """
)


def memory_rows(sizes):
    n, d, k = sizes["memory"]
    rows = []
    for kind in ("gaussian", "sparse", "srht"):
        out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(n), str(d), str(k), kind],
                             capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row.update(size=f"{n}x{d}->{k}", dtype="float32", dense_matrix_bytes=4 * k * d)
        rows.append(row)
        print(f"  measured memory {kind} {row['size']}", flush=True)
    return rows


def format_memory(rows):
    lines = ["kind      size                  time    peak extra RSS   X        R if stored (float32)"]
    for r in rows:
        lines.append(f"{r['kind']:<9} {r['size']:<20} {r['seconds']:6.2f} s  {r['peak_extra_bytes'] / 2**20:9.1f} MiB"
                     f"   {r['x_bytes'] / 2**30:.1f} GiB  {r['dense_matrix_bytes'] / 2**30:.1f} GiB")
    return "\n".join(lines)


def main():
    args, info, notes = start(__doc__, SIZES, "-jl")
    if GaussianRandomProjection is None:
        notes.append("scikit-learn not installed: its rows skipped")

    rng = np.random.default_rng(0)
    sizes = SIZES[args.size]
    rows = []
    for cases in (dense_cases(sizes, rng), csr_cases(sizes, rng)):
        for case in cases:  # built one at a time: one case's arrays alive at once
            rows.append(measure(case, args.size))
            print(f"  measured {case.kernel} {case.size} vs {case.peer}", flush=True)
    memory = memory_rows(sizes)

    report(rows, notes, args.size)
    print()
    print(format_memory(memory))
    payload = {"benchmark": "jl", "size": args.size, "machine": info, "notes": notes, "rows": rows, "memory": memory}
    save(args, "-jl", payload, lambda png: plot_ratios(rows, info, png, "JL projection"))


if __name__ == "__main__":
    main()
