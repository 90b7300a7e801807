"""The dask examples run and check what they print."""

from __future__ import annotations

import os

import pytest

from _subprocess import assert_ok, run_python

pytest.importorskip("dask.array")
pytest.importorskip("distributed")

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def test_dask_rsvd_example():
    path = os.path.join(EXAMPLES, "dask_rsvd.py")
    if not os.path.exists(path):
        pytest.skip("examples/ is not shipped beside an installed package")
    result = assert_ok(run_python(f"import runpy, sys; sys.argv = [{path!r}, '--rows', '20000']; "
                                  f"runpy.run_path({path!r}, run_name='__main__')", timeout=120))
    assert "matches the in-memory factorization: yes" in result.stdout
