"""The scikit-learn estimators side by side with the scikit-learn estimators they replace.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_sklearn.py \
        [--size default|small] [--out PATH] [--plot PATH]

The estimator paths a scikit-learn user switches, as that user calls them
(``fit_transform``), with equal work on both sides:

- ``RandomizedSVD(center=True)`` against ``PCA(svd_solver="randomized")`` on
  dense X: k = 50, 10 oversamples, 4 power iterations.  The error column is
  ``explained_variance_ratio_.sum()``, the fraction of the variance the k
  components explain (higher is better; the same on both sides up to the
  method's accuracy).
- ``JLProjection(kind="sparse")`` against ``SparseRandomProjection`` on CSR
  input, with ``dense_output=False`` (scikit-learn's default: both
  materialize the sparse R and return a sparse result) and with
  ``dense_output=True`` (logsketch's matrix-free kernel, a dense result).

Every ratio is peer time / logsketch time measured in this run (> 1: logsketch
faster), medians of several repetitions.  No targets: these rows watch the
estimator layer, whose kernels bench_rsvd.py and bench_jl.py measure.
Writes bench/results/<date>-<cpu>-sklearn.json (and a PNG of the ratios beside it).
"""

from __future__ import annotations

import os
from functools import partial

import numpy as np
import scipy.sparse as sp

import logsketch as ls
from _harness import Case, median_time, plot_ratios, report, result_row, save, start

try:
    from sklearn.decomposition import PCA
    from sklearn.random_projection import SparseRandomProjection
except ImportError:
    PCA = SparseRandomProjection = None

SIZES = {
    "default": dict(dense=(20000, 2000), k=50, csr=(100_000, 100_000, 1e-3), jl_k=256),
    "small": dict(dense=(2000, 300), k=10, csr=(5000, 20000, 1e-3), jl_k=64),
}
TIMING = {
    "default": dict(repeat=5, warmup=2, min_time=0),
    "small": dict(repeat=5, warmup=1, min_time=0),
}
OVERSAMPLES, N_ITER = 10, 4


def fit_transform(est, X):
    est.fit_transform(X)
    return est


def variance_explained(est):
    return (float(est.explained_variance_ratio_.sum()),)


def pca_cases(sizes, rng):
    m, n = sizes["dense"]
    k = sizes["k"]
    flops = 2 * m * n * (k + OVERSAMPLES) * (2 * N_ITER + 2)  # the products; the rest is lower order
    for dtype in (np.float32, np.float64):
        # a decaying spectrum plus noise, off-centre: what PCA is for
        X = (rng.standard_normal((m, k)) * np.linspace(10, 1, k)) @ rng.standard_normal((k, n))
        X = (X + rng.standard_normal((m, n)) + 5.0).astype(dtype)
        ours = ls.RandomizedSVD(k, n_oversamples=OVERSAMPLES, n_iter=N_ITER, center=True, seed=0)
        peer = PCA(k, svd_solver="randomized", n_oversamples=OVERSAMPLES, iterated_power=N_ITER, random_state=0)
        yield Case("RandomizedSVD center=True", f"{m}x{n} k={k}", np.dtype(dtype).name,
                   "PCA(svd_solver='randomized')", partial(fit_transform, ours, X), partial(fit_transform, peer, X),
                   flops, "GFLOP/s", error=variance_explained)


def jl_cases(sizes, rng):
    n, d, density = sizes["csr"]
    k = sizes["jl_k"]
    X = sp.random_array((n, d), density=density, format="csr", dtype=np.float32, rng=rng)
    nbytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    for dense_output in (False, True):
        ours = ls.JLProjection(k, kind="sparse", dense_output=dense_output, seed=0)
        peer = SparseRandomProjection(k, dense_output=dense_output, random_state=0)
        yield Case(f"JLProjection sparse dense_output={dense_output}", f"{n}x{d} csr {density:g}->{k}", "float32",
                   "SparseRandomProjection", partial(fit_transform, ours, X), partial(fit_transform, peer, X),
                   nbytes, "GB/s")


def measure(case, size):
    t = median_time(case.run, **TIMING[size])
    t_peer = median_time(case.run_peer, **TIMING[size])
    row = result_row(case, t, t_peer, size)
    if case.error is not None:
        row["error"] = case.error(case.run())
        row["peer_error"] = case.error(case.run_peer())
    return row


def main():
    args, info, notes = start(__doc__, SIZES, "-sklearn")
    load_before = os.getloadavg()[0]
    rows = []
    if PCA is None:
        notes.append("scikit-learn not installed: no rows")
    else:
        notes.append("error: PCA rows, explained_variance_ratio_.sum() (higher is better)")
        rng = np.random.default_rng(0)
        sizes = SIZES[args.size]
        for cases in (pca_cases(sizes, rng), jl_cases(sizes, rng)):
            for case in cases:  # built one at a time: one case's arrays alive at once
                rows.append(measure(case, args.size))
                print(f"  measured {case.kernel} {case.size} {case.dtype} vs {case.peer}", flush=True)
    # a shared machine: how busy it was, beside the figures
    notes.append(f"1-minute load average {load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after "
                 f"({os.cpu_count()} CPUs)")
    report(rows, notes, args.size)
    for r in rows:
        if "error" in r:
            print(f"{r['kernel']} {r['dtype']}: variance explained {r['error'][0]:.6f} (peer {r['peer_error'][0]:.6f})")
    payload = {"benchmark": "sklearn", "size": args.size, "machine": info, "notes": notes, "rows": rows}
    save(args, "-sklearn", payload, lambda png: plot_ratios(rows, info, png, "scikit-learn estimators"))


if __name__ == "__main__":
    main()
