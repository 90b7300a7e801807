"""Run scikit-learn's own tests of the estimators logsketch replaces, against logsketch.

The test modules are those of the installed scikit-learn (never copied here);
``logsketch_adapter`` (a pytest plugin in this folder) points them at
logsketch.  ``python tests/sklearn_suite/run_suite.py`` prints the counts and
every difference from ``expected_failures.txt``; tests/test_sklearn_suite.py
runs the same and fails on any difference.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected_failures.txt"

# (module under sklearn/, -k selection or None for every test): the tests of
# randomized_svd, of PCA's randomized solver, and the whole of the
# TruncatedSVD and random projection modules.
MODULES = (
    ("utils/tests/test_extmath.py", "randomized_svd"),
    ("decomposition/tests/test_truncated_svd.py", None),
    ("decomposition/tests/test_pca.py", "randomized"),
    ("tests/test_random_projection.py", None),
)
_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def sklearn_root():
    import sklearn

    return Path(sklearn.__file__).resolve().parent


def selection():
    """The -k expression that picks the tests of MODULES."""
    parts = []
    for module, k in MODULES:
        name = Path(module).stem
        parts.append(f"({name} and ({k}))" if k else name)
    return " or ".join(parts)


def run(timeout=900):
    """{node id: "passed" | "failed" | "skipped"} of one pytest run of the selected tests."""
    root = sklearn_root()
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = Path(tmp) / "outcomes.txt"
        env = dict(os.environ)
        env.pop("SKLEARN_TESTS_GLOBAL_RANDOM_SEED", None)  # scikit-learn's default seed (42)
        env["SKLEARN_WARNINGS_AS_ERRORS"] = "0"
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # nothing written into the installed package
        env["LOGSKETCH_SKLEARN_OUTCOMES"] = str(outcomes)
        inherited = [os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]  # cwd moves
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), *inherited])
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "logsketch_adapter",
               f"--rootdir={root.parent}", "-o", "addopts=", "-k", selection(),
               *(str(root / module) for module, _ in MODULES)]
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
        if not outcomes.exists():
            raise RuntimeError(f"the scikit-learn suite did not run:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        result = {}
        for line in outcomes.read_text(encoding="utf-8").splitlines():
            outcome, nodeid = line.split(" ", 1)
            if _RANK[outcome] >= _RANK[result.get(nodeid, "passed")]:
                result[nodeid] = outcome
        return result, proc


def expected_failures(path=EXPECTED):
    """{node id: reason} from the file: one ``<node id>  # <reason>`` a line."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        nodeid, sep, reason = line.partition("  # ")
        if not sep or not reason.strip():
            raise ValueError(f"{path.name}: every line needs a reason after '  # ': {line!r}")
        out[nodeid.strip()] = reason.strip()
    return out


def differences(result, expected):
    """(failed but not listed, listed but not failed) node ids."""
    failed = {n for n, o in result.items() if o == "failed"}
    return sorted(failed - expected.keys()), sorted(expected.keys() - failed)


def counts(result):
    return {o: sum(1 for v in result.values() if v == o) for o in ("passed", "failed", "skipped")}


def main():
    result, _ = run()
    c = counts(result)
    print(f"passed {c['passed']}  failed {c['failed']}  skipped {c['skipped']}")
    by_module = {}
    for nodeid, outcome in result.items():
        by_module.setdefault(nodeid.split("::")[0], []).append(outcome)
    for module, outcomes in sorted(by_module.items()):
        print(f"  {module}: passed {outcomes.count('passed')}  failed {outcomes.count('failed')}  "
              f"skipped {outcomes.count('skipped')}")
    unexpected, fixed = differences(result, expected_failures())
    for nodeid in unexpected:
        print("FAILED (not listed):", nodeid)
    for nodeid in fixed:
        print("PASSED (listed as failing):", nodeid)
    return 1 if unexpected or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
