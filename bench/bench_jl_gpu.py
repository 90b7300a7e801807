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

from _gpu_harness import cuda_time, machine, save, start

SIZES = {
    "small": {"shapes": [(4096, 1024, 128)], "repeats": 3},
    "full": {"shapes": [(20000, 4096, 256), (100000, 1024, 128), (8192, 16384, 512)], "repeats": 7},
}
KINDS = ("gaussian", "sparse", "srht")


def bench_one(torch, logsketch, jl_gpu, kind, n, d, k, repeats):
    X = torch.randn(n, d, device="cuda")
    R = jl_gpu.components(k, d, kind=kind, seed=1, framework="torch", device=torch.cuda.current_device())
    ours = cuda_time(torch, lambda: logsketch.jl_project(X, k, kind=kind, seed=1), repeats)
    peer = cuda_time(torch, lambda: torch.matmul(X, R.T), repeats)
    flops = 2.0 * n * d * k
    return {
        "kind": kind, "n": n, "d": d, "k": k, "dtype": "float32",
        "ms": ours * 1e3, "tflops": flops / ours / 1e12,
        "peer": "torch.matmul (cuBLAS, materialized R)", "peer_ms": peer * 1e3, "peer_tflops": flops / peer / 1e12,
        "ratio": peer / ours,
    }  # fmt: skip


def main():
    args, torch, logsketch = start("bench_jl_gpu", __doc__, SIZES, "-jl")
    from logsketch.jl import _cuda as _jl_gpu

    cfg = SIZES[args.size]
    info = machine(torch, logsketch)
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

    save("jl_gpu", args, info, rows, "-jl")


if __name__ == "__main__":
    main()
