"""JL projection on the CPU: numpy arrays and scipy.sparse matrices."""

from __future__ import annotations

import os

import numpy as np

from .._native import _core
from .._validate import as_dense_matrix, as_sparse, issparse


def as_input(X):
    """X as a float32/float64 ndarray or a canonical CSR matrix (copied only when needed)."""
    if issparse(X):
        return as_sparse(X, "X", integers=False)
    return as_dense_matrix(X, "X", integers=False, what="a 2-D array of floats")


def project(X, spec):
    """X @ R.T for X from :func:`as_input` and R of ``spec``."""
    if not issparse(X):
        return project_dense(X, spec)
    n = X.shape[0]
    out = np.empty((n, spec.k), dtype=X.dtype)
    _core.jl_project_csr(X.data, X.indices, X.indptr, n, spec.d, out, spec.kind, spec.k, spec.seed, spec.density)
    return out


def project_dense(X, spec):
    """X @ R.T for a native aligned float32/float64 ndarray X."""
    out = np.empty((X.shape[0], spec.k), dtype=X.dtype)
    _core.jl_project_dense(X, out, spec.kind, spec.k, spec.seed, spec.density)
    return out


def _too_big(spec, exc_type):
    return exc_type(f"R of n_components x n_features = {spec.k} x {spec.d} does not fit in memory; "
                    "jl_project applies it without materializing it")


def _physical_memory():
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not reported: no early refusal
        return None


def components(spec, dtype):
    """R of ``spec``: dense (k, d), or a scipy.sparse.csr_array for the sparse kind."""
    if spec.kind == "sparse":
        import scipy.sparse

        # Expected nonzeros times (value + int64 index): refused before a
        # generation that could not finish in this machine's memory.
        memory = _physical_memory()
        if memory is not None and spec.k * spec.d * spec.density * (dtype.itemsize + 8) > memory:
            raise _too_big(spec, MemoryError)
        try:
            data, indices, indptr = _core.jl_sparse_components(spec.k, spec.d, spec.seed, spec.density, dtype.name)
        except MemoryError:
            raise _too_big(spec, MemoryError) from None
        return scipy.sparse.csr_array((data, indices, indptr), shape=(spec.k, spec.d))
    if spec.k * spec.d > np.iinfo(np.intp).max // dtype.itemsize:
        raise _too_big(spec, ValueError)
    try:
        out = np.empty((spec.k, spec.d), dtype=dtype)
    except MemoryError:
        raise _too_big(spec, MemoryError) from None
    _core.jl_dense_components(out, spec.kind, spec.seed, spec.density)
    return out
