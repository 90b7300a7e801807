"""The CPU thread pool: what a call costs the BLAS call after it, back-to-back
calls, two kernels at 2 threads, a forked child's first call and Ctrl-C latency.

Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.  Prints medians (ms).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import textwrap
import time

import numpy as np

import logsketch


def median_ms(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def blas_after_logsketch(reps=50):
    rng = np.random.default_rng(0)
    a, b = rng.random((256, 256), dtype=np.float32), rng.random((256, 256), dtype=np.float32)
    np.matmul(a, b)
    alone = median_ms(lambda: np.matmul(a, b), reps)
    after = []
    for _ in range(reps):
        logsketch.mitchell_matmul(a, b)
        t0 = time.perf_counter()
        np.matmul(a, b)
        after.append(time.perf_counter() - t0)
    return alone, 1e3 * statistics.median(after)


def back_to_back(reps=50):
    rng = np.random.default_rng(1)
    a, b = rng.random((256, 256), dtype=np.float32), rng.random((256, 256), dtype=np.float32)
    x = rng.random(1 << 20, dtype=np.float32)
    logsketch.mitchell_matmul(a, b)
    return (median_ms(lambda: logsketch.mitchell_matmul(a, b), reps),
            median_ms(lambda: logsketch.mitchell_multiply(x, x), reps))


def kernels_at_2_threads(reps=7):
    rng = np.random.default_rng(2)
    a, b = rng.random((1024, 1024), dtype=np.float32), rng.random((1024, 1024), dtype=np.float32)
    x, y = rng.random(1 << 24, dtype=np.float32), rng.random(1 << 24, dtype=np.float32)
    out = np.empty_like(x)
    previous = logsketch.get_num_threads()
    logsketch.set_num_threads(2)
    try:
        logsketch.mitchell_matmul(a, b)
        mm = median_ms(lambda: logsketch.mitchell_matmul(a, b), reps)
        mul = median_ms(lambda: logsketch.mitchell_multiply(x, y, out=out), reps)
    finally:
        logsketch.set_num_threads(previous)
    return mm, mul


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def fork_first_call(timeout=30):
    code = textwrap.dedent("""
        import multiprocessing as mp, time
        import numpy as np, logsketch
        a = np.random.default_rng(3).random((512, 512), dtype=np.float32)
        logsketch.mitchell_matmul(a, a)
        def child(q):
            t0 = time.perf_counter(); logsketch.mitchell_matmul(a, a); q.put(time.perf_counter() - t0)
        ctx = mp.get_context("fork")
        q = ctx.Queue(); p = ctx.Process(target=child, args=(q,)); p.start()
        print(q.get(timeout=%d)); p.join()
    """ % timeout)
    try:
        out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True, text=True,
                             timeout=timeout + 10)
        return 1e3 * float(out.stdout.split()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        return float("inf")  # the child hung


def ctrl_c_latency(size=4096, after=0.5):
    code = textwrap.dedent(f"""
        import time
        import numpy as np, logsketch
        a = np.ones(({size}, {size}), dtype=np.float32); out = np.empty_like(a)
        print("ready", flush=True)
        try:
            logsketch.mitchell_matmul(a, a, out=out)
            print("finished", time.monotonic(), flush=True)
        except KeyboardInterrupt:
            print("interrupted", time.monotonic(), flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], env=child_env(), stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()
    time.sleep(after)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=300)
    return 1e3 * (float(stdout.split()[-1]) - sent)


def main():
    print(f"threads={logsketch.get_num_threads()} simd={logsketch.get_simd_level()} cpus={os.cpu_count()}")
    alone, after = blas_after_logsketch()
    print(f"np.matmul 256^3 alone {alone:.3f} ms; right after mitchell_matmul 256^3 {after:.3f} ms")
    mm, mul = back_to_back()
    print(f"back-to-back: mitchell_matmul 256^3 {mm:.3f} ms, mitchell_multiply 2^20 {mul:.3f} ms")
    mm, mul = kernels_at_2_threads()
    print(f"2 threads: mitchell_matmul 1024^3 {mm:.2f} ms, mitchell_multiply 2^24 {mul:.2f} ms")
    print(f"forked child's first mitchell_matmul 512^3: {fork_first_call():.1f} ms (inf: hung)")
    lat = sorted(ctrl_c_latency() for _ in range(3))
    print("Ctrl-C during mitchell_matmul 4096^3: " + ", ".join(f"{x:.0f}" for x in lat) + " ms")


if __name__ == "__main__":
    main()
