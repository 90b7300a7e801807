"""scikit-learn's own tests of the estimators logsketch replaces, run against logsketch.

The test modules come from the installed scikit-learn (randomized_svd's tests
in sklearn/utils/tests/test_extmath.py, TruncatedSVD's, PCA's randomized
solver's and the random projections'), pointed at logsketch by
tests/sklearn_suite/logsketch_adapter.py, which only renames arguments.
Every test that fails is listed with its reason in
tests/sklearn_suite/expected_failures.txt; this test fails when a test
outside the list fails, or a listed one passes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

sklearn = pytest.importorskip("sklearn")

SUITE = Path(__file__).resolve().parent / "sklearn_suite"


def _runner():
    spec = importlib.util.spec_from_file_location("run_suite", SUITE / "run_suite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _listed_version():
    first = (SUITE / "expected_failures.txt").read_text(encoding="utf-8").splitlines()[0]
    return first.removeprefix("# scikit-learn").strip()


def test_every_line_of_the_list_has_a_reason():
    expected = _runner().expected_failures()
    assert expected and all(reason for reason in expected.values())
    assert len(expected) <= 20, "the list of expected failures is meant to stay short"


def test_scikit_learn_suite_against_logsketch():
    runner = _runner()
    installed = ".".join(sklearn.__version__.split(".")[:2])
    if installed != _listed_version():
        pytest.skip(f"expected_failures.txt is for scikit-learn {_listed_version()}, {installed} is installed: "
                    "regenerate it with tests/sklearn_suite/run_suite.py")
    root = runner.sklearn_root()
    missing = [m for m, _ in runner.MODULES if not (root / m).exists()]
    if missing:
        pytest.skip(f"this scikit-learn ships without its tests ({missing[0]})")
    result, proc = runner.run()
    unexpected, fixed = runner.differences(result, runner.expected_failures())
    counts = runner.counts(result)
    assert counts["passed"] > 400, (counts, proc.stdout[-3000:])
    assert not unexpected, f"failing, not in expected_failures.txt: {unexpected}\n{proc.stdout[-6000:]}"
    assert not fixed, f"listed in expected_failures.txt but passing now (remove them): {fixed}"
