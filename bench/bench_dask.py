"""The dask backend on a LocalCluster (2 worker processes x 1 thread) beside dask's and dask-ml's own.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE nice python bench/bench_dask.py \
        [--size default|small] [--out PATH] [--skip-out-of-core] [--skip-sparse]

Cases (default size; --size small shrinks every matrix for CI):

- randomized_svd of a dense 400000 x 2000 float32 dask array (chunks of 20000
  rows, persisted on the workers), k = 50, 10 oversamples, 4 power
  iterations, against dask.array.linalg.svd_compressed with the same k,
  oversamples and iterations (iterator="QR", which normalizes between
  products as logsketch does, and the default iterator="power", which does
  not) and dask-ml's TruncatedSVD(algorithm="randomized").  The matrix is a
  rank-100 signal with decaying weights plus noise, generated inside the
  tasks; each side's error is the Frobenius residual ||A - U S Vt||_F (a dask
  reduction over A's blocks) over the Eckart-Young optimum
  sqrt(||A||_F^2 - sum_{i<=k} s_i^2), the s_i from the Gram matrix A^T A
  (a dask reduction, eigenvalues in memory in float64).
- The same on a 2,000,000 x 100,000 sparse matrix (CSR chunks of 100000
  rows, 0.05% nonzeros), k = 100: dask-ml's TruncatedSVD does not run on
  scipy.sparse chunks (it computes X.var, which scipy.sparse refuses), so
  the peer is svd_compressed on the same chunks where it runs.
- jl_project to 256 dimensions of the dense matrix (gaussian and sparse
  kinds) against X @ R.T with R materialized by scikit-learn
  (GaussianRandomProjection / SparseRandomProjection components_).
- Compute floor: one block's products timed on one thread in the driver
  (the randomized SVD's A_r Z and A_r^T Q, which every side does at equal
  work, and each JL call), times the blocks per worker: the time with no
  scheduling, transfer or reduction cost.  ratio_ceiling = peer time / floor
  is the best ratio this machine allows; floor_share = floor / logsketch time.
- Scaling: logsketch's dense calls on 1 worker and on 2; efficiency =
  t1 / (2 t2).
- Out of core (unless --skip-out-of-core): a randomized SVD of a float32
  matrix generated block by block from a seed inside the tasks (never stored:
  about 40 GiB at the default size), on 2 workers with a memory limit each;
  the peak RSS of each worker process (psutil, sampled in the workers).

Each timing is one call after a warm-up call on a small array (these runs
take minutes), the JL projections' the median of 5 alternating calls; ratio
= peer time / logsketch time.  Writes
bench/results/<date>-<cpu>-dask.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import threading
import time
import warnings
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import scipy.sparse as sp
from distributed import Client, LocalCluster, wait

import logsketch
from _harness import cpu_slug, machine_info, print_machine, write_json

try:
    from dask_ml.decomposition import TruncatedSVD
except ImportError:
    TruncatedSVD = None

SIZES = {
    "default": dict(dense=(400_000, 2000, 20_000), k=50, sparse=(2_000_000, 100_000, 100_000, 5e-4), sparse_k=100,
                    jl_k=256, ooc=(5_242_880, 2048, 65_536), ooc_k=10, ooc_iter=1, memory_limit="4GiB"),
    "small": dict(dense=(20_000, 200, 2000), k=10, sparse=(20_000, 2000, 5000, 5e-3), sparse_k=10,
                  jl_k=32, ooc=(40_000, 256, 5000), ooc_k=5, ooc_iter=1, memory_limit="1GiB"),
}
OVERSAMPLES, N_ITER, RANK = 10, 4, 100
JL_REPEAT = 5
TARGETS = {"rsvd dense": 3, "rsvd sparse": 3, "jl_project": 5}


# --------------------------------------------------------------------------- data, generated in the tasks


def dense_block(block_id=None, rows=None, n=None, seed=0):
    """A rank-100 signal with weights 1/(1 + j/10) plus noise 0.05: the block's rows, from (seed, block)."""
    rng = np.random.default_rng((seed, block_id[0]))
    rank = min(RANK, n)
    mixing = np.random.default_rng((seed, 1 << 30)).standard_normal((rank, n), dtype=np.float32) / np.float32(np.sqrt(n))
    weights = (1.0 / (1.0 + np.arange(rank) / 10.0)).astype(np.float32)
    signal = rng.standard_normal((rows, rank), dtype=np.float32) * weights
    return signal @ mixing + np.float32(0.05 / np.sqrt(n)) * rng.standard_normal((rows, n), dtype=np.float32)


def sparse_block(block_id=None, rows=None, n=None, density=None, seed=1):
    rng = np.random.default_rng((seed, block_id[0]))
    return sp.random(rows, n, density=density, format="csr", dtype=np.float32, random_state=rng)


def generated(block, m, n, chunk, **kw):
    return da.map_blocks(block, chunks=((chunk,) * (m // chunk), (n,)), dtype=np.float32, rows=chunk, n=n, **kw)


# --------------------------------------------------------------------------- timing and errors


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def optimal_residual(A, k):
    """sqrt(||A||_F^2 - sum_{i<=k} s_i^2) with s from the Gram matrix A^T A (a dask reduction; float32
    products, eigenvalues in float64: the tail's share of ||A||_F^2 is large here, so 1e-7 relative is plenty)."""
    gram = (A.T @ A).compute().astype(np.float64)
    eig = np.sort(np.linalg.eigvalsh(gram))[::-1]
    return float(np.sqrt(max(np.trace(gram) - eig[:k].sum(), 0.0)))


def residual(A, U, S, Vt):
    """||A - U S Vt||_F, block by block."""
    SVt = (np.asarray(S)[:, None] * np.asarray(Vt)).astype(np.float32)
    U = U.rechunk({0: A.chunks[0]}) if isinstance(U, da.Array) else da.from_array(U, chunks=(A.chunks[0], -1))
    diff = A - U.map_blocks(lambda u: u @ SVt, chunks=A.chunks, dtype=np.float32)
    return float(np.sqrt((diff.astype(np.float64) ** 2).sum().compute()))


def sparse_captured(A, Vt):
    """||A V||_F^2 / ||A||_F^2: the share of A's energy the k right vectors capture (no optimum known)."""
    V = np.ascontiguousarray(np.asarray(Vt).T, dtype=np.float32)
    proj = A.map_blocks(lambda a: np.asarray(a @ V), chunks=(A.chunks[0], (V.shape[1],)), dtype=np.float32)
    num = (proj.astype(np.float64) ** 2).sum().compute()
    den = A.map_blocks(lambda a: np.array([[float(a.multiply(a).sum())]]), chunks=((1,) * A.numblocks[0], (1,)),
                       dtype=np.float64).sum().compute()
    return float(num / den)


def one_thread_seconds(fn, repeat=3):
    """Median seconds of fn() on one thread (logsketch's and BLAS's), after a warm-up call."""
    from threadpoolctl import threadpool_limits

    threads = logsketch.get_num_threads()
    logsketch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            fn()
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
    finally:
        logsketch.set_num_threads(threads)
    return float(np.median(times))


def compute_floor(cfg, workers):
    """Seconds the block products alone take with every worker busy and no scheduling cost, from one
    block timed on one thread here: the randomized SVD's (n_iter + 1) products A_r Z and A_r^T Q
    (the same for logsketch and the peers at equal work) and each JL projection's per-block call."""
    m, n, chunk = cfg["dense"]
    l, k = cfg["k"] + OVERSAMPLES, cfg["jl_k"]
    block = dense_block(block_id=(0, 0), rows=chunk, n=n)
    rng = np.random.default_rng(3)
    z = rng.standard_normal((n, l), dtype=np.float32)
    q = rng.standard_normal((chunk, l), dtype=np.float32)
    blocks_per_worker = -(-(m // chunk) // workers)
    product = one_thread_seconds(lambda: block @ z) + one_thread_seconds(lambda: block.T @ q)
    floor = {"rsvd dense": (N_ITER + 1) * product * blocks_per_worker}
    for kind in ("gaussian", "sparse"):
        floor[f"jl {kind}"] = one_thread_seconds(lambda kind=kind: logsketch.jl_project(block, k, kind=kind, seed=0)) \
            * blocks_per_worker
    return floor


def row(case, size, peer, t, t_peer, work, unit, target, **extra):
    ratio = t_peer / t if t_peer else None
    if extra.get("floor_s"):  # the best ratio the machine allows: the peer against logsketch at its floor
        extra["ratio_ceiling"] = t_peer / extra["floor_s"] if t_peer else None
        extra["floor_share"] = extra["floor_s"] / t
    return dict(kernel=case, size=size, dtype="float32", peer=peer, time_s=t, peer_time_s=t_peer, ratio=ratio,
                throughput=work / t / 1e9, unit=unit, target=target,
                passed=None if target is None or ratio is None else bool(ratio >= target), **extra)


# --------------------------------------------------------------------------- cases


def rsvd_dense(client, cfg, small, floor):
    m, n, chunk = cfg["dense"]
    k = cfg["k"]
    A = generated(dense_block, m, n, chunk).persist()
    wait(A)
    flops = 2.0 * m * n * (k + OVERSAMPLES) * (2 * N_ITER + 2)
    warm = generated(dense_block, 4 * 200, n, 200).persist()
    logsketch.randomized_svd(warm, k, n_iter=1)
    da.linalg.svd_compressed(warm, k, n_power_iter=1, iterator="QR", seed=0)[1].compute()

    best = optimal_residual(A, k)
    size = f"{m}x{n} k={k}"
    t, (U, S, Vt) = timed(lambda: logsketch.randomized_svd(A, k, n_oversamples=OVERSAMPLES, n_iter=N_ITER, seed=0))
    err = residual(A, U, S, Vt) / best
    rows, peers = [], []
    for iterator in ("QR", "power"):
        def run(iterator=iterator):
            u, s, v = da.linalg.svd_compressed(A, k, n_power_iter=N_ITER, n_oversamples=OVERSAMPLES,
                                               iterator=iterator, seed=0)
            s, v = dask.compute(s, v)  # S and Vt, as logsketch returns them; U lazy on both sides
            return u, s, v
        tp, (u, s, v) = timed(run)
        peers.append((f"da.linalg.svd_compressed(iterator={iterator!r})", tp, residual(A, u, s, v) / best))
    if TruncatedSVD is not None:
        svd = TruncatedSVD(k, algorithm="randomized", n_iter=N_ITER, random_state=0)
        tp, _ = timed(lambda: svd.fit(A))
        u = svd.transform(A) / svd.singular_values_
        peers.append(("dask_ml TruncatedSVD(randomized)", tp,
                      residual(A, u, svd.singular_values_, svd.components_) / best))
    for name, tp, perr in peers:
        rows.append(row("rsvd dense", size, name, t, tp, flops, "GFLOP/s", TARGETS["rsvd dense"],
                        floor_s=floor["rsvd dense"],
                        error=[err], peer_error=[perr], error_vs_peer=err / perr,
                        error_target_met=bool(err <= 1.01 * perr)))
    return A, rows, t


def rsvd_sparse(client, cfg):
    m, n, chunk, density = cfg["sparse"]
    k = cfg["sparse_k"]
    A = generated(sparse_block, m, n, chunk, density=density).persist()
    wait(A)
    nnz = m * n * density
    flops = 2.0 * nnz * (k + OVERSAMPLES) * (2 * N_ITER + 2)
    size = f"{m}x{n} {density:.2%} k={k}"
    t, (U, S, Vt) = timed(lambda: logsketch.randomized_svd(A, k, n_oversamples=OVERSAMPLES, n_iter=N_ITER, seed=0))
    captured = sparse_captured(A, Vt)
    rows, notes = [], []
    if TruncatedSVD is not None:
        try:
            TruncatedSVD(k, algorithm="randomized", n_iter=N_ITER, random_state=0).fit(A)
        except Exception as exc:  # noqa: BLE001  (recorded as the reason)
            notes.append(f"dask_ml TruncatedSVD on scipy.sparse chunks fails: {type(exc).__name__}: {exc}")
    try:
        def run():
            u, s, v = da.linalg.svd_compressed(A, k, n_power_iter=N_ITER, n_oversamples=OVERSAMPLES,
                                               iterator="QR", seed=0)
            return dask.compute(s, v)
        tp, (s, v) = timed(run)
        rows.append(row("rsvd sparse", size, "da.linalg.svd_compressed(iterator='QR')", t, tp, flops, "GFLOP/s",
                        TARGETS["rsvd sparse"], captured=captured, peer_captured=sparse_captured(A, v)))
    except Exception as exc:  # noqa: BLE001
        notes.append(f"svd_compressed on scipy.sparse chunks fails: {type(exc).__name__}: {exc}")
        notes.append(f"rsvd sparse {size}: logsketch {t:.1f} s (captured {captured:.4f}); no peer runs")
    del A
    return rows, notes


def jl_cases(A, cfg, floor):
    from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection

    m, n, _ = cfg["dense"]
    k = cfg["jl_k"]
    sample = np.zeros((2, n), dtype=np.float32)
    rows, times = [], {}
    for kind, peer in (("gaussian", GaussianRandomProjection), ("sparse", SparseRandomProjection)):
        R = peer(k, random_state=0).fit(sample).components_
        R = R.astype(np.float32).T if not sp.issparse(R) else R.astype(np.float32).T.tocsr()
        logsketch.jl_project(A[:200], k, kind=kind).compute()  # warm-up
        # Seconds or less each: the median of JL_REPEAT calls, alternating the two sides.
        times_ours, times_peer = [], []
        for _ in range(JL_REPEAT):
            times_ours.append(timed(lambda: wait(logsketch.jl_project(A, k, kind=kind, seed=0).persist()))[0])
            times_peer.append(timed(lambda: wait(A.map_blocks(lambda x: np.asarray(x @ R), chunks=(A.chunks[0], (k,)),
                                                              dtype=np.float32).persist()))[0])
        t, tp = float(np.median(times_ours)), float(np.median(times_peer))
        rows.append(row("jl_project", f"{m}x{n} -> {k} {kind}", f"X @ R.T, R = sklearn {peer.__name__}", t, tp,
                        2.0 * m * n * k, "GFLOP/s", TARGETS["jl_project"], floor_s=floor[f"jl {kind}"]))
        times[kind] = t
    return rows, times


# --------------------------------------------------------------------------- out of core


def _sample_rss(dask_worker, interval=0.2):
    import psutil

    worker = dask_worker
    proc = psutil.Process()
    worker.logsketch_peak_rss = proc.memory_info().rss

    def loop():
        while getattr(worker, "logsketch_sampling", True):
            worker.logsketch_peak_rss = max(worker.logsketch_peak_rss, proc.memory_info().rss)
            time.sleep(interval)

    threading.Thread(target=loop, daemon=True).start()


def _peak_rss(dask_worker):
    worker = dask_worker
    worker.logsketch_sampling = False
    return worker.logsketch_peak_rss


def out_of_core(cfg):
    m, n, chunk = cfg["ooc"]
    k = cfg["ooc_k"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      memory_limit=cfg["memory_limit"]) as cluster, Client(cluster) as client:
        client.run(_sample_rss)
        A = generated(dense_block, m, n, chunk, seed=7)  # never persisted: every pass regenerates its blocks
        t, (U, S, Vt) = timed(lambda: logsketch.randomized_svd(A, k, n_iter=cfg["ooc_iter"], seed=0))
        peaks = client.run(_peak_rss)
    return dict(shape=[m, n], dtype="float32", bytes=m * n * 4, gib=m * n * 4 / 2**30, chunk_rows=chunk,
                chunk_mib=chunk * n * 4 / 2**20, k=k, n_oversamples=OVERSAMPLES, n_iter=cfg["ooc_iter"],
                workers=2, threads_per_worker=1, memory_limit_per_worker=cfg["memory_limit"], time_s=t,
                passes_over_a=2 * cfg["ooc_iter"] + 2, top_singular_values=[float(s) for s in S[:5]],
                peak_rss_per_worker_gib=[v / 2**30 for v in peaks.values()],
                driver_peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)


# --------------------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--skip-out-of-core", action="store_true")
    parser.add_argument("--skip-sparse", action="store_true", help="leave out the sparse randomized SVD (minutes)")
    parser.add_argument("--out-of-core-only", action="store_true",
                        help="run only the out-of-core case and add it to the JSON at --out (which must exist)")
    parser.add_argument("--note", action="append", default=[], help="a note recorded with the run (e.g. load)")
    args = parser.parse_args()
    cfg = SIZES[args.size]
    small = args.size == "small"
    info = machine_info()
    print_machine(info)
    warnings.filterwarnings("ignore", message=".*Sending large graph.*")
    notes = list(args.note) + (["--size small: targets shown, not enforced"] if small else [])
    info["load_average_at_start"] = os.getloadavg()
    if args.out_of_core_only:
        record = json.loads(args.out.read_text())
        record["out_of_core"] = dict(out_of_core(cfg), load_average=[info["load_average_at_start"], os.getloadavg()])
        write_json(args.out, record)
        print("out of core:", record["out_of_core"])
        return
    rows, scaling = [], {}
    floors = {workers: compute_floor(cfg, workers) for workers in (2, 1)}
    print("compute floors (s, one block timed on one thread):", floors, flush=True)
    for workers in (2, 1):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          memory_limit="8GiB" if not small else "2GiB") as cluster, Client(cluster) as client:
            if workers == 2:
                A, dense_rows, t_svd = rsvd_dense(client, cfg, small, floors[2])
                jl_rows, jl_times = jl_cases(A, cfg, floors[2])
                rows += dense_rows + jl_rows
                scaling[2] = dict(rsvd=t_svd, **jl_times)
                del A
                if not args.skip_sparse:
                    sparse_rows, sparse_notes = rsvd_sparse(client, cfg)
                    rows += sparse_rows
                    notes += sparse_notes
            else:
                m, n, chunk = cfg["dense"]
                A = generated(dense_block, m, n, chunk).persist()
                wait(A)
                logsketch.randomized_svd(A[: 4 * chunk], cfg["k"], n_iter=1)
                t_svd, _ = timed(lambda: logsketch.randomized_svd(A, cfg["k"], n_iter=N_ITER, seed=0))
                _, jl_times = jl_cases(A, cfg, floors[1])
                scaling[1] = dict(rsvd=t_svd, **jl_times)
        print(f"{workers} worker(s) done", flush=True)
    efficiency = {case: scaling[1][case] / (2 * scaling[2][case]) for case in scaling[2]}
    for r in rows:
        if small:
            r["passed"] = None
        print({key: (round(v, 4) if isinstance(v, float) else v) for key, v in r.items()})
    print("scaling (seconds on 1 and 2 workers, efficiency t1 / (2 t2)):", scaling, efficiency)
    ooc = None if args.skip_out_of_core else out_of_core(cfg)
    print("out of core:", ooc)
    for note in notes:
        print("note:", note)
    info["load_average_at_end"] = os.getloadavg()
    suffix = "-dask" if not small else "-dask-small"
    out = args.out or Path(__file__).parent / "results" / f"{datetime.date.today()}-{cpu_slug()}{suffix}.json"
    write_json(out, dict(benchmark="dask", machine=info, size=args.size, cluster="LocalCluster, processes, 1 thread per worker",
                         rows=rows, scaling=dict(seconds=scaling, efficiency=efficiency, floor_s=floors), out_of_core=ooc,
                         notes=notes, targets=TARGETS))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
