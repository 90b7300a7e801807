"""The GPU path of the randomized SVD: CUDA arrays in, the same framework's arrays out.

``logsketch.randomized_svd`` routes here when A is a CUDA array, after its
generic checks and after resolving every "auto" (n_oversamples into ``l``,
``n_iter``, ``normalizer``, ``transpose``).  PyTorch tensors and CuPy arrays
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

import numbers
import sys

from . import jl
from ._arrays import is_cuda_array
from ._gpu import linalg_module
from ._jl_gpu import _ptr, _srht_rows
from ._mitchell_gpu import _Array, _Backend, _framework

NORMALIZERS = ("none", "lu", "qr", "cholqr")
_MAX_INT = 2**31 - 1  # cuBLAS/cuSOLVER take int sizes and leading dimensions


def _a_array(A):
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
    fw = _framework(A)
    if fw is None:
        where = "a CUDA array" if is_cuda_array(A) else "not a CUDA array"
        raise TypeError(
            f"A is {where} of type {type(A).__name__}; only torch tensors and CuPy arrays are supported "
            "on the GPU (or pass a numpy array to run on the CPU)"
        )
    return _Array(A, fw, "A")


def _int(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    value = int(value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}]; got {value}")
    return value


def _bool(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool; got {type(value).__name__}")
    return value


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


def _c_order(a, backend):
    if a.fw == "torch":
        return _Array(a.obj.contiguous(), a.fw, "A")
    with backend.mod.cuda.Device(backend.device):
        return _Array(backend.mod.ascontiguousarray(a.obj), a.fw, "A")


def randomized_svd(A, *, k, l, n_iter, normalizer, transpose, flip_sign, sketch, seed):
    """Randomized SVD of a CUDA matrix A (see this module's docstring).

    Every "auto" must already be resolved: ``l`` is n_components +
    n_oversamples capped at min(m, n).  Returns (U, S, Vt) of A's framework,
    dtype and device: U (m, k), S (k,), Vt (k, n), C-contiguous.

    Raises
    ------
    TypeError
        A is not a dense torch tensor / CuPy array on a CUDA device (sparse
        GPU input included), A is not float32/float64, or an argument has the
        wrong type.
    ValueError
        A is not 2-D or has a dimension of 0 or >= 2**31, or k, l, n_iter,
        normalizer, sketch or seed is out of range.
    RuntimeError
        A CUDA, cuBLAS or cuSOLVER error, or an SVD that did not converge.
    """
    a = _a_array(A)
    if a.dtype not in ("float32", "float64"):
        raise TypeError(f"A must be float32 or float64; got {a.dtype}")
    if len(a.shape) != 2:
        raise ValueError(f"A must be 2-D; got shape {a.shape}")
    m, n = a.shape
    if not (1 <= m <= _MAX_INT and 1 <= n <= _MAX_INT):
        raise ValueError(f"A must have between 1 and 2**31 - 1 rows and columns on the GPU; got shape {a.shape}")
    k = _int(k, "k", 1, min(m, n))
    l = _int(l, "l", k, min(m, n))
    n_iter = _int(n_iter, "n_iter", 0, _MAX_INT)
    if not isinstance(normalizer, str) or normalizer not in NORMALIZERS:
        raise ValueError(f"normalizer must be one of {NORMALIZERS}; got {normalizer!r}")
    if not isinstance(sketch, str) or sketch not in jl.KINDS:
        raise ValueError(f"sketch must be one of {jl.KINDS}; got {sketch!r}")
    transpose = _bool(transpose, "transpose")
    flip_sign = _bool(flip_sign, "flip_sign")
    q = m if transpose else n
    _, _, sketch, density, seed = jl._check_matrix(l, q, sketch, "auto", seed)

    mod = linalg_module()
    backend = _Backend(a.fw, a.device)
    layout = _layout(a)
    if layout is None:
        a = _c_order(a, backend)
        layout = _layout(a)
    row_major, lda = layout
    U = backend.empty((m, k), a.dtype)
    S = backend.empty((k,), a.dtype)
    Vt = backend.empty((k, n), a.dtype)
    rows = _srht_rows(backend, seed, l, q) if sketch == "srht" else None
    mod.rsvd(
        a.ptr, m, n, lda, row_major, a.dtype, k, l, n_iter, normalizer, transpose, flip_sign, sketch, seed,
        density, _ptr(rows, a.fw) if rows is not None else 0,
        _ptr(U, a.fw), _ptr(S, a.fw), _ptr(Vt, a.fw), backend.stream(), a.device,
    )  # fmt: skip
    return U, S, Vt
