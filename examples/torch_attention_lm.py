"""Train a 2-layer transformer LM with entropy-invariant attention, beside the same
model with torch's scaled_dot_product_attention, then test both at longer lengths.

    python examples/torch_attention_lm.py [--steps 300] [--json PATH]

The task is copying by induction: a sequence of ``n`` distinct random tokens,
a separator, then the same tokens again; the loss and accuracy count the
second copy (predicting token i of the copy needs attention to the token after
the earlier occurrence of token i-1: an induction head).  Both models use
rotary positions and are identical but for the attention call, trained with
the same seeds and batches at n drawn from 8..16 per batch (a fixed n would
let a fixed offset solve it); then evaluated at n = 16 and at 2x and 4x the
training length.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

import logsketch.torch as lt

VOCAB = 64
SEP = VOCAB  # one more token
TRAIN_N = 16


class SDPAAttention(lt.EntropyInvariantAttention):
    """The same module with torch's scaled_dot_product_attention (scale 1/sqrt(d))."""

    def attend(self, q, k, v, kv_lengths=None):
        group = self.num_heads // self.num_kv_heads
        if group > 1:
            k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        return F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)


class Block(nn.Module):
    def __init__(self, dim, heads, attention_cls, base):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = attention_cls(dim, heads, causal=True, rotary=True, base=base)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class LM(nn.Module):
    def __init__(self, attention="logsketch", dim=64, heads=4, layers=2, base=2 * TRAIN_N + 1):
        super().__init__()
        cls = lt.EntropyInvariantAttention if attention == "logsketch" else SDPAAttention
        self.embed = nn.Embedding(VOCAB + 1, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, cls, base) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, VOCAB + 1)

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


def batch(n, size, generator):
    """(tokens (size, 2n+1), targets (size, 2n+1) with -100 outside the copy)."""
    first = torch.rand(size, VOCAB, generator=generator).argsort(dim=1)[:, :n]  # n distinct tokens
    tokens = torch.cat([first, torch.full((size, 1), SEP), first], dim=1)
    targets = torch.full_like(tokens, -100)
    targets[:, n:-1] = tokens[:, n + 1:]  # after the separator, predict the next copied token
    return tokens, targets


def loss_and_accuracy(model, tokens, targets):
    logits = model(tokens)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
    mask = targets != -100
    accuracy = (logits.argmax(-1)[mask] == targets[mask]).float().mean()
    return loss, accuracy


def train(model, steps, *, seed=0, batch_size=32, lr=3e-3, log_every=0):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 20)
                                              * 0.5 * (1 + math.cos(math.pi * s / max(steps, 1))))
    losses = []
    for step in range(steps):
        n = int(torch.randint(TRAIN_N // 2, TRAIN_N + 1, (1,), generator=generator))
        loss, accuracy = loss_and_accuracy(model, *batch(n, batch_size, generator))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {accuracy.item():.3f}")
    return losses


@torch.no_grad()
def evaluate(model, n, *, seed=1234, batches=4, batch_size=64):
    generator = torch.Generator().manual_seed(seed)
    results = [loss_and_accuracy(model, *batch(n, batch_size, generator)) for _ in range(batches)]
    return {"loss": sum(r[0].item() for r in results) / batches,
            "accuracy": sum(r[1].item() for r in results) / batches}


def run(steps, seed=0, lengths=(TRAIN_N, 2 * TRAIN_N, 4 * TRAIN_N), log_every=0, eval_batches=4):
    """Train both models with the same seed; their final training loss and evaluation per copy length."""
    out = {}
    for attention in ("logsketch", "sdpa"):
        torch.manual_seed(seed)
        model = LM(attention)
        start = time.perf_counter()
        losses = train(model, steps, seed=seed, log_every=log_every)
        seconds = time.perf_counter() - start
        final = sum(losses[-10:]) / len(losses[-10:])
        out[attention] = {"final_train_loss": final, "train_seconds": seconds,
                          "eval": {str(n): evaluate(model, n, batches=eval_batches) for n in lengths}}
    return out


def record(results, steps, seed):
    """The run as a results file: one row per attention and copy length."""
    rows = [{"attention": "entropy-invariant (logsketch)" if name == "logsketch" else "SDPA 1/sqrt(d)",
             "copy_n": int(n), "sequence": 2 * int(n) + 1, "x_train_max": int(n) / TRAIN_N,
             "loss": r["loss"], "accuracy": r["accuracy"]}
            for name, res in results.items() for n, r in res["eval"].items()]
    notes = [f"induction copy, vocab {VOCAB}, 2 layers, dim 64, 4 heads, rotary; trained {steps} steps "
             f"(seed {seed}) at n in {TRAIN_N // 2}..{TRAIN_N}, base {2 * TRAIN_N + 1} for the entropy scale",
             *(f"{name}: final training loss {res['final_train_loss']:.4f}, {res['train_seconds']:.0f} s"
               for name, res in results.items())]
    return {"benchmark": "torch_lm", "size": "default", "machine": {"cpu": _cpu(), "torch": torch.__version__},
            "notes": notes, "rows": rows}


def _cpu():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-batches", type=int, default=4, help="batches of 64 sequences per length")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    results = run(args.steps, args.seed, log_every=max(args.steps // 10, 1), eval_batches=args.eval_batches)
    print(f"\ncopy length (train n<={TRAIN_N}; sequence 2n+1)   loss / accuracy")
    print(f"{'n':>6}  {'entropy-invariant (logsketch)':>30}  {'SDPA 1/sqrt(d)':>22}")
    for n in results["logsketch"]["eval"]:
        a, b = results["logsketch"]["eval"][n], results["sdpa"]["eval"][n]
        print(f"{n:>6}  {a['loss']:>18.4f} / {a['accuracy']:.3f}  {b['loss']:>10.4f} / {b['accuracy']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record(results, args.steps, args.seed), f, indent=2)
            f.write("\n")

if __name__ == "__main__":
    main()
