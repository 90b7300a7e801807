"""The CPU thread pool: bounds, many Python threads at once, fork, Ctrl-C and
refused threads.  What can hang or kill a process runs in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import logsketch
from logsketch import _core


def run_python(code, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=timeout)


# --------------------------------------------------------------------------- bounds


def test_max_threads_is_1024():
    assert _core.max_threads == 1024


@pytest.mark.parametrize("bad", [0, -3, 1025, 4096])
def test_num_threads_out_of_bounds_is_a_value_error_naming_n(bad, restore_threads):
    before = logsketch.get_num_threads()
    with pytest.raises(ValueError, match=f"got {bad}"):
        _core.set_num_threads(bad)
    assert logsketch.get_num_threads() == before


def test_max_threads_runs():
    out = run_python("""
        import numpy as np, logsketch
        from logsketch import _core
        a = np.random.default_rng(0).random((300, 200), dtype=np.float32)
        expected = logsketch.mitchell_matmul(a, a.T)
        logsketch.set_num_threads(_core.max_threads)
        assert np.array_equal(logsketch.mitchell_matmul(a, a.T), expected)
        print("ok")
    """)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# --------------------------------------------------------------------------- many Python threads


def test_calls_from_8_python_threads_match_serial_results(restore_threads):
    rng = np.random.default_rng(1)
    mats = [rng.standard_normal((s, s + 3), dtype=np.float32) for s in (64, 97, 200, 257)]
    vecs = [rng.standard_normal(n, dtype=np.float32) for n in (1000, 1 << 18, 1 << 20)]
    logsketch.set_num_threads(3)
    expected_mm = [logsketch.mitchell_matmul(m, m.T) for m in mats]
    expected_mul = [logsketch.mitchell_multiply(v, v[::-1]) for v in vecs]
    stop = threading.Event()

    def change_threads():  # a running call keeps the split it started with
        n = 1
        while not stop.is_set():
            logsketch.set_num_threads(n % 4 + 1)
            n += 1
            time.sleep(0.001)

    def work(i):
        for r in range(6):
            j = (i + r) % len(mats)
            if not np.array_equal(logsketch.mitchell_matmul(mats[j], mats[j].T), expected_mm[j]):
                return False
            j = (i + r) % len(vecs)
            if not np.array_equal(logsketch.mitchell_multiply(vecs[j], vecs[j][::-1]), expected_mul[j]):
                return False
        return True

    changer = threading.Thread(target=change_threads)
    changer.start()
    try:
        with ThreadPoolExecutor(8) as ex:
            results = list(ex.map(work, range(8)))
    finally:
        stop.set()
        changer.join()
    assert all(results)


# --------------------------------------------------------------------------- fork


def test_forked_child_runs_parallel_calls():
    out = run_python("""
        import multiprocessing as mp
        import numpy as np, logsketch
        logsketch.set_num_threads(2)
        a = np.random.default_rng(2).random((400, 300), dtype=np.float32)
        expected = logsketch.mitchell_matmul(a, a.T)  # the parent's pool is running

        def child(q):
            q.put(logsketch.mitchell_matmul(a, a.T))
            logsketch.set_num_threads(3)
            q.put(logsketch.mitchell_matmul(a, a.T))

        ctx = mp.get_context("fork")
        q = ctx.Queue()
        p = ctx.Process(target=child, args=(q,))
        p.start()
        first, second = q.get(timeout=60), q.get(timeout=60)
        p.join(60)
        assert p.exitcode == 0, p.exitcode
        assert np.array_equal(first, expected) and np.array_equal(second, expected)
        assert np.array_equal(logsketch.mitchell_matmul(a, a.T), expected)  # the parent's pool still works
        print("ok")
    """)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# --------------------------------------------------------------------------- Ctrl-C


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32", reason="POSIX signals")
def test_sigint_interrupts_a_long_matmul_within_200ms():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    code = textwrap.dedent("""
        import sys, time
        import numpy as np, logsketch
        a = np.ones((4096, 4096), dtype=np.float32)
        out = np.empty_like(a)
        print("ready", flush=True)
        t0 = time.monotonic()
        try:
            logsketch.mitchell_matmul(a, a, out=out)
            print("finished", time.monotonic() - t0, flush=True)
        except KeyboardInterrupt:
            print("interrupted", time.monotonic(), flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # well inside the multiply (seconds on any CPU)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    word, value = stdout.split()
    assert word == "interrupted", (stdout, stderr)
    latency = float(value) - sent
    assert latency < 0.2, f"KeyboardInterrupt after {latency * 1e3:.0f} ms"


# --------------------------------------------------------------------------- refused threads


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_NPROC counts threads on Linux")
def test_refused_threads_raise_runtime_error_and_calls_still_run():
    out = run_python("""
        import os, resource
        import numpy as np, logsketch
        a = np.random.default_rng(3).random((300, 200), dtype=np.float32)
        expected = logsketch.mitchell_matmul(a, a.T)
        if os.getuid() == 0:  # root ignores RLIMIT_NPROC: become an unprivileged user first
            os.setgid(65534)
            os.setuid(65534)
        # A few threads more than this user runs now: the pool gets some, not 64.
        running = int(open("/proc/self/status").read().split("Threads:")[1].split()[0])
        resource.setrlimit(resource.RLIMIT_NPROC, (running + 2, running + 2))
        try:
            logsketch.set_num_threads(64)
        except RuntimeError as e:
            assert "64" in str(e), e
            print("refused")
        assert logsketch.get_num_threads() == 64
        assert np.array_equal(logsketch.mitchell_matmul(a, a.T), expected)
        assert np.array_equal(logsketch.mitchell_multiply(a, a), logsketch.reference.mitchell_multiply(a, a))
        print("ok")
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["refused", "ok"], (out.stdout, out.stderr)
