"""Fixtures of the CPU test suite (helpers live in logsketch_test_helpers.py).

- ``simd_level``: runs a test once per SIMD level this CPU supports (every level
  up to ``logsketch._core.detected_simd_level()``), restoring the previous level.
- ``restore_threads`` / ``restore_simd``: put back what a test changes.
"""

from __future__ import annotations

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
