"""dask is optional: importing logsketch never imports it, and without it nothing changes."""

from __future__ import annotations

from _subprocess import assert_ok, run_python


def test_import_and_numpy_calls_do_not_import_dask():
    result = assert_ok(run_python("""
        import sys
        import numpy as np
        import logsketch
        X = np.ones((20, 8), dtype=np.float32)
        logsketch.jl_project(X, 4)
        logsketch.randomized_svd(X, 2)
        print(sorted(m for m in sys.modules if m == "dask" or m.startswith(("dask.", "distributed"))))
    """))
    assert result.stdout.strip() == "[]"


def test_everything_works_with_dask_hidden():
    # A None entry in sys.modules makes "import dask" fail, as if it were not installed.
    assert_ok(run_python("""
        import sys
        for name in ("dask", "dask.array", "distributed"):
            sys.modules[name] = None
        import numpy as np
        import scipy.sparse
        import logsketch
        from logsketch._backend import backend_of
        X = np.random.default_rng(0).standard_normal((50, 16))
        assert logsketch.jl_project(X, 4).shape == (50, 4)
        assert logsketch.jl_project(scipy.sparse.csr_matrix(X), 4).shape == (50, 4)
        U, S, Vt = logsketch.randomized_svd(X, 3)
        assert U.shape == (50, 3)
        assert backend_of(X) == "numpy" and backend_of([1.0]) == "numpy"
    """))
