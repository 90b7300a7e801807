"""Every public function on generated bad inputs: a named Python exception or
the documented result, never a signal, never a hang, never a changed input.

The cases are in tests/fuzz_cases.py (fixed seeds).  Each function's cases run
in one child process; when the child dies (a signal) or hangs, the case it was
in is recorded and a new child goes on from the next case, so one run reports
every misbehaving case.  The child caps its address space so huge shapes end
in MemoryError (not under ASan).
"""

from __future__ import annotations

import json

import pytest

from _subprocess import run_python
from fuzz_cases import FUNCTIONS

_CHILD = "import fuzz_cases; fuzz_cases.main()"
_CASE_TIMEOUT = 20.0  # seconds for one child; every case is small
_MAX_RESTARTS = 12


def _run_all(function):
    """[(index, label, why)] of the cases of ``function`` that misbehave."""
    failures, labels, start, restarts = [], {}, 0, 0
    while True:
        result = run_python(_CHILD, timeout=_CASE_TIMEOUT, args=(function, str(start)))
        current, done, count = None, False, None
        for line in result.stdout.splitlines():
            word, _, rest = line.partition(" ")
            if word == "COUNT":
                count = int(rest)
            elif word == "START":
                index, _, label = rest.partition(" ")
                current = int(index)
                labels[current] = json.loads(label)
            elif word == "PASS":
                current = None
            elif word == "FAIL":
                index, _, why = rest.partition(" ")
                failures.append((int(index), labels[int(index)], json.loads(why)))
                current = None
            elif word == "DONE":
                done = True
        if done and result.rc == 0:
            return failures, count
        if current is None:  # died outside any case (import, generation, exit)
            failures.append((start, "<runner>", result.describe()))
            return failures, count
        how = "hang (timeout)" if result.timed_out else (
            f"killed by {result.signal_name}" if result.signal_name else f"process exited, rc {result.rc}")
        failures.append((current, labels[current], f"{how}; stderr tail: {result.stderr[-400:]}"))
        restarts += 1
        if restarts > _MAX_RESTARTS:
            failures.append((current, "<runner>", f"gave up after {_MAX_RESTARTS} crashes"))
            return failures, count
        start = current + 1


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_bad_inputs(function):
    failures, count = _run_all(function)
    print(f"{function}: {count} cases, {len(failures)} misbehave")
    for index, label, why in failures:
        print(f"  [{index}] {label}: {why}")
    assert not failures, f"{function}: {len(failures)} of {count} cases misbehave:\n" + "\n".join(
        f"  [{index}] {label}: {why}" for index, label, why in failures
    )
