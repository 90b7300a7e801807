"""GPU benchmark of logsketch's randomized SVD against torch.svd_lowrank on the same device.

Equal work: rank k, sketch width l (torch's q), niter power iterations, the
same float32 matrix (TF32 off on both sides).  torch.svd_lowrank
orthonormalizes with Householder QR at every step, as logsketch's
normalizer="qr"; "lu" and "cholqr" are timed too.  The matrix has a known
spectrum, A = U0 diag(s) V0^T with s_i = 1/(1 + i) for i < r (rank r = 1000),
so the Eckart-Young optimum of a rank-k approximation is known: s_k in the
spectral norm, sqrt(sum_{i>=k} s_i^2) in Frobenius.  Each method's error is
printed beside its time as a ratio to that optimum (1.000 is optimal); the
residual A - U S V^T is low rank, so both norms are computed exactly from a
(r + 2k) x (r + 2k) core (no 20000 x 20000 residual is formed).

Every time is the median of several runs timed with CUDA events.  The FLOP
rate counts the products with A only: 2 m n l (2 niter + 2).

Run: python bench/bench_rsvd_gpu.py [--size small|full] [--out PATH]
Without PyTorch or a CUDA device it prints why and exits 0.
"""

from __future__ import annotations

from _gpu_harness import cuda_time, machine, save, start

SIZES = {
    "small": {"m": 4096, "n": 4096, "rank": 400, "k": 20, "l": 30, "niter": 4, "repeats": 3},
    "full": {"m": 20000, "n": 20000, "rank": 1000, "k": 50, "l": 60, "niter": 4, "repeats": 5},
}
NORMALIZERS = ("qr", "lu", "cholqr")


def known_matrix(torch, m, n, rank):
    """A (m x n, float32) with singular values 1/(1 + i), i < rank; returns (A, U0, s, V0) in float64 factors."""
    g = torch.Generator(device="cuda").manual_seed(0)
    U0 = torch.linalg.qr(torch.randn(m, rank, device="cuda", dtype=torch.float64, generator=g))[0]
    V0 = torch.linalg.qr(torch.randn(n, rank, device="cuda", dtype=torch.float64, generator=g))[0]
    s = 1.0 / torch.arange(1, rank + 1, device="cuda", dtype=torch.float64)
    A = ((U0 * s) @ V0.T).to(torch.float32)
    return A, U0, s, V0


def errors(torch, U0, s0, V0, U, S, Vt):
    """(spectral, Frobenius) norms of U0 diag(s0) V0^T - U diag(S) Vt, exactly, in float64."""
    U, S, V = U.double(), S.double(), Vt.double().T
    Qu = torch.linalg.qr(torch.cat([U0, U], dim=1))[0]
    Qv = torch.linalg.qr(torch.cat([V0, V], dim=1))[0]
    core = ((Qu.T @ U0) * s0) @ (V0.T @ Qv) - ((Qu.T @ U) * S) @ (V.T @ Qv)
    return torch.linalg.matrix_norm(core, 2).item(), torch.linalg.matrix_norm(core, "fro").item()


def main():
    args, torch, logsketch = start("bench_rsvd_gpu", __doc__, SIZES, "-rsvd")
    from logsketch.rsvd import _cuda as _rsvd_gpu

    cfg = SIZES[args.size]
    m, n, k, l, niter = cfg["m"], cfg["n"], cfg["k"], cfg["l"], cfg["niter"]
    info = machine(torch, logsketch)
    A, U0, s0, V0 = known_matrix(torch, m, n, cfg["rank"])
    opt_2 = s0[k].item()
    opt_f = torch.sqrt(torch.sum(s0[k:] ** 2)).item()
    flops = 2.0 * m * n * l * (2 * niter + 2)

    runs = {}
    for normalizer in NORMALIZERS:

        def ours(normalizer=normalizer):
            return _rsvd_gpu.randomized_svd(
                A, k=k, l=l, n_iter=niter, normalizer=normalizer, transpose=False, flip_sign=True,
                sketch="gaussian", seed=0,
            )  # fmt: skip

        runs[f"logsketch {normalizer}"] = ours

    def peer():
        U, S, V = torch.svd_lowrank(A, q=l, niter=niter)
        return U[:, :k], S[:k], V[:, :k].T

    runs["torch.svd_lowrank"] = peer

    rows = []
    for name, fn in runs.items():
        seconds = cuda_time(torch, fn, cfg["repeats"], inner=1)
        err_2, err_f = errors(torch, U0, s0, V0, *fn())
        rows.append({
            "method": name, "m": m, "n": n, "k": k, "l": l, "niter": niter, "dtype": "float32",
            "ms": seconds * 1e3, "tflops": flops / seconds / 1e12,
            "spectral_error_ratio": err_2 / opt_2, "frobenius_error_ratio": err_f / opt_f,
        })  # fmt: skip
        torch.cuda.empty_cache()
    peer_ms = rows[-1]["ms"]
    print(f"A: {m} x {n} float32, singular values 1/(1+i) for i < {cfg['rank']}; k={k}, l={l}, niter={niter}")
    print(f"optimum rank-{k} error: spectral {opt_2:.4g}, Frobenius {opt_f:.4g}")
    print(f"{'method':<20} {'ms':>9} {'TFLOP/s':>8} {'vs torch':>9} {'spectral/opt':>13} {'Frobenius/opt':>14}")
    for r in rows:
        r["speedup_vs_torch"] = peer_ms / r["ms"]
        print(
            f"{r['method']:<20} {r['ms']:>9.2f} {r['tflops']:>8.2f} {r['speedup_vs_torch']:>9.2f} "
            f"{r['spectral_error_ratio']:>13.4f} {r['frobenius_error_ratio']:>14.4f}"
        )
    save("rsvd_gpu", args, info, rows, "-rsvd")


if __name__ == "__main__":
    main()
