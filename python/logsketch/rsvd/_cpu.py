"""The randomized SVD on the CPU: dense C/F-order arrays, CSR and CSC matrices."""

from __future__ import annotations

import warnings

import numpy as np

from .._native import _core
from .._validate import as_dense_matrix, as_sparse, issparse


def as_input(A):
    """("dense", ndarray in C or F order) or ("csr"/"csc", canonical sparse)."""
    if issparse(A):
        if A.format in ("lil", "dok"):  # scikit-learn's randomized_svd warns the same way
            import scipy.sparse

            warnings.warn(f"Calculating SVD of a {type(A).__name__} is expensive. CSR format is more efficient: "
                          "it is converted to CSR (a copy)", scipy.sparse.SparseEfficiencyWarning, stacklevel=3)
        A = as_sparse(A, "A", integers=True, formats=("csr", "csc"))
        return A.format, A
    arr = as_dense_matrix(A, "A", integers=True, what="a 2-D array of real numbers")
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = np.ascontiguousarray(arr)
    return "dense", arr


def factor(fmt, A, spec, mean=None):
    """U, S, Vt of A (from :func:`as_input`), of A - 1 mean^T when mean (n,) is given."""
    m, n = A.shape
    if mean is not None:
        mean = np.ascontiguousarray(mean, dtype=A.dtype)
    U = np.empty((m, spec.k), dtype=A.dtype)
    S = np.empty(spec.k, dtype=A.dtype)
    Vt = np.empty((spec.k, n), dtype=A.dtype)
    s = spec
    args = (mean, U, S, Vt, s.k, s.l, s.n_iter, s.normalizer, s.transpose, s.flip_sign, s.sketch, s.seed, s.density)
    if fmt == "dense":
        _core.rsvd_dense(A, *args)
    else:
        _core.rsvd_csr(A.data, A.indices, A.indptr, m, n, fmt == "csc", *args)
    return U, S, Vt


def csr_product(A, x, adjoint=False):
    """A @ x, or A.T @ x when adjoint, for a canonical CSR A (m x n) and a dense x of A's dtype
    ((n, l), or (m, l) when adjoint): the factorization's own sparse kernels, one C-contiguous result."""
    m, n = A.shape
    x = np.require(x, dtype=A.dtype, requirements=("C", "A"))  # deserialized buffers may be unaligned
    out = np.empty((n if adjoint else m, x.shape[1]), dtype=A.dtype)
    _core.rsvd_csr_product(A.data, A.indices, A.indptr, m, n, x, out, adjoint)
    return out
