"""Run-time configuration: SIMD level, threads, and what was built and found."""

from __future__ import annotations

import os
import platform

from ._native import _core, cuda_status
from ._validate import check_int

__all__ = ["config", "get_num_threads", "get_simd_level", "set_num_threads", "set_simd_level", "show_config"]

SIMD_LEVELS = ("scalar", "avx2", "avx512")
_MAX_THREADS = _core.max_threads  # 1024: the pool's bound, cpp/runtime/threads.hpp


def _apply_env_simd():
    requested = os.environ.get("LOGSKETCH_SIMD")
    if requested:
        try:
            _core.set_simd_level(requested.strip().lower())
        except ValueError as exc:
            raise ImportError(f"LOGSKETCH_SIMD={requested!r} refused: {exc}") from None


_apply_env_simd()


def get_simd_level() -> str:
    """The SIMD level the CPU kernels run at: 'scalar', 'avx2' or 'avx512'."""
    return _core.simd_level()


def set_simd_level(level: str) -> None:
    """Run the CPU kernels at ``level`` ('scalar', 'avx2' or 'avx512').

    The default is the best level the CPU supports, or ``LOGSKETCH_SIMD`` when
    set at import.  Every level gives bit-identical results.

    Raises
    ------
    TypeError
        ``level`` is not a string.
    ValueError
        An unknown level, or one this CPU lacks.
    """
    if not isinstance(level, str):
        raise TypeError(f"level must be a str; got {type(level).__name__}")
    _core.set_simd_level(level)


def get_num_threads() -> int:
    """The number of threads the CPU kernels use."""
    return _core.get_num_threads()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in the CPU kernels (default: ``OMP_NUM_THREADS`` if set,
    else the number of hardware threads, at most 1024).  Results do not depend on it.

    The threads are logsketch's own pool, started here: a call already running
    keeps the thread count it started with.

    Raises
    ------
    TypeError
        ``n`` is not an integer.
    ValueError
        ``n`` < 1 or ``n`` > 1024.
    RuntimeError
        The system refused to start some of the threads (a process or memory
        limit).  The count is still set; calls run on the threads that started.
    """
    _core.set_num_threads(check_int(n, "n", 1, _MAX_THREADS))


def config() -> dict:
    """What this build of logsketch is and what it found on this machine."""
    from . import __version__

    return {
        "version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "compiler": _core.compiler,
        "max_threads": _core.max_threads,
        "simd_detected": _core.detected_simd_level(),
        "simd_in_use": _core.simd_level(),
        "threads": _core.get_num_threads(),
        "blas": _core.blas(),
        "cuda": cuda_status(),
    }


def show_config() -> None:
    """Print :func:`config` as ``key: value`` lines."""
    for key, value in config().items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{key}: {value}")
