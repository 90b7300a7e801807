"""The GPU path of the randomized SVD: CUDA arrays in, the same framework's arrays out.

``logsketch.randomized_svd`` routes here when A is a CUDA array: it reads A
with :func:`as_input` (the GPU's own rules) and hands :func:`factor` the
problem's spec, every argument checked and every "auto" resolved
(n_oversamples into ``l``, ``n_iter``, ``normalizer``, ``transpose``).  PyTorch tensors and CuPy arrays
are supported; other CUDA arrays are refused with a TypeError.

The algorithm is the CPU's, step for step (cuda/rsvd/rsvd.cu):

1. M = A^T if ``transpose`` else A; M is p x q.
2. Omega = R^T (q x l) for the JL matrix R = ``jl_components(l, q,
   kind=sketch, seed=seed, dtype=A.dtype)`` (density "auto" for "sparse"),
   materialized on the device by cuda/jl bit for bit as on the CPU.
3. Q = Omega; ``n_iter`` times: Y = normalize(M Q), Q = normalize(M^T Y)
   (scikit-learn's randomized_range_finder).
4. Q = orthonormalize(M Q).
5. The SVD of B = Q^T M (l x q), taken as that of B^T = M^T Q: Householder QR
   B^T = Q2 R2, then cuSOLVER's gesvd of the l x l R2 (gesvd needs rows >=
   columns; no Gram matrix anywhere, so no accuracy is squared away).
6. U = Q Ub[:, :k], S[:k], Vt = Vb^T[:k], swapped back to A's factors when
   M = A^T; with ``flip_sign``, each column of U whose largest-magnitude entry
   (the first on ties) is negative is negated with its row of Vt.

normalize: "none" nothing; "lu" P L of an LU with partial pivoting (getrf,
``scipy.linalg.lu(X, permute_l=True)[0]``); "qr" Householder's Q (geqrf +
orgqr); "cholqr" Cholesky QR (syrk, potrf, trsm), retried once with
G + 11 (rows l + l (l + 1)) eps trace(G) I when potrf fails, and Householder
QR if that fails too (X = 0 or not finite).  orthonormalize: Householder QR,
or for "cholqr" Cholesky QR twice, kept when ||Q^T Q - I||_max <= 100 l eps
and otherwise replaced by Householder QR of the same Y.

- dtype: float32 and float64, kept end to end (every GEMM in the input's
  precision; float32 GEMMs use cuBLAS's default math mode, so no TF32).
  float16, bfloat16 and anything else: TypeError.
- layout: A is read in place through cuBLAS's transpose flags when it is
  row-major (C-contiguous, or a row slice of a wider array: unit column
  stride, row stride >= n) or column-major (F-contiguous, a transposed view).
  Any other strides (column steps, negative strides, broadcasts) are copied
  to C order first, one copy of A.
- sparse input on the GPU (torch sparse layouts, ``cupyx.scipy.sparse``) is
  not supported: TypeError (densify it, or pass scipy.sparse to the CPU path).
- outputs: U (m, k), S (k,), Vt (k, n), C-contiguous, of A's dtype,
  allocated by A's framework on A's device.
- stream: all work is enqueued on the framework's current stream for A's
  device.  The call synchronizes that stream before it returns (to check
  every cuSOLVER info value, as torch.linalg's checked functions do), and
  once more per Cholesky QR step (potrf's info decides on the shift), so it
  cannot be captured in a CUDA graph.
- workspace: the cuSOLVER workspace size is queried (``*_bufferSize``) and it
  and the scratch blocks are taken with ``cudaMallocAsync`` on that stream from
  the device's default memory pool (not the framework's caching allocator),
  and freed before returning: (p + q) l elements, plus max(p, q) l for "lu"
  and "cholqr", plus O(l^2).
- handles: one pool of cuBLAS/cuSOLVER handle pairs per device, created on
  first use and leased per call, so concurrent calls from several threads
  are safe; each call sets them to its stream.
- results match the CPU's algorithm within floating-point tolerance, not bit
  for bit (cuBLAS and cuSOLVER sum in their own order); a gesvd that does not
  converge (A with NaN or inf) raises RuntimeError.
"""

from __future__ import annotations

import sys

from .._backend.cuda import Array, Backend, c_order, framework, ptr
from .._native import linalg_module
from ..jl._cuda import srht_rows
from ..jl._spec import MatrixSpec
from ._spec import given

_MAX_INT = 2**31 - 1  # cuBLAS/cuSOLVER take int sizes and leading dimensions


def _refuse_sparse(A):
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(A, torch.Tensor) and A.layout is not torch.strided:
        raise TypeError(
            f"sparse GPU input is not supported by randomized_svd (A has layout {A.layout}); "
            "pass a dense tensor (A.to_dense()) or a scipy.sparse matrix on the CPU"
        )
    sparse = sys.modules.get("cupyx.scipy.sparse")
    if sparse is not None and sparse.issparse(A):
        raise TypeError(
            f"sparse GPU input is not supported by randomized_svd (A is a {type(A).__name__}); "
            "pass a dense CuPy array (A.toarray()) or a scipy.sparse matrix on the CPU"
        )


def as_input(A):
    """A as an Array: a dense float32/float64 torch tensor or CuPy array, 2-D, sizes below 2**31."""
    _refuse_sparse(A)
    fw = framework(A)
    if fw is None:
        from .._backend import is_cuda_array

        where = "a CUDA array" if is_cuda_array(A) else "not a CUDA array"
        raise TypeError(
            f"A is {where} of type {type(A).__name__}; only torch tensors and CuPy arrays are supported "
            "on the GPU (or pass a numpy array to run on the CPU)"
        )
    a = Array(A, fw, "A")
    if a.dtype not in ("float32", "float64"):
        raise TypeError(f"A must be float32 or float64; got {a.dtype}")
    if len(a.shape) != 2:
        raise ValueError(f"A must be 2-D (n_samples, n_features); got shape {a.shape}")
    m, n = a.shape
    if not (1 <= m <= _MAX_INT and 1 <= n <= _MAX_INT):
        raise ValueError(f"A must have between 1 and 2**31 - 1 rows and columns on the GPU; got shape {a.shape}")
    return a


def _layout(a):
    """(row_major, lda) when cuBLAS can read A in place, else None."""
    m, n = a.shape
    rs, cs = a.strides
    if (cs == 1 or n == 1) and (m == 1 or rs >= n):
        lda = rs if m > 1 else n
        return (True, lda) if lda <= _MAX_INT else None
    if (rs == 1 or m == 1) and (n == 1 or cs >= m):
        lda = cs if n > 1 else m
        return (False, lda) if lda <= _MAX_INT else None
    return None


def factor(a, spec):
    """U, S, Vt of the Array a (from :func:`as_input`) for the rSVD ``spec``: A's framework,
    dtype and device; U (m, k), S (k,), Vt (k, n), C-contiguous.  RuntimeError for a CUDA,
    cuBLAS or cuSOLVER error, or an SVD that did not converge."""
    mod = linalg_module()
    backend = Backend(a.fw, a.device)
    layout = _layout(a)
    if layout is None:
        a = c_order(a, backend, "A")
        layout = _layout(a)
    row_major, lda = layout
    m, n = a.shape
    s = spec
    U = backend.empty((m, s.k), a.dtype)
    S = backend.empty((s.k,), a.dtype)
    Vt = backend.empty((s.k, n), a.dtype)
    sketch = MatrixSpec(s.l, m if s.transpose else n, s.sketch, s.density, s.seed)
    rows = srht_rows(backend, sketch)
    mod.rsvd(
        a.ptr, m, n, lda, row_major, a.dtype, s.k, s.l, s.n_iter, s.normalizer, s.transpose, s.flip_sign,
        s.sketch, s.seed, s.density, ptr(rows, a.fw) if rows is not None else 0,
        ptr(U, a.fw), ptr(S, a.fw), ptr(Vt, a.fw), backend.stream(), a.device,
    )  # fmt: skip
    return U, S, Vt


def randomized_svd(A, *, k, l, n_iter, normalizer, transpose, flip_sign, sketch, seed):  # noqa: E741
    """The GPU path with the sketch width ``l`` given directly (tests and benchmarks).

    Every "auto" must already be resolved: ``l`` is n_components +
    n_oversamples capped at min(m, n), ``normalizer`` one of "none", "lu",
    "qr", "cholqr", ``transpose`` a bool.
    """
    a = as_input(A)
    return factor(a, given(a.shape, k, l, n_iter, normalizer, transpose, flip_sign, sketch, seed))
