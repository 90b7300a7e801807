"""Run a snippet of Python in a fresh interpreter, for tests whose failure mode
is a crash: a signal, heap corruption, a hang or an exit of the process.

``run_python(code, timeout=...)`` returns a :class:`Result` (rc, stdout,
stderr); a timeout is reported as rc ``None`` with ``timed_out`` set, never
raised, so the caller decides.  ``assert_ok(result)`` fails with a message
that names the signal or the timeout and quotes the child's output.

The child imports the same ``logsketch`` as the test process (its package
directory goes first on PYTHONPATH) and runs with ``-X faulthandler`` so a
crash leaves a Python traceback on stderr.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import logsketch

_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(logsketch.__file__)))
_TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class Result:
    rc: int | None  # None: killed after the timeout
    stdout: str
    stderr: str
    timed_out: bool
    timeout: float

    @property
    def signal_name(self) -> str | None:
        """The signal that ended the child (SIGSEGV, SIGABRT, ...), or None."""
        if self.rc is None or self.rc >= 0:
            return None
        try:
            return signal.Signals(-self.rc).name
        except ValueError:
            return f"signal {-self.rc}"

    def describe(self) -> str:
        if self.timed_out:
            head = f"the child did not finish within {self.timeout:g} s (hang?)"
        elif self.signal_name:
            head = f"the child was killed by {self.signal_name}"
        else:
            head = f"the child exited with rc {self.rc}"
        return f"{head}\n--- stdout (tail) ---\n{self.stdout[-3000:]}\n--- stderr (tail) ---\n{self.stderr[-3000:]}"


def run_python(code: str, *, timeout: float = 60.0, env: dict | None = None, args: tuple = ()) -> Result:
    """Run ``code`` (dedented) with this interpreter in a new process."""
    child_env = dict(os.environ)
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (_PACKAGE_PARENT, _TESTS_DIR, child_env.get("PYTHONPATH", "")) if p
    )
    child_env.setdefault("PYTHONFAULTHANDLER", "1")
    if env:
        child_env.update(env)
    cmd = [sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code), *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        return Result(proc.returncode, out, err, False, timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the child's own session: it and anything it forked
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        return Result(None, out, err, True, timeout)


def assert_ok(result: Result, context: str = "") -> Result:
    """Fail unless the child exited normally with rc 0."""
    if result.rc != 0:
        prefix = f"{context}: " if context else ""
        raise AssertionError(prefix + result.describe())
    return result
