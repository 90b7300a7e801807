"""The example scripts run (a few steps each)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("script, args", [("torch_attention_lm.py", ["--steps", "3", "--eval-batches", "1"]),
                                          ("torch_mitchell_mlp.py", ["--steps", "5"])])
def test_example_runs(script, args):
    import logsketch

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(logsketch.__file__).parent.parent),
                                                       os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "accuracy" in proc.stdout
