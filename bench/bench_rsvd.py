"""Randomized SVD side by side with PyTorch, scikit-learn and fbpca, errors beside times.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_rsvd.py \
        [--size default|small] [--out PATH] [--plot PATH]

Equal work on every side: k = 50 components, 10 oversamples (torch's q = 60),
4 power iterations on the dense matrices; k = 100, 10 oversamples, 5
iterations (TruncatedSVD's default) on the sparse one.  Every ratio is peer
time / logsketch time measured in this run (> 1: logsketch faster), medians of
several repetitions.  The dense matrices have a known spectrum (Haar-random
singular vectors, s_j = 1 / (1 + j / 10)), so each error is reported over the
Eckart-Young optimum: Frobenius ||A - U S Vt||_F / sqrt(sum_{j>k} s_j^2) and
spectral ||A - U S Vt||_2 / s_{k+1} (the norm by ARPACK).  The sparse matrix has no known spectrum: its error column is
the fraction of ||A||_F^2 the k right singular vectors capture,
||A V||_F^2 / ||A||_F^2 (higher is better).  Optional peers (torch, fbpca, scikit-learn) are skipped
with a note when not installed.  Targets are checked at the default size only.
Writes bench/results/<date>-<cpu>-rsvd.json (and a PNG of the ratios beside it).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg  # noqa: F401  (sp.linalg)

import logsketch as ls
from _harness import Case, median_time, plot_ratios, report, result_row, save, start

try:
    import torch
except ImportError:
    torch = None
try:
    import fbpca
except ImportError:
    fbpca = None
try:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.utils.extmath import randomized_svd as sk_randomized_svd
except ImportError:
    TruncatedSVD = sk_randomized_svd = None

SIZES = {
    "default": dict(dense=(4000, 3000), k=50, sparse=(200_000, 50_000, 1e-3), sparse_k=100),
    "small": dict(dense=(600, 400), k=20, sparse=(5000, 2000, 1e-2), sparse_k=20),
}
TIMING = {
    "default": dict(repeat=5, warmup=2, min_time=0),
    "small": dict(repeat=5, warmup=1, min_time=0),
}
OVERSAMPLES, DENSE_ITER, SPARSE_ITER = 10, 4, 5
TARGETS = {"torch.svd_lowrank": 2, "sklearn randomized_svd": 4, "sklearn TruncatedSVD": 3}  # issue 4




def known_spectrum(m, n, dtype, rng):
    r = min(m, n)
    s = 1.0 / (1.0 + np.arange(r) / 10.0)
    u = np.linalg.qr(rng.standard_normal((m, r)))[0]
    v = np.linalg.qr(rng.standard_normal((n, r)))[0]
    return ((u * s) @ v.T).astype(dtype), s


def spectral_norm(R):
    return float(sp.linalg.svds(R, k=1, return_singular_vectors=False, random_state=0)[0])


def dense_error(A, s, k, factors):
    U, S, Vt = (np.asarray(f, dtype=np.float64) for f in factors)
    R = A.astype(np.float64) - (U * S) @ Vt
    return (float(np.linalg.norm(R) / np.sqrt(np.sum(s[k:] ** 2))), spectral_norm(R) / s[k])


def captured_energy(A, factors):
    Vt = np.asarray(factors[2], dtype=np.float64)  # orthonormal rows on both sides
    return (float(np.linalg.norm(A @ Vt.T) ** 2 / sp.linalg.norm(A) ** 2),)


def torch_lowrank(At, k):
    u, s, v = torch.svd_lowrank(At, q=k + OVERSAMPLES, niter=DENSE_ITER)
    return u[:, :k].numpy(), s[:k].numpy(), v[:, :k].T.numpy()


def dense_cases(sizes, rng):
    m, n = sizes["dense"]
    k = sizes["k"]
    flops = 2 * m * n * (k + OVERSAMPLES) * (2 * DENSE_ITER + 2)  # the products; the rest is lower order
    for dtype in (np.float32, np.float64):
        A, s = known_spectrum(m, n, dtype, rng)
        size = f"{m}x{n} k={k}"
        ours = partial(ls.randomized_svd, A, k, n_oversamples=OVERSAMPLES, n_iter=DENSE_ITER)
        err = partial(dense_error, A, s, k)
        peers = []
        if torch is not None:
            peers.append(("torch.svd_lowrank", partial(torch_lowrank, torch.from_numpy(A), k)))
        if sk_randomized_svd is not None:
            peers.append(("sklearn randomized_svd", partial(sk_randomized_svd, A, k, n_oversamples=OVERSAMPLES,
                                                            n_iter=DENSE_ITER, random_state=0)))
        if fbpca is not None:
            peers.append(("fbpca.pca raw", partial(fbpca.pca, A, k, raw=True, n_iter=DENSE_ITER,
                                                   l=k + OVERSAMPLES)))
        for peer, run_peer in peers:
            yield Case("randomized_svd", size, np.dtype(dtype).name, peer, ours, run_peer, flops, "GFLOP/s",
                       TARGETS.get(peer), error=err)


def sparse_cases(sizes, rng):
    m, n, density = sizes["sparse"]
    k = sizes["sparse_k"]
    if TruncatedSVD is None:
        return
    for dtype in (np.float32, np.float64):
        A = sp.random_array((m, n), density=density, format="csr", dtype=dtype, rng=rng)
        size = f"{m}x{n} csr {density:g} k={k}"
        flops = 2 * A.nnz * (k + OVERSAMPLES) * (2 * SPARSE_ITER + 2)

        def ours(A=A):
            est = ls.RandomizedSVD(k, n_oversamples=OVERSAMPLES, n_iter=SPARSE_ITER, seed=0)
            return est.fit_transform(A), est.singular_values_, est.components_

        def peer(A=A):
            est = TruncatedSVD(k, algorithm="randomized", n_oversamples=OVERSAMPLES, n_iter=SPARSE_ITER,
                               random_state=0)
            return est.fit_transform(A), est.singular_values_, est.components_

        yield Case("RandomizedSVD", size, np.dtype(dtype).name, "sklearn TruncatedSVD", ours, peer, flops, "GFLOP/s",
                   TARGETS["sklearn TruncatedSVD"], error=partial(captured_energy, A))


def measure(case, size):
    t = median_time(case.run, **TIMING[size])
    t_peer = median_time(case.run_peer, **TIMING[size])
    row = result_row(case, t, t_peer, size)
    row["error"] = case.error(case.run())
    row["peer_error"] = case.error(case.run_peer())
    return row


def format_errors(rows):
    lines = ["kernel          size                          dtype    peer                     "
             "logsketch error        peer error"]
    for r in rows:
        ours = " ".join(f"{e:.4f}" for e in r["error"])
        theirs = " ".join(f"{e:.4f}" for e in r["peer_error"])
        lines.append(f"{r['kernel']:<15} {r['size']:<29} {r['dtype']:<8} {r['peer']:<24} {ours:<22} {theirs}")
    return "\n".join(lines)


def main():
    args, info, notes = start(__doc__, SIZES, "-rsvd")
    for name, module in (("torch", torch), ("fbpca", fbpca), ("scikit-learn", sk_randomized_svd)):
        if module is None:
            notes.append(f"{name} not installed: its rows skipped")
    notes.append("errors: dense rows (Frobenius, spectral) over the Eckart-Young optimum (1 = optimal); "
                 "sparse rows the captured fraction of ||A||_F^2")
    if torch is not None:
        torch.set_num_threads(ls.get_num_threads())

    rng = np.random.default_rng(0)
    sizes = SIZES[args.size]
    rows = []
    for cases in (dense_cases(sizes, rng), sparse_cases(sizes, rng)):
        for case in cases:
            rows.append(measure(case, args.size))
            print(f"  measured {case.kernel} {case.size} {case.dtype} vs {case.peer}", flush=True)

    report(rows, notes, args.size)
    print()
    print(format_errors(rows))
    payload = {"benchmark": "rsvd", "size": args.size, "machine": info, "notes": notes, "rows": rows}
    save(args, "-rsvd", payload, lambda png: plot_ratios(rows, info, png, "randomized SVD"))


if __name__ == "__main__":
    main()
