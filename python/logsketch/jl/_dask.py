"""JL projection of a dask array: one task per block of rows, R regenerated in every task.

R is a pure function of (kind, k, d, density, seed), so a task computes its
rows of ``X @ R.T`` with the CPU kernel exactly as an in-memory call on those
rows would: nothing is broadcast, and since every output row depends only on
its input row, the result equals ``jl_project(X.compute())`` bit for bit.

Column chunks: the kernel sums each output over the whole row in its own
order, so a row block's column chunks are joined first (a rechunk to full
rows, exact) instead of summing partial products, which would differ from
the in-memory result by float rounding.  The price is moving each row block's
pieces to one worker once: the size of X, the same as reading it.
"""

from __future__ import annotations

import numpy as np

from .._backend.dask import check_array, check_block_dtype, dense_or_sparse
from . import _cpu
from ._spec import data_spec


def project(X, n_components, kind, density, seed):
    """Y = X @ R.T lazily: a dask array with X's row chunks and one column chunk of n_components."""
    dtype = check_array(X, "X", integers=False)
    spec = data_spec(X.shape, n_components, kind, density, seed)
    declared = X.dtype
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    return X.map_blocks(_project_block, spec, declared, chunks=(X.chunks[0], (spec.k,)), dtype=dtype,
                        meta=np.empty((0, 0), dtype=dtype))


def _project_block(block, spec, declared, block_id=None):
    check_block_dtype(block, "X", block_id, declared)
    return _cpu.project(dense_or_sparse(block, "X", integers=False), spec)
