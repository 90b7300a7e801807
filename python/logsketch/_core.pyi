"""Type stubs of logsketch._core, the compiled CPU kernels (cpp/bindings/).

Private to logsketch: the public functions check their arguments and call these.
"""

import numpy
import numpy.typing

def _rsvd_set_csr_gather_block_bytes(bytes: int) -> int: ...
def attention(q: numpy.ndarray, k: numpy.ndarray, v: numpy.ndarray, out: numpy.ndarray, lse: numpy.ndarray | None, kv_lengths: numpy.ndarray | None, causal: bool, entropy: bool, log_base: float, min_factor: float, value: float) -> None:
    """Attention over (batch, heads, seq, head_dim) arrays into out (and lse)."""
def attention_backward(dout: numpy.ndarray, q: numpy.ndarray, k: numpy.ndarray, v: numpy.ndarray, out: numpy.ndarray, lse: numpy.ndarray, dq: numpy.ndarray, dk: numpy.ndarray, dv: numpy.ndarray, kv_lengths: numpy.ndarray | None, causal: bool, entropy: bool, log_base: float, min_factor: float, value: float) -> None:
    """Gradients of attention over (batch, heads, seq, head_dim) arrays into dq, dk, dv."""
def attention_row_scale(entropy: bool, log_base: float, min_factor: float, value: float, n: int, d: int) -> float:
    """The kernels' lambda for a row that sees n >= 1 keys."""
def attention_varlen(q: numpy.ndarray, k: numpy.ndarray, v: numpy.ndarray, cu_seqlens_q: numpy.ndarray, cu_seqlens_k: numpy.ndarray, out: numpy.ndarray, lse: numpy.ndarray | None, causal: bool, entropy: bool, log_base: float, min_factor: float, value: float) -> None:
    """Attention over packed (tokens, heads, head_dim) arrays with cumulative sequence offsets."""
def attention_varlen_backward(dout: numpy.ndarray, q: numpy.ndarray, k: numpy.ndarray, v: numpy.ndarray, out: numpy.ndarray, lse: numpy.ndarray, cu_seqlens_q: numpy.ndarray, cu_seqlens_k: numpy.ndarray, dq: numpy.ndarray, dk: numpy.ndarray, dv: numpy.ndarray, causal: bool, entropy: bool, log_base: float, min_factor: float, value: float) -> None:
    """Gradients of attention over packed (tokens, heads, head_dim) arrays into dq, dk, dv."""
def blas() -> str:
    """The linked BLAS/LAPACK as it reports itself."""
def detected_simd_level() -> str:
    """The best SIMD level this CPU supports: 'scalar', 'avx2' or 'avx512'."""
def get_num_threads() -> int: ...
def jl_dense_components(out: numpy.ndarray, kind: str, seed: int, density: float) -> None:
    """Writes R (gaussian or srht) into out, shape (k, d)."""
def jl_project_csr(data: numpy.ndarray, indices: numpy.ndarray, indptr: numpy.ndarray, n: int, d: int, out: numpy.ndarray, kind: str, k: int, seed: int, density: float) -> None:
    """out = X R^T for a CSR X with sorted, unique column indices."""
def jl_project_dense(x: numpy.ndarray, out: numpy.ndarray, kind: str, k: int, seed: int, density: float) -> None:
    """out = X R^T for a dense 2-D X (any strides)."""
def jl_sparse_components(k: int, d: int, seed: int, density: float, dtype: str) -> tuple:
    """R of the sparse kind as CSR arrays (data, indices, indptr)."""
def jl_srht_sample(seed: int, k: int, n: int) -> numpy.typing.NDArray[numpy.int64]:
    """The SRHT's k sampled rows of the n x n Hadamard matrix."""
def mitchell_binary(a: numpy.ndarray, b: numpy.ndarray, out: numpy.ndarray, op: str, compensated: bool) -> None:
    """out = a (op) b elementwise; a, b already broadcast to out's shape and of out's dtype."""
def mitchell_matmul(a: numpy.ndarray, b: numpy.ndarray, out: numpy.ndarray, compensated: bool) -> None:
    """out[...] = a[...] @ b[...] with Mitchell products; batch dimensions already broadcast."""
def philox4x32_10(counters: numpy.typing.ArrayLike, k0: int, k1: int) -> numpy.typing.NDArray[numpy.uint32]:
    """Philox4x32-10 blocks of uint32 counters (n, 4) under key (k0, k1)."""
def rsvd_csr(data: numpy.ndarray, indices: numpy.ndarray, indptr: numpy.ndarray, m: int, n: int, csr_transposed: bool, mean: numpy.ndarray | None, u: numpy.ndarray, s: numpy.ndarray, vt: numpy.ndarray, k: int, l: int, n_iter: int, normalizer: str, transpose: bool, flip_sign: bool, sketch: str, seed: int, density: float) -> None:
    """Randomized SVD of a CSR A (or of a CSC A given as the CSR of A^T) into U, S, Vt."""
def rsvd_csr_product(data: numpy.ndarray, indices: numpy.ndarray, indptr: numpy.ndarray, m: int, n: int, x: numpy.ndarray, out: numpy.ndarray, adjoint: bool) -> None:
    """out = A x (A^T x when adjoint) for a CSR A (m x n), with the randomized SVD's sparse kernels."""
def rsvd_dense(a: numpy.ndarray, mean: numpy.ndarray | None, u: numpy.ndarray, s: numpy.ndarray, vt: numpy.ndarray, k: int, l: int, n_iter: int, normalizer: str, transpose: bool, flip_sign: bool, sketch: str, seed: int, density: float) -> None:
    """Randomized SVD of a dense C- or F-contiguous A into U, S, Vt."""
def set_num_threads(n: int) -> None: ...
def set_simd_level(level: str) -> None: ...
def simd_level() -> str:
    """The SIMD level the kernels run at now."""

compiler: str
max_threads: int
