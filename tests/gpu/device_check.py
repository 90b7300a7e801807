"""Helpers of tests/gpu/device_check.sh (not a test module: pytest collects test_*.py only).

Three roles:

- A pytest plugin (``-p device_check``, with this folder on PYTHONPATH) that
  keeps a covering subset of the GPU tests: for each test function, every pair
  of parameter values (the framework, dtype, head dim, causal, shape, ...)
  appears together in at least one kept case, and so does every combination
  of the parameters that pick a compiled kernel (dtype, d, causal, op,
  compensated, kind, sketch, normalizer).  Tests without parameters are all
  kept.  Deterministic: the first case in collection order wins ties.
- ``python device_check.py sanitize FAMILY [FAMILY...]``: one small call of
  each GPU kernel of a family, for compute-sanitizer; every case runs even
  when an earlier one fails, and the exit status counts the failures.
- ``python device_check.py summary WORK OUT``: the JSON summary of a run from
  the step table, the pytest JUnit files and the benchmark outputs in WORK.
"""

from __future__ import annotations

import itertools
import json
import sys
import traceback
import xml.etree.ElementTree as ET
from pathlib import Path

FAMILIES = ("mitchell", "attention", "jl", "rsvd")

# Parameters that select a compiled kernel: all their combinations are kept.
KERNEL_PARAMS = ("dtype", "d", "causal", "compensated", "op", "kind", "sketch", "normalizer")


# ---- the covering subset (pytest plugin) --------------------------------------


def _coverage(params: dict) -> set:
    values = sorted((name, repr(value)) for name, value in params.items())
    kernel = tuple(v for v in values if v[0] in KERNEL_PARAMS)
    needs = {("kernel",) + kernel} if len(kernel) > 1 else set()
    if len(values) == 1:
        return needs | {values[0]}
    return needs | set(itertools.combinations(values, 2))


def covering_subset(items):
    """The items to keep: a greedy cover of each test function's value pairs."""
    groups = {}
    for item in items:
        key = (str(item.path), getattr(item, "originalname", item.name))
        groups.setdefault(key, []).append(item)
    keep = set()
    for group in groups.values():
        covers = [_coverage(item.callspec.params) if hasattr(item, "callspec") else set() for item in group]
        needed = set().union(*covers)
        if not needed:
            keep.update(id(item) for item in group)
            continue
        while needed:
            best = max(range(len(group)), key=lambda i: len(covers[i] & needed))
            keep.add(id(group[best]))
            needed -= covers[best]
    return [item for item in items if id(item) in keep]


def pytest_collection_modifyitems(config, items):
    kept = covering_subset(items)
    kept_ids = {id(item) for item in kept}
    config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept_ids])
    items[:] = kept


# ---- small cases for compute-sanitizer ------------------------------------------


def _framework():
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("device_check sanitize: PyTorch sees no CUDA device")
    return torch


def _cases(family, torch):
    import logsketch as ls

    dev = "cuda"
    gen = torch.Generator(device="cpu").manual_seed(0)

    def rnd(*shape, dtype=torch.float32):
        return torch.randn(*shape, generator=gen).to(dev, dtype)

    if family == "mitchell":
        for dt in (torch.float16, torch.bfloat16, torch.float32):
            a, b = rnd(1027, dtype=dt), rnd(1027, dtype=dt)
            yield f"multiply {dt}", lambda a=a, b=b: ls.mitchell_multiply(a, b)
            yield f"divide compensated {dt}", lambda a=a, b=b: ls.mitchell_divide(a, b, compensated=True)
            x, y = rnd(67, 130, dtype=dt), rnd(130, 33, dtype=dt)
            yield f"matmul {dt}", lambda x=x, y=y: ls.mitchell_matmul(x, y)
            yield f"matmul compensated {dt}", lambda x=x, y=y: ls.mitchell_matmul(x, y, compensated=True)
    elif family == "attention":
        for dt, d, causal in itertools.product((torch.float16, torch.bfloat16), (32, 64, 96, 128), (False, True)):
            q, k, v = rnd(1, 2, 67, d, dtype=dt), rnd(1, 1, 131, d, dtype=dt), rnd(1, 1, 131, d, dtype=dt)
            yield f"prefill {dt} d={d} causal={causal}", lambda q=q, k=k, v=v, c=causal: ls.attention(q, k, v, causal=c)
        q, k, v = rnd(2, 4, 1, 128, dtype=torch.float16), rnd(2, 2, 5000, 128, dtype=torch.float16), rnd(2, 2, 5000, 128, dtype=torch.float16)
        yield "split-KV decode", lambda: ls.attention(q, k, v, return_lse=True)
        lens = torch.tensor([3000, 17], dtype=torch.int32, device=dev)
        yield "decode with kv_lengths", lambda: ls.attention(q, k, v, kv_lengths=lens)
        qv, kv = rnd(40, 2, 64, dtype=torch.bfloat16), rnd(50, 2, 64, dtype=torch.bfloat16)
        cu_q = torch.tensor([0, 7, 40], dtype=torch.int32, device=dev)
        cu_k = torch.tensor([0, 20, 50], dtype=torch.int32, device=dev)
        yield "varlen causal", lambda: ls.attention_varlen(qv, kv, kv, cu_q, cu_k, causal=True)
    elif family == "jl":
        for dt, kind in itertools.product((torch.float32, torch.float64), ("gaussian", "sparse", "srht")):
            x = rnd(33, 97, dtype=dt)
            yield f"project {kind} {dt}", lambda x=x, kind=kind: ls.jl_project(x, 17, kind=kind, seed=3)
    elif family == "rsvd":
        for dt, sketch, norm in itertools.product((torch.float32, torch.float64), ("gaussian", "sparse", "srht"),
                                                  ("none", "lu", "qr", "cholqr")):
            a = rnd(120, 80, dtype=dt)
            yield (f"rsvd {dt} {sketch} {norm}",
                   lambda a=a, s=sketch, n=norm: ls.randomized_svd(a, 5, sketch=s, normalizer=n, n_iter=2))
    else:
        raise SystemExit(f"device_check sanitize: unknown family {family!r}; expected one of {FAMILIES}")


def sanitize(families) -> int:
    torch = _framework()
    failed = 0
    for family in families:
        for name, call in _cases(family, torch):
            try:
                call()
                torch.cuda.synchronize()
                print(f"ok    {family}: {name}", flush=True)
            except Exception:  # every case runs; the log keeps each failure
                failed += 1
                print(f"FAIL  {family}: {name}\n{traceback.format_exc()}", flush=True)
    return min(failed, 100)


# ---- the JSON summary -----------------------------------------------------------


def _junit(path: Path) -> dict:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    failed = []
    root = ET.parse(path).getroot()
    for suite in root.iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    counts["failed_tests"] = failed[:200]
    return counts


def summary(work: Path, out: Path) -> int:
    steps = []
    for line in (work / "steps.tsv").read_text().splitlines():
        name, rc, seconds, detail = (line.split("\t") + [""] * 4)[:4]
        step = {"step": name, "rc": int(rc), "seconds": int(seconds), "detail": detail}
        junit = work / f"junit-{name}.xml"
        if junit.exists():
            step["tests"] = _junit(junit)
        steps.append(step)
    benches = {}
    for path in sorted(work.glob("bench-*.json")):
        try:
            benches[path.stem] = json.loads(path.read_text())
        except ValueError as exc:
            benches[path.stem] = {"unreadable": str(exc)}
    (out / "bench.json").write_text(json.dumps(benches, indent=1) + "\n")
    failed = [s["step"] for s in steps if s["rc"] != 0]
    # A step that passed without doing its work: every test skipped, or a
    # benchmark that skipped itself (no torch, no device, no CUDA module).
    idle = [s["step"] for s in steps if s["rc"] == 0 and (
        ("tests" in s and s["tests"]["passed"] == 0)
        or (s["step"].startswith("bench_") and f"bench-{s['step']}" not in benches))]
    result = {
        "ok": not failed and not idle,
        "failed_steps": failed,
        "idle_steps": idle,
        "total_seconds": sum(s["seconds"] for s in steps),
        "steps": steps,
    }
    env = work / "env.json"
    if env.exists():
        result["environment"] = json.loads(env.read_text())
    (out / "summary.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("ok", "failed_steps", "idle_steps", "total_seconds")}))
    return 0


def main(argv) -> int:
    if len(argv) >= 2 and argv[0] == "sanitize":
        return sanitize(argv[1:])
    if len(argv) == 3 and argv[0] == "summary":
        return summary(Path(argv[1]), Path(argv[2]))
    print("usage: device_check.py sanitize FAMILY... | summary WORK OUT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
