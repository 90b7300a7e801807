"""Run-time configuration: SIMD level, threads, config()/show_config(),
``python -m logsketch info``, environment variables read at import, and the
rule that importing logsketch never touches CUDA."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import logsketch
from logsketch import _core
from logsketch_test_helpers import ALL_SIMD_LEVELS, SUPPORTED_SIMD_LEVELS, UNSUPPORTED_SIMD_LEVELS


def run_python(code, env_updates=None, args=None):
    """Run a fresh interpreter (import-time behaviour), with env vars set or removed (None)."""
    env = dict(os.environ)
    for key, val in (env_updates or {}).items():
        if val is None:
            env.pop(key, None)
        else:
            env[key] = val
    cmd = [sys.executable] + (args if args is not None else ["-c", code])
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


# --------------------------------------------------------------------------- SIMD level


def test_detected_level_is_known_and_the_default():
    assert _core.detected_simd_level() in ALL_SIMD_LEVELS
    out = run_python("import logsketch; print(logsketch.get_simd_level())", {"LOGSKETCH_SIMD": None})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == _core.detected_simd_level()


@pytest.mark.parametrize("level", SUPPORTED_SIMD_LEVELS)
def test_set_and_get_simd_level(level, restore_simd):
    logsketch.set_simd_level(level)
    assert logsketch.get_simd_level() == level
    assert logsketch.config()["simd_in_use"] == level
    assert logsketch.config()["simd_detected"] == _core.detected_simd_level()


@pytest.mark.parametrize("level", UNSUPPORTED_SIMD_LEVELS or ["<none>"])
def test_unsupported_level_is_refused(level, restore_simd):
    if level == "<none>":
        pytest.skip(f"this CPU supports every level ({_core.detected_simd_level()})")
    before = logsketch.get_simd_level()
    with pytest.raises(ValueError, match=level):
        logsketch.set_simd_level(level)
    assert logsketch.get_simd_level() == before


@pytest.mark.parametrize("bad", ["sse2", "AVX2", "avx512 ", "", "neon", "avx"])
def test_unknown_level_raises_value_error(bad, restore_simd):
    before = logsketch.get_simd_level()
    with pytest.raises(ValueError, match="level"):
        logsketch.set_simd_level(bad)
    assert logsketch.get_simd_level() == before


@pytest.mark.parametrize("bad", [2, None, b"avx2", ["avx2"], 1.0])
def test_non_str_level_raises_type_error(bad, restore_simd):
    before = logsketch.get_simd_level()
    with pytest.raises(TypeError, match="level"):
        logsketch.set_simd_level(bad)
    assert logsketch.get_simd_level() == before


@pytest.mark.parametrize("level", SUPPORTED_SIMD_LEVELS)
def test_logsketch_simd_environment_variable(level):
    out = run_python(
        "import logsketch; print(logsketch.get_simd_level()); print(logsketch.config()['simd_in_use'])",
        {"LOGSKETCH_SIMD": level},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [level, level]


@pytest.mark.parametrize("bad", ["sse9", "fast"] + list(UNSUPPORTED_SIMD_LEVELS))
def test_logsketch_simd_refused_at_import(bad):
    out = run_python("import logsketch", {"LOGSKETCH_SIMD": bad})
    assert out.returncode != 0
    assert "ImportError" in out.stderr and "LOGSKETCH_SIMD" in out.stderr and bad in out.stderr, out.stderr


# --------------------------------------------------------------------------- threads


def test_set_and_get_num_threads(restore_threads):
    for n in (1, 2, 3, 7):
        logsketch.set_num_threads(n)
        assert logsketch.get_num_threads() == n
        assert logsketch.config()["threads"] == n
    logsketch.set_num_threads(np.int64(2))  # any integer type
    assert logsketch.get_num_threads() == 2


@pytest.mark.parametrize("bad", [0, -1, -(2**40)])
def test_num_threads_below_one_raises_value_error(bad, restore_threads):
    before = logsketch.get_num_threads()
    with pytest.raises(ValueError, match="n "):
        logsketch.set_num_threads(bad)
    assert logsketch.get_num_threads() == before


@pytest.mark.parametrize("bad", [1.5, 2.0, "2", None, True, np.float64(2.0)])
def test_non_int_num_threads_raises_type_error(bad, restore_threads):
    before = logsketch.get_num_threads()
    with pytest.raises(TypeError, match="n "):
        logsketch.set_num_threads(bad)
    assert logsketch.get_num_threads() == before


def test_huge_num_threads_is_a_value_error(restore_threads):
    # An int too large for the binding's C int is a wrong value, not a wrong type.
    before = logsketch.get_num_threads()
    with pytest.raises(ValueError, match="n "):
        logsketch.set_num_threads(2**31)
    assert logsketch.get_num_threads() == before


def test_omp_num_threads_sets_the_default():
    code = "import logsketch; print(logsketch.get_num_threads())"
    for n in ("1", "3"):
        out = run_python(code, {"OMP_NUM_THREADS": n})
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == n
    out = run_python(code, {"OMP_NUM_THREADS": None})
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) == os.cpu_count()  # the number of hardware threads


def test_results_do_not_depend_on_threads_across_processes():
    # The same data through fresh processes with 1 and with 2 threads.
    code = (
        "import numpy as np, logsketch, sys\n"
        "rng = np.random.default_rng(0)\n"
        "a = rng.standard_normal((300, 500)).astype(np.float32)\n"
        "b = rng.standard_normal((500, 40)).astype(np.float32)\n"
        "x = rng.standard_normal(1 << 17)\n"
        "sys.stdout.write(logsketch.mitchell_matmul(a, b).tobytes().hex()[:4000])\n"
        "sys.stdout.write(logsketch.mitchell_multiply(x, x[::-1]).tobytes().hex()[-4000:])\n"
    )
    outs = []
    for n in ("1", "2"):
        out = run_python(code, {"OMP_NUM_THREADS": n})
        assert out.returncode == 0, out.stderr
        outs.append(out.stdout)
    assert len(outs[0]) == 8000 and outs[0] == outs[1]


# --------------------------------------------------------------------------- config / show_config / info


def test_config_keys_and_types():
    cfg = logsketch.config()
    for key in ("version", "simd_detected", "simd_in_use", "threads", "cuda"):
        assert key in cfg, key
    assert cfg["version"] == logsketch.__version__
    assert cfg["simd_detected"] == _core.detected_simd_level()
    assert cfg["simd_in_use"] == logsketch.get_simd_level()
    assert cfg["threads"] == logsketch.get_num_threads() and isinstance(cfg["threads"], int)
    cuda = cfg["cuda"]
    assert isinstance(cuda, dict)
    assert isinstance(cuda["built"], bool) and isinstance(cuda["device_found"], bool)
    if not cuda["built"]:
        assert cuda["device_found"] is False
        assert cuda["detail"]  # says why


def test_show_config_prints_every_key(capsys, restore_simd, restore_threads):
    logsketch.set_simd_level("scalar")
    logsketch.set_num_threads(3)
    logsketch.show_config()
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert f"version: {logsketch.__version__}" in lines
    assert "simd_in_use: scalar" in lines
    assert f"simd_detected: {_core.detected_simd_level()}" in lines
    assert "threads: 3" in lines
    assert "cuda:" in lines
    cuda = logsketch.config()["cuda"]
    assert f"  built: {cuda['built']}" in lines
    assert f"  device_found: {cuda['device_found']}" in lines


def test_python_m_logsketch_info():
    out = run_python(None, {"LOGSKETCH_SIMD": "scalar", "OMP_NUM_THREADS": "2"}, args=["-m", "logsketch", "info"])
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "simd_in_use: scalar" in lines
    assert any(line.startswith("simd_detected: ") for line in lines)
    assert "threads: 2" in lines
    assert "cuda:" in lines and any(line.startswith("  built: ") for line in lines)
    assert any(line.startswith("  device_found: ") for line in lines)


def test_python_m_logsketch_bad_command():
    out = run_python(None, args=["-m", "logsketch", "nonsense"])
    assert out.returncode == 2
    assert "usage" in out.stderr


# --------------------------------------------------------------------------- BLAS


def test_blas_stays_out_of_the_global_symbol_scope():
    # SciPy's wheels link their own copy of the same OpenBLAS, with the same
    # scipy_-prefixed symbols: a copy in the global scope would capture SciPy's
    # LAPACK calls when logsketch is imported first, and logsketch's
    # single-threaded OpenBLAS setting would then slow or change SciPy.
    code = (
        "import ctypes, numpy as np, logsketch, scipy.linalg\n"
        "logsketch.randomized_svd(np.eye(8), 2)\n"
        "print(hasattr(ctypes.CDLL(None), 'scipy_openblas_get_num_threads'))\n"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- CUDA status


def test_import_does_not_touch_cuda():
    # Importing logsketch (and asking for the CPU config) must not load the CUDA
    # module or any CUDA library; config() may look, on demand, and must then
    # report what it found.
    code = (
        "import sys, logsketch\n"
        "gpu = ('logsketch._cuda', 'logsketch._backend.cuda', 'logsketch.mitchell._cuda')\n"
        "mods = [m for m in sys.modules if m.startswith(gpu)]\n"
        "maps = open('/proc/self/maps').read() if sys.platform.startswith('linux') else ''\n"
        "libs = sorted({l.split('/')[-1] for l in maps.splitlines() if 'libcuda' in l or 'libcudart' in l})\n"
        "print(repr(mods)); print(repr(libs))\n"
        "cuda = logsketch.config()['cuda']\n"
        "print(cuda['built'], cuda['device_found'])\n"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    mods, libs, status = out.stdout.splitlines()
    assert mods == "[]", mods
    assert libs == "[]", libs
    built, found = status.split()
    assert built in ("True", "False") and found in ("True", "False")
    if built == "False":
        assert found == "False"


def test_cuda_status_on_this_machine():
    cuda = logsketch.config()["cuda"]
    has_device_node = any(os.path.exists(p) for p in ("/dev/nvidia0", "/dev/nvidiactl"))
    if not has_device_node:
        # No NVIDIA device here: whatever was built, none can be found.
        assert cuda["device_found"] is False
    else:
        assert isinstance(cuda["device_found"], bool)
    assert set(cuda) >= {"built", "device_found"}
