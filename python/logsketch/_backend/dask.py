"""What the families' dask modules share: the checks of a dask array and of
its blocks, and the dask array of a hand-built graph layer (tasks that need their
block's index).

Checks that need no data (2-D, known chunk sizes, a real dtype) run when the
call is made; checks that need the data (a block's actual dtype, NaN or
infinity) run inside the block's task, when the result is computed, and name
the block: ``"A block (3, 0) contains NaN or infinity"``.
"""

from __future__ import annotations

import itertools
import math
import uuid

import numpy as np

from .._validate import as_dense_matrix, as_sparse, float_dtype, issparse


def check_array(X, name, *, integers):
    """The float dtype X's blocks run in, after the checks that need no computing."""
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {X.shape}")
    if any(math.isnan(c) for chunks in X.chunks for c in chunks):
        raise ValueError(f"{name} has unknown chunk sizes (shape {X.shape}); call {name}.compute_chunk_sizes() "
                         "first")
    return float_dtype(X.dtype, name, integers=integers)


def check_block_dtype(block, name, block_id, declared):
    """A block must have its array's declared dtype (a map_blocks may have produced another)."""
    if np.dtype(block.dtype) != declared:
        raise TypeError(f"{name} block {tuple(block_id)} has dtype {block.dtype}, but the dask array declares "
                        f"{declared}: all blocks must have the array's dtype")


def dense_or_sparse(block, name, *, integers, formats=("csr",)):
    """A block as the in-memory path takes it: a float ndarray, or a canonical sparse matrix in ``formats``."""
    if issparse(block):
        return as_sparse(block, name, integers=integers, formats=formats)
    return as_dense_matrix(block, name, integers=integers, what="a 2-D array of floats")


def check_block_finite(block, name, block_id):
    """ValueError naming the block when it holds NaN or infinity."""
    values = block.data if issparse(block) else block
    if not np.isfinite(values).all():
        raise ValueError(f"{name} block {tuple(block_id)} contains NaN or infinity")


def new_name(prefix):
    """A fresh graph name: every call builds new tasks, never a stale cache hit."""
    return f"{prefix}-{uuid.uuid4().hex}"


def array_from_layer(name, layer, chunks, dtype, dependencies):
    """The dask array of blocks ``(name, *idx)`` computed by the tasks in ``layer`` (which may hold more keys)."""
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    graph = HighLevelGraph.from_collections(name, layer, dependencies=dependencies)
    return da.Array(graph, name, chunks=chunks, dtype=dtype, meta=np.empty((0,) * len(chunks), dtype=dtype))


def _add_parts(parts):
    """The sum of the parts, in their order, in a new array (the parts may be held by other tasks)."""
    total = np.array(parts[0], copy=True)
    for part in parts[1:]:
        total += part
    return total


def _first(part):
    return part[0]


def sum_over_blocks(name, layer, count, chunks, dtype, dependencies, fan_in=16):
    """The dask array (chunks) of the sum over r < count of the blocks ``(name, r, *idx)``
    of ``layer``, each of shape (1, *block): a tree of additions, ``fan_in`` parts a
    task, in r's order, that never concatenates (dask's ``sum`` copies every part
    into one array first).  The same tree whatever the scheduler: the same bits."""
    total = new_name(f"{name}-sum")
    for idx in itertools.product(*(range(len(c)) for c in chunks)):
        keys, level = [(name, r, *idx) for r in range(count)], 0
        while len(keys) > 1:
            groups = [keys[g : g + fan_in] for g in range(0, len(keys), fan_in)]
            keys = [(f"{total}-{level}", g, *idx) for g in range(len(groups))]
            layer.update({key: (_add_parts, group) for key, group in zip(keys, groups)})
            level += 1
        layer[(total, *idx)] = (_first, keys[0])
    return array_from_layer(total, layer, chunks, dtype, dependencies)
