"""The CPU side of tests/gpu/device_check.sh: its dry run (syntax, the test
selection, the benchmarks' command lines, the time plan) and the covering
subset it runs."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "gpu" / "device_check.sh"
FAMILIES = ("mitchell", "attention", "jl", "rsvd")


def _helper():
    spec = importlib.util.spec_from_file_location("device_check", SCRIPT.with_suffix(".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_dry_run_collects_every_family_and_prints_the_plan(tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, OUT=str(tmp_path / "out"))
    run = subprocess.run(["bash", str(SCRIPT), "--dry-run"], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "syntax: ok" in run.stdout
    for family in FAMILIES:
        counts = re.search(rf"^tests {family}: (\d+)/(\d+) tests collected", run.stdout, re.M)
        assert counts, run.stdout
        kept, total = map(int, counts.groups())
        assert 0 < kept < total
    torch_run = re.search(r"^tests torch: (\d+)(?:/\d+)? tests? collected", run.stdout, re.M)  # the PyTorch layer
    assert torch_run and int(torch_run.group(1)) > 0, run.stdout
    assert len(re.findall(r"^bench bench_\w+_gpu\.py: --help ok", run.stdout, re.M)) >= len(FAMILIES)
    assert "time plan" in run.stdout and "limit 480 s" in run.stdout
    assert not (tmp_path / "out").exists()  # a dry run writes nothing


class _Spec:
    def __init__(self, params):
        self.params = params


class _Item:
    def __init__(self, name, **params):
        self.path, self.originalname, self.name = "t.py", name, name
        self.callspec = _Spec(params)


def test_covering_subset_keeps_every_pair_and_every_kernel():
    helper = _helper()
    items = [_Item("f", xp=xp, dtype=dt, d=d, causal=c, n=n)
             for xp in ("torch", "cupy") for dt in ("float16", "bfloat16") for d in (32, 64, 128)
             for c in (False, True) for n in (1, 7, 97)]
    items.append(_Item("g"))
    del items[-1].callspec  # a test without parameters is always kept
    kept = helper.covering_subset(items)
    assert items[-1] in kept and len(kept) < len(items)
    f = [item.callspec.params for item in kept if item.name == "f"]
    assert {(p["dtype"], p["d"], p["causal"]) for p in f} == {(dt, d, c) for dt in ("float16", "bfloat16")
                                                              for d in (32, 64, 128) for c in (False, True)}
    assert {(p["xp"], p["n"]) for p in f} == {(xp, n) for xp in ("torch", "cupy") for n in (1, 7, 97)}
    assert helper.covering_subset(items) == kept  # deterministic
