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

from _gpu_harness import cuda_time, machine, save, start

SIZES = {
    "small": {"elementwise": [1 << 20, 1 << 22], "matmul": [512, 1024], "repeats": 3},
    "full": {"elementwise": [1 << 24, 1 << 26], "matmul": [2048, 4096, 8192], "repeats": 7},
}


def bench_elementwise(torch, logsketch, n, repeats):
    a = torch.randn(n, device="cuda")
    b = torch.randn(n, device="cuda")
    out = torch.empty_like(a)
    nbytes = n * a.element_size()
    t_ours = cuda_time(torch, lambda: logsketch.mitchell_multiply(a, b, out=out), repeats, inner=10)
    t_copy = cuda_time(torch, lambda: out.copy_(a), repeats, inner=10)
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
    t_ours = cuda_time(torch, lambda: logsketch.mitchell_matmul(a, b, out=out), repeats, inner)
    t_peer = cuda_time(torch, lambda: torch.matmul(a, b, out=out), repeats, inner)
    flops = 2.0 * n**3
    peer = f"torch.matmul {dtype}" + (" (TF32 off)" if dtype == "float32" else " (tensor cores)")
    return {
        "kind": "matmul", "dtype": dtype, "data": data, "size": n,
        "ms": t_ours * 1e3, "throughput": flops / t_ours / 1e12, "unit": "TFLOP/s",
        "peer": peer, "peer_ms": t_peer * 1e3, "peer_throughput": flops / t_peer / 1e12,
        "ratio": t_peer / t_ours,
    }  # fmt: skip


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
    args, torch, logsketch = start("bench_mitchell_gpu", __doc__, SIZES, "")
    cfg = SIZES[args.size]
    info = machine(torch, logsketch)

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

    save("mitchell_gpu", args, info, rows, "")


if __name__ == "__main__":
    main()
