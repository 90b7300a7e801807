"""Randomized SVD and JL projection of a dask array on a small local cluster.

A tall matrix is generated block by block inside the tasks (it never exists
in one place), factored with logsketch.randomized_svd, and projected with
logsketch.jl_project; both agree with the in-memory calls on the same data.

    python examples/dask_rsvd.py [--rows 40000] [--workers 2]
"""

from __future__ import annotations

import argparse

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import logsketch

N_FEATURES, RANK = 300, 20


def block(block_id=None, rows=None):
    """Rows of a rank-20 signal plus noise, generated from the block's index: no data leaves the driver."""
    rng = np.random.default_rng(block_id[0])
    mixing = np.random.default_rng(12345).standard_normal((RANK, N_FEATURES))
    signal = rng.standard_normal((rows, RANK)) * np.geomspace(50, 5, RANK)
    return (signal @ mixing + rng.standard_normal((rows, N_FEATURES))).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster):
        chunks = ((args.chunk,) * (args.rows // args.chunk), (N_FEATURES,))
        A = da.map_blocks(block, chunks=chunks, dtype=np.float32, rows=args.chunk)

        U, S, Vt = logsketch.randomized_svd(A, 10, n_iter=4, seed=0)  # U lazy, S and Vt numpy
        print("singular values:", np.array2string(S, precision=1))

        Y = logsketch.jl_project(A, 64, kind="sparse", seed=7)  # lazy, A's row blocks
        print("projection:", Y.shape, Y.dtype, f"{Y.numblocks[0]} row blocks")

        # The same calls in memory (the matrix is small enough here).
        dense = A.compute()
        assert np.array_equal(Y.compute(), logsketch.jl_project(dense, 64, kind="sparse", seed=7))
        S0 = logsketch.randomized_svd(dense, 10, n_iter=4, seed=0)[1]
        assert np.allclose(S, S0, rtol=1e-4)
        first = U.blocks[0].compute()
        print("U's first block:", first.shape, "orthonormal columns overall:",
              bool(np.allclose((U.T @ U).compute(), np.eye(10), atol=1e-4)))
        print("matches the in-memory factorization: yes")


if __name__ == "__main__":
    main()
