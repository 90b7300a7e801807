"""Proof that the logsketch.torch layers train (CPU, fixed seeds).

- A 2-layer transformer LM on induction copying, once with
  EntropyInvariantAttention and once with torch SDPA (same model, seeds and
  batches): both training losses fall below a threshold.  Their evaluation at
  2x and 4x the training length is printed, not asserted (the recorded table:
  ``python examples/torch_attention_lm.py --steps 400 --json
  bench/results/<date>-<cpu>-torch-lm.json``).
- An MLP on scikit-learn's digits with MitchellLinear(backward="mitchell")
  reaches the test accuracy of nn.Linear within a margin.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parent.parent
LM_STEPS = 400
LM_LOSS_THRESHOLD = 0.5  # the copy of a uniformly random token costs ln(64) = 4.16 untrained
MLP_STEPS = 300
MLP_MARGIN = 0.03  # test accuracy at most 3 points below nn.Linear's


def _example(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_transformer_lm_trains_with_both_attentions():
    lm = _example("torch_attention_lm")
    results = lm.run(LM_STEPS, seed=0)
    for name in ("logsketch", "sdpa"):
        assert results[name]["final_train_loss"] < LM_LOSS_THRESHOLD, (name, results[name])
    print(json.dumps(results, indent=1))


@pytest.mark.slow
def test_mitchell_mlp_matches_linear_on_digits():
    mlp = _example("torch_mitchell_mlp")
    results = mlp.run(MLP_STEPS, seed=0, backward="mitchell")
    assert results["linear"]["test_accuracy"] > 0.9
    assert results["mitchell"]["test_accuracy"] >= results["linear"]["test_accuracy"] - MLP_MARGIN, results
