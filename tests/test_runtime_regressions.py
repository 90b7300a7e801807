"""Regression tests of the runtime under the kernels: no crash, no garbage, no hang.

One test per defect: unaligned arrays, thread-count changes under a running
call, big-endian arrays, fork, Ctrl-C, thread-creation failure, and the smaller
argument and memory defects.  Every case whose failure mode is a crash, a hang
or an exit of the process runs in a child process with a timeout
(tests/_subprocess.py), so the failure is a test failure with the child's
output, never a dead test run.

The Ctrl-C and peak-memory tests take seconds each: they carry the ``slow``
mark (``-m "not slow"`` leaves them out).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import logsketch
from _subprocess import assert_ok, run_python

ALL_SIMD_LEVELS = ("scalar", "avx2", "avx512")
SIMD_LEVELS = ALL_SIMD_LEVELS[: ALL_SIMD_LEVELS.index(logsketch.config()["simd_detected"]) + 1]
UNDER_ASAN = "asan" in os.environ.get("LD_PRELOAD", "")

slow = pytest.mark.slow


def _bits(x):
    x = np.ascontiguousarray(x)
    return x.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[x.dtype.itemsize])


def assert_same_bits(got, expected, context=""):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype, f"{context}: dtype {got.dtype} != {expected.dtype}"
    assert got.shape == expected.shape, f"{context}: shape {got.shape} != {expected.shape}"
    diff = np.flatnonzero(_bits(got).ravel() != _bits(expected).ravel())
    assert diff.size == 0, (
        f"{context}: {diff.size} of {got.size} elements differ; first at flat index {diff[0]}: "
        f"got {got.ravel()[diff[0]]!r}, expected {expected.ravel()[diff[0]]!r}"
    )


# --------------------------------------------------------------------------- 1. unaligned arrays

_UNALIGNED_PRELUDE = """
    import numpy as np, logsketch

    def unaligned(n, dtype, offset, fill=None):
        dtype = np.dtype(dtype)
        x = np.frombuffer(bytearray(dtype.itemsize * n + offset), dtype, n, offset=offset)
        assert not x.flags.aligned or offset % dtype.itemsize == 0
        if fill is not None:
            x[...] = fill
        return x

    def bits(x):
        x = np.ascontiguousarray(x)
        return x.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[x.dtype.itemsize])
"""

# (dtype, byte offset): offsets that are not a multiple of the item size
_UNALIGNED = [("float32", 1), ("float64", 4), ("float16", 1)]


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("op", ["mitchell_multiply", "mitchell_divide"])
@pytest.mark.parametrize("dtype,offset", _UNALIGNED, ids=[f"{d}-off{o}" for d, o in _UNALIGNED])
def test_unaligned_out_elementwise(op, dtype, offset, level):
    """An unaligned out= (numpy allows it) gives the aligned result bit for bit, at every SIMD level."""
    code = _UNALIGNED_PRELUDE + f"""
    logsketch.set_simd_level({level!r})
    n = 2**20
    rng = np.random.default_rng(0)
    a = rng.uniform(-4, 4, n).astype({dtype!r})
    b = rng.uniform(0.5, 4, n).astype({dtype!r})
    expected = logsketch.{op}(a, b)
    out = unaligned(n, {dtype!r}, {offset})
    got = logsketch.{op}(a, b, out=out)
    assert got is out or np.shares_memory(got, out)
    assert np.array_equal(bits(out), bits(expected)), "unaligned out= differs from the aligned result"
    print("OK")
    """
    result = assert_ok(run_python(code, timeout=60), f"{op} {dtype} out= at byte offset {offset}, {level}")
    assert "OK" in result.stdout


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("op", ["mitchell_multiply", "mitchell_divide"])
@pytest.mark.parametrize("dtype,offset", _UNALIGNED, ids=[f"{d}-off{o}" for d, o in _UNALIGNED])
def test_unaligned_inputs_elementwise(op, dtype, offset, level):
    """Unaligned inputs (and an unaligned out= on top) give the aligned result bit for bit."""
    code = _UNALIGNED_PRELUDE + f"""
    logsketch.set_simd_level({level!r})
    n = 2**20 + 3
    rng = np.random.default_rng(1)
    a = rng.uniform(-4, 4, n).astype({dtype!r})
    b = rng.uniform(0.5, 4, n).astype({dtype!r})
    expected = logsketch.{op}(a, b)
    ua, ub = unaligned(n, {dtype!r}, {offset}, a), unaligned(n, {dtype!r}, {offset}, b)
    assert np.array_equal(bits(logsketch.{op}(ua, ub)), bits(expected)), "unaligned inputs"
    out = unaligned(n, {dtype!r}, {offset})
    logsketch.{op}(ua, ub, out=out)
    assert np.array_equal(bits(out), bits(expected)), "unaligned inputs and out="
    assert np.array_equal(bits(ua), bits(a)) and np.array_equal(bits(ub), bits(b)), "inputs changed"
    print("OK")
    """
    result = assert_ok(run_python(code, timeout=60), f"{op} {dtype} unaligned inputs at offset {offset}, {level}")
    assert "OK" in result.stdout


@pytest.mark.parametrize("level", SIMD_LEVELS)
@pytest.mark.parametrize("dtype,offset", _UNALIGNED, ids=[f"{d}-off{o}" for d, o in _UNALIGNED])
def test_unaligned_matmul(dtype, offset, level):
    """mitchell_matmul with unaligned a, b and out= gives the aligned result bit for bit."""
    code = _UNALIGNED_PRELUDE + f"""
    logsketch.set_simd_level({level!r})
    m, k, n = 97, 129, 71
    rng = np.random.default_rng(2)
    a = rng.uniform(-2, 2, (m, k)).astype({dtype!r})
    b = rng.uniform(-2, 2, (k, n)).astype({dtype!r})
    expected = logsketch.mitchell_matmul(a, b)
    ua = unaligned(m * k, {dtype!r}, {offset}, a.ravel()).reshape(m, k)
    ub = unaligned(k * n, {dtype!r}, {offset}, b.ravel()).reshape(k, n)
    assert np.array_equal(bits(logsketch.mitchell_matmul(ua, ub)), bits(expected)), "unaligned inputs"
    out = unaligned(m * n, {dtype!r}, {offset}).reshape(m, n)
    logsketch.mitchell_matmul(ua, ub, out=out)
    assert np.array_equal(bits(out), bits(expected)), "unaligned inputs and out="
    print("OK")
    """
    result = assert_ok(run_python(code, timeout=60), f"mitchell_matmul {dtype} unaligned at offset {offset}, {level}")
    assert "OK" in result.stdout


# --------------------------------------------------------------------------- 2. thread count changed mid-call


def test_randomized_svd_while_another_thread_sets_num_threads():
    """A call reads its thread count once: set_num_threads from another thread cannot corrupt it."""
    code = """
    import threading, numpy as np, logsketch, scipy.sparse

    rng = np.random.default_rng(0)
    dense = (rng.standard_normal((1500, 40)) @ rng.standard_normal((40, 900))).astype(np.float32)
    sparse = scipy.sparse.random(3000, 2000, density=0.01, format="csr", dtype=np.float64, random_state=1)
    logsketch.set_num_threads(2)
    expected = [logsketch.randomized_svd(A, 20, seed=3) for A in (dense, sparse)]

    stop = threading.Event()
    def churn():
        i = 0
        while not stop.is_set():
            logsketch.set_num_threads(1 + i % 8)
            i += 1
    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(10):
            for A, (U0, S0, V0) in zip((dense, sparse), expected):
                U, S, Vt = logsketch.randomized_svd(A, 20, seed=3)
                # the result does not depend on the thread count: bit for bit
                assert np.array_equal(S, S0) and np.array_equal(U, U0) and np.array_equal(Vt, V0)
    finally:
        stop.set()
        t.join()
    print("OK")
    """
    for attempt in range(3):
        result = assert_ok(run_python(code, timeout=120), f"run {attempt + 1} of 3")
        assert "OK" in result.stdout


# --------------------------------------------------------------------------- 3. big-endian arrays


def _swapped(x):
    """x with the same values in the non-native byte order."""
    return x.astype(x.dtype.newbyteorder())


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("op", ["mitchell_multiply", "mitchell_divide"])
def test_big_endian_elementwise(op, dtype):
    rng = np.random.default_rng(3)
    a = rng.uniform(-4, 4, 1000).astype(dtype)
    b = rng.uniform(0.5, 4, 1000).astype(dtype)
    fn = getattr(logsketch, op)
    expected = fn(a, b)
    assert_same_bits(np.asarray(fn(_swapped(a), _swapped(b)), dtype=dtype), expected, f"{op} both swapped")
    assert_same_bits(np.asarray(fn(_swapped(a), b), dtype=dtype), expected, f"{op} a swapped")
    assert_same_bits(np.asarray(fn(a, _swapped(b)), dtype=dtype), expected, f"{op} b swapped")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_big_endian_matmul(dtype):
    rng = np.random.default_rng(4)
    a = rng.uniform(-2, 2, (33, 65)).astype(dtype)
    b = rng.uniform(-2, 2, (65, 17)).astype(dtype)
    expected = logsketch.mitchell_matmul(a, b)
    got = logsketch.mitchell_matmul(_swapped(a), _swapped(b))
    assert_same_bits(np.asarray(got, dtype=dtype), expected, "mitchell_matmul both swapped")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("kind", ["gaussian", "sparse", "srht"])
def test_big_endian_jl_project(kind, dtype):
    X = np.random.default_rng(5).standard_normal((50, 96)).astype(dtype)
    expected = logsketch.jl_project(X, 16, kind=kind, seed=1)
    got = logsketch.jl_project(_swapped(X), 16, kind=kind, seed=1)
    assert_same_bits(np.asarray(got, dtype=expected.dtype), expected, f"jl_project {kind}")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_big_endian_randomized_svd(dtype):
    rng = np.random.default_rng(6)
    A = (rng.standard_normal((120, 10)) @ rng.standard_normal((10, 80))).astype(dtype)
    expected = logsketch.randomized_svd(A, 5, seed=2)
    got = logsketch.randomized_svd(_swapped(A), 5, seed=2)
    for name, g, e in zip("U S Vt".split(), got, expected):
        assert_same_bits(np.asarray(g, dtype=e.dtype), e, f"randomized_svd {name}")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_big_endian_attention(dtype):
    rng = np.random.default_rng(7)
    q = rng.standard_normal((2, 2, 9, 16)).astype(dtype)
    k = rng.standard_normal((2, 2, 13, 16)).astype(dtype)
    v = rng.standard_normal((2, 2, 13, 8)).astype(dtype)
    expected = logsketch.attention(q, k, v, causal=True)
    got = logsketch.attention(_swapped(q), _swapped(k), _swapped(v), causal=True)
    assert_same_bits(np.asarray(got, dtype=expected.dtype), expected, "attention")
    cu = np.array([0, 4, 9], dtype=np.int32)
    cuk = np.array([0, 6, 13], dtype=np.int32)
    qv, kv, vv = q[0].transpose(1, 0, 2), k[0].transpose(1, 0, 2), v[0].transpose(1, 0, 2)
    expected = logsketch.attention_varlen(qv, kv, vv, cu, cuk)
    got = logsketch.attention_varlen(_swapped(qv), _swapped(kv), _swapped(vv), _swapped(cu), _swapped(cuk))
    assert_same_bits(np.asarray(got, dtype=expected.dtype), expected, "attention_varlen")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_big_endian_jl_distortion(dtype):
    X = np.random.default_rng(8).standard_normal((40, 64)).astype(dtype)
    Y = logsketch.jl_project(X, 16, seed=0)
    expected = logsketch.jl_distortion(X, Y, n_pairs=None)
    got = logsketch.jl_distortion(_swapped(X), _swapped(Y), n_pairs=None)
    assert np.array_equal(got.pairs, expected.pairs)
    assert_same_bits(got.ratios, expected.ratios, "jl_distortion ratios")


# --------------------------------------------------------------------------- 4. fork


def test_forked_child_first_multithreaded_call_finishes():
    """A 'fork' child's first multi-threaded call after one in the parent finishes, right."""
    code = """
    import multiprocessing as mp, numpy as np, logsketch

    def child(queue):
        a = np.ones((256, 256), np.float32)
        queue.put(float(logsketch.mitchell_matmul(a, a)[0, 0]))
        X = np.ones((64, 512), np.float32)
        queue.put(logsketch.jl_project(X, 32, seed=0).tobytes())

    logsketch.set_num_threads(2)
    a = np.ones((256, 256), np.float32)
    assert float(logsketch.mitchell_matmul(a, a)[0, 0]) == 256.0
    X = np.ones((64, 512), np.float32)
    expected = logsketch.jl_project(X, 32, seed=0).tobytes()
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    p = ctx.Process(target=child, args=(queue,))
    p.start()
    first = queue.get(timeout=50)
    second = queue.get(timeout=50)
    p.join(10)
    assert p.exitcode == 0, p.exitcode
    assert first == 256.0, first
    assert second == expected
    print("OK")
    """
    result = assert_ok(run_python(code, timeout=60), "multiprocessing fork child")
    assert "OK" in result.stdout


# --------------------------------------------------------------------------- 5. Ctrl-C

_CTRL_C = {
    "mitchell_matmul": (
        "a = np.ones((8192, 8192), np.float32); b = np.ones((8192, 8192), np.float32)",
        "logsketch.mitchell_matmul(a, b)",
    ),
    "randomized_svd_sparse": (
        "import scipy.sparse; "
        "A = scipy.sparse.random(200000, 20000, density=2e-3, format='csr', dtype=np.float64, rng=0)",
        "logsketch.randomized_svd(A, 100, n_iter=40, seed=0)",
    ),
    "attention": (
        "q = np.ones((1, 8, 16384, 128), np.float32); k = q.copy(); v = q.copy()",
        "logsketch.attention(q, k, v)",
    ),
    "jl_project": (
        "X = np.ones((40000, 8192), np.float32)",
        "logsketch.jl_project(X, 8192, seed=0)",
    ),
}


@slow
@pytest.mark.parametrize("family", list(_CTRL_C))
def test_ctrl_c_interrupts_a_long_call(family):
    """SIGINT 0.5 s into a long call raises KeyboardInterrupt within 0.2 s (1.0 s allowed here)."""
    setup, call = _CTRL_C[family]
    code = f"""
    import os, signal, threading, time, numpy as np, logsketch
    {setup}
    sent = []
    def fire():
        sent.append(time.perf_counter())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
    timer = threading.Timer(0.5, fire)
    start = time.perf_counter()
    timer.start()
    try:
        {call}
    except KeyboardInterrupt:
        latency = time.perf_counter() - sent[0]
        print(f"INTERRUPTED latency={{latency:.3f}}")
    else:
        print(f"FINISHED after {{time.perf_counter() - start:.1f}} s without KeyboardInterrupt")
    """
    result = run_python(code, timeout=30)
    if result.timed_out:
        pytest.fail(f"{family}: Ctrl-C did not end the call within 30 s\n{result.describe()}")
    assert_ok(result, family)
    print(f"{family}: {result.stdout.strip()}")
    assert "INTERRUPTED" in result.stdout, f"{family}: {result.stdout.strip()}"
    latency = float(result.stdout.split("latency=")[1].split()[0])
    assert latency < 1.0, f"{family}: KeyboardInterrupt {latency:.3f} s after SIGINT (target 0.2 s)"


# --------------------------------------------------------------------------- 6. threads that cannot be created


@pytest.mark.skipif(UNDER_ASAN, reason="sets RLIMIT_AS")
def test_thread_creation_failure_is_a_python_error():
    """set_num_threads(1000) when threads cannot be created: RuntimeError or fewer threads, rc 0."""
    code = """
    import resource, numpy as np, logsketch
    a = np.ones((512, 512), np.float32)
    logsketch.mitchell_matmul(a, a)
    # RLIMIT_NPROC stops thread creation for unprivileged users, RLIMIT_AS (no
    # room for 1000 thread stacks) for root too
    resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
    vm = int(next(l for l in open("/proc/self/status") if l.startswith("VmSize")).split()[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + (512 << 20),) * 2)
    try:
        logsketch.set_num_threads(1000)
        r = logsketch.mitchell_matmul(a, a)
        assert float(r[0, 0]) == 512.0, r[0, 0]
        print("FEWER THREADS")
    except RuntimeError as exc:
        print("RUNTIMEERROR", exc)
    # the process is still usable
    logsketch.set_num_threads(1)
    assert float(logsketch.mitchell_matmul(a, a)[0, 0]) == 512.0
    print("OK")
    """
    result = run_python(code, timeout=60)
    assert "Thread creation failed" not in result.stderr, result.describe()
    assert_ok(result, "set_num_threads(1000) under a pids/address-space limit")
    assert "OK" in result.stdout


def test_set_num_threads_has_a_sane_maximum(restore_threads):
    with pytest.raises(ValueError, match=r"\bn\b.*65536|65536.*\bn\b"):
        logsketch.set_num_threads(65536)
    logsketch.set_num_threads(2)
    assert logsketch.get_num_threads() == 2


# --------------------------------------------------------------------------- 8. smaller defects


@slow
@pytest.mark.skipif(UNDER_ASAN, reason="measures the peak resident set")
def test_float16_matmul_peak_memory_is_bounded():
    """float16 mitchell_matmul keeps no m x n float32 scratch: peak stays near the output's size."""
    code = """
    import resource, numpy as np, logsketch
    m = n = 8192
    k = 8
    a = np.ones((m, k), np.float16)
    b = np.ones((k, n), np.float16)
    out = np.empty((m, n), np.float16)
    out.fill(0)                          # 128 MiB, every page touched before the baseline
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    logsketch.mitchell_matmul(a, b, out=out)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert float(out[0, 0]) == 8.0 and float(out[-1, -1]) == 8.0
    print(f"PEAK_GROWTH {(after - before) / 2**20:.1f} MiB")
    """
    result = assert_ok(run_python(code, timeout=120), "float16 mitchell_matmul 8192x8192")
    growth = float(result.stdout.split("PEAK_GROWTH")[1].split()[0])
    print(f"peak growth {growth:.1f} MiB (output 128 MiB, float32 scratch would be 256 MiB)")
    assert growth < 32, f"peak resident set grew by {growth:.1f} MiB during the call (a full float32 scratch is 256)"


def test_jl_project_sparse_does_not_overflow_before_scaling():
    """A finite float32 row whose float64 projection is representable stays finite."""
    X = np.full((2, 4), 1e38, dtype=np.float32)
    X[1] = [1e38, -1e38, 1e38, 1e38]
    expected64 = logsketch.jl_project(X.astype(np.float64), 16, kind="sparse", density=1.0, seed=0)
    assert np.all(np.abs(expected64) < np.finfo(np.float32).max), "the test needs a representable result"
    got = logsketch.jl_project(X, 16, kind="sparse", density=1.0, seed=0)
    assert np.all(np.isfinite(got)), f"non-finite entries: {got[~np.isfinite(got)]}"
    np.testing.assert_allclose(got, expected64.astype(np.float32), rtol=1e-6)


def test_jl_min_dim_overflow_is_an_error_naming_eps():
    with pytest.raises((ValueError, OverflowError), match="eps"):
        logsketch.jl_min_dim(1e6, eps=1e-9)


def test_jl_project_accepts_csr_with_int64_indices_and_int32_indptr():
    import scipy.sparse

    A = scipy.sparse.random(30, 50, density=0.2, format="csr", dtype=np.float64, random_state=0)
    expected = logsketch.jl_project(A, 8, seed=1)
    B = A.copy()
    B.indices = A.indices.astype(np.int64)  # set after construction: the constructor would unify them
    B.indptr = A.indptr.astype(np.int32)
    assert B.indices.dtype == np.int64 and B.indptr.dtype == np.int32
    got = logsketch.jl_project(B, 8, seed=1)
    assert_same_bits(got, expected, "jl_project int64 indices / int32 indptr")


def test_mitchell_matmul_accepts_non_overlapping_column_view_as_out():
    m, k, n = 16, 8, 12
    rng = np.random.default_rng(9)
    buf = np.zeros((m, k + n), np.float32)
    buf[:, :k] = rng.uniform(-2, 2, (m, k))
    a = buf[:, :k]
    b = rng.uniform(-2, 2, (k, n)).astype(np.float32)
    a_before = a.copy()
    expected = logsketch.mitchell_matmul(a.copy(), b)
    out = buf[:, k:]
    logsketch.mitchell_matmul(a, b, out=out)
    assert_same_bits(out, expected, "column view out=")
    assert_same_bits(a, a_before, "a unchanged")


@pytest.mark.parametrize("op", ["mitchell_multiply", "mitchell_divide", "mitchell_matmul"])
@pytest.mark.parametrize("value", ["no", "False", "True"])
def test_compensated_must_be_a_bool(op, value):
    a = np.ones((2, 2), np.float32)
    with pytest.raises(TypeError, match="compensated"):
        getattr(logsketch, op)(a, a, compensated=value)


def test_entropy_scale_of_a_huge_int():
    got = logsketch.entropy_scale(2**70, 64)
    assert isinstance(got, float)
    assert got == pytest.approx(70 * math.log(2) / math.log(512) / 8, rel=1e-12)


def test_jl_distortion_negative_seed_names_seed():
    X = np.random.default_rng(0).standard_normal((10, 8))
    with pytest.raises(ValueError, match="seed"):
        logsketch.jl_distortion(X, X[:, :4], n_pairs=5, seed=-1)


def test_jl_components_too_big_names_the_argument():
    with pytest.raises((ValueError, MemoryError), match="n_components|n_features"):
        logsketch.jl_components(2**31, 2**31)
