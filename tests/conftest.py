"""Fixtures of the CPU test suite (helpers live in logsketch_test_helpers.py).

- ``simd_level``: runs a test once per SIMD level this CPU supports (every level
  up to ``logsketch._core.detected_simd_level()``), restoring the previous level.
- ``restore_threads`` / ``restore_simd``: put back what a test changes.
- Under the sanitizer job (``LOGSKETCH_SANITIZERS=1``, set by
  tools/ci/sanitizers.sh) the tests that cap the address space with
  ``RLIMIT_AS`` are skipped: ASan reserves terabytes of virtual memory for its
  shadow, so no such cap can hold.
"""

from __future__ import annotations

import inspect
import os

import pytest

import logsketch
from logsketch_test_helpers import SUPPORTED_SIMD_LEVELS, assert_bits_equal  # noqa: F401  (re-exported)


@pytest.fixture(params=SUPPORTED_SIMD_LEVELS)
def simd_level(request):
    previous = logsketch.get_simd_level()
    logsketch.set_simd_level(request.param)
    assert logsketch.get_simd_level() == request.param
    yield request.param
    logsketch.set_simd_level(previous)


@pytest.fixture
def restore_threads():
    previous = logsketch.get_num_threads()
    yield previous
    logsketch.set_num_threads(previous)


@pytest.fixture
def restore_simd():
    previous = logsketch.get_simd_level()
    yield previous
    logsketch.set_simd_level(previous)


def _sets_rlimit_as(function, seen={}):
    """Whether a test function's own source mentions RLIMIT_AS (read once per function)."""
    if function not in seen:
        try:
            seen[function] = "RLIMIT_AS" in inspect.getsource(function)
        except (OSError, TypeError):  # no source to read: nothing to skip
            seen[function] = False
    return seen[function]


def pytest_collection_modifyitems(config, items):
    if os.environ.get("LOGSKETCH_SANITIZERS") != "1":
        return
    skip = pytest.mark.skip(reason="sets RLIMIT_AS, which AddressSanitizer's shadow memory cannot live under")
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and _sets_rlimit_as(function):
            item.add_marker(skip)
