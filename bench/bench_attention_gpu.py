"""GPU benchmark of logsketch's fused attention against PyTorch's SDPA flash backend.

Prefill: bfloat16, d = 128, batch 2 x 16 heads at seq 8192 (queries = keys),
causal and not, in TFLOP/s counted as 4 B H Nq Nk d (halved when causal), for
logsketch with scale="standard" (the same math as SDPA) and scale="entropy"
(a per-row scale), against torch.nn.functional.scaled_dot_product_attention
restricted to SDPBackend.FLASH_ATTENTION; the target is >= 0.8x torch.
Decode: one query per sequence over long keys (GQA, 32 query heads on 8 kv
heads), memory-bound, in GB/s of K and V read, against the same SDPA backend
(enable_gqa=True).

Every figure is the median of several runs timed with CUDA events around a
few back-to-back calls.

Run: python bench/bench_attention_gpu.py [--size small|full] [--out PATH]
Without PyTorch or a CUDA device it prints why and exits 0.
"""

from __future__ import annotations

from _gpu_harness import cuda_time, machine, save, start

SIZES = {
    "small": {"prefill": [(1, 8, 1024)], "decode": [(4, 2048)], "repeats": 3},
    "full": {"prefill": [(2, 16, 8192)], "decode": [(8, 8192), (8, 32768), (1, 131072)], "repeats": 7},
}
D = 128
DECODE_HEADS = (32, 8)  # (query heads, kv heads)


def _sdpa(torch):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    F = torch.nn.functional

    def run(q, k, v, causal, gqa=False):
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            if gqa:
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    return run


def bench_prefill(torch, attn, sdpa, batch, heads, n, causal, scale, repeats):
    q, k, v = (torch.randn(batch, heads, n, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))

    def ours():
        return attn(q, k, v, causal=causal, scale=scale, base=512.0, min_scale=None, kv_lengths=None,
                    return_lse=False)  # fmt: skip

    t_ours = cuda_time(torch, ours, repeats)
    t_peer = cuda_time(torch, lambda: sdpa(q, k, v, causal), repeats)
    flops = 4.0 * batch * heads * n * n * D / (2 if causal else 1)
    return {
        "kind": "prefill", "dtype": "bfloat16", "batch": batch, "heads": heads, "seq": n, "d": D,
        "causal": causal, "scale": scale,
        "ms": t_ours * 1e3, "tflops": flops / t_ours / 1e12,
        "peer": "torch SDPA (FLASH_ATTENTION)", "peer_ms": t_peer * 1e3, "peer_tflops": flops / t_peer / 1e12,
        "ratio": t_peer / t_ours, "target_ratio": 0.8,
    }  # fmt: skip


def bench_decode(torch, attn, sdpa, batch, n, repeats):
    hq, hkv = DECODE_HEADS
    q = torch.randn(batch, hq, 1, D, device="cuda", dtype=torch.bfloat16)
    k, v = (torch.randn(batch, hkv, n, D, device="cuda", dtype=torch.bfloat16) for _ in range(2))

    def ours():
        return attn(q, k, v, causal=True, scale="entropy", base=512.0, min_scale=None, kv_lengths=None,
                    return_lse=False)  # fmt: skip

    t_ours = cuda_time(torch, ours, repeats, inner=10)
    peer = "torch SDPA (FLASH_ATTENTION, enable_gqa)"
    try:
        t_peer = cuda_time(torch, lambda: sdpa(q, k, v, True, gqa=True), repeats, inner=10)
    except RuntimeError as exc:  # a torch whose flash backend refuses GQA: repeat the kv heads (untimed)
        rk, rv = (x.repeat_interleave(hq // hkv, dim=1) for x in (k, v))
        t_peer = cuda_time(torch, lambda: sdpa(q, rk, rv, True), repeats, inner=10)
        peer = f"torch SDPA (FLASH_ATTENTION, kv heads repeated: {str(exc).splitlines()[0][:80]})"
    nbytes = 2.0 * batch * hkv * n * D * 2  # K and V once
    return {
        "kind": "decode", "dtype": "bfloat16", "batch": batch, "heads_q": hq, "heads_kv": hkv, "seq_k": n, "d": D,
        "ms": t_ours * 1e3, "gbs": nbytes / t_ours / 1e9,
        "peer": peer, "peer_ms": t_peer * 1e3, "peer_gbs": nbytes / t_peer / 1e9,
        "ratio": t_peer / t_ours,
    }  # fmt: skip


def main():
    args, torch, logsketch = start("bench_attention_gpu", __doc__, SIZES, "-attention")
    from logsketch.attention._cuda import attention

    cfg = SIZES[args.size]
    info = machine(torch, logsketch)
    sdpa = _sdpa(torch)
    rows = []
    for batch, heads, n in cfg["prefill"]:
        for causal in (False, True):
            for scale in ("standard", "entropy"):
                rows.append(bench_prefill(torch, attention, sdpa, batch, heads, n, causal, scale, cfg["repeats"]))
        torch.cuda.empty_cache()
    for batch, n in cfg["decode"]:
        rows.append(bench_decode(torch, attention, sdpa, batch, n, cfg["repeats"]))
        torch.cuda.empty_cache()

    print(f"{'prefill':<10} {'B x H x N':>14} {'causal':>6} {'scale':>8} {'ms':>8} {'TFLOP/s':>8} "
          f"{'torch ms':>9} {'torch':>8} {'ratio':>6}")  # fmt: skip
    for r in rows:
        if r["kind"] != "prefill":
            continue
        shape = f"{r['batch']}x{r['heads']}x{r['seq']}"
        print(
            f"{'':<10} {shape:>14} {r['causal']!s:>6} {r['scale']:>8} {r['ms']:>8.3f} {r['tflops']:>8.1f} "
            f"{r['peer_ms']:>9.3f} {r['peer_tflops']:>8.1f} {r['ratio']:>6.2f}"
        )
    print(f"{'decode':<10} {'B x Nk':>14} {'ms':>8} {'GB/s':>8} {'torch ms':>9} {'torch':>8} {'ratio':>6}")
    for r in rows:
        if r["kind"] != "decode":
            continue
        shape = f"{r['batch']}x{r['seq_k']}"
        print(
            f"{'':<10} {shape:>14} {r['ms']:>8.3f} {r['gbs']:>8.0f} {r['peer_ms']:>9.3f} {r['peer_gbs']:>8.0f} "
            f"{r['ratio']:>6.2f}"
        )

    save("attention_gpu", args, info, rows, "-attention")


if __name__ == "__main__":
    main()
