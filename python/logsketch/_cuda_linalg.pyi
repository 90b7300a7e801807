"""Type stubs of logsketch._cuda_linalg, the GPU randomized SVD on cuBLAS/cuSOLVER (cuda/bindings/).

Private to logsketch: logsketch.randomized_svd checks its arguments and calls this.  Arrays travel
as device pointers (int); `stream` is a cudaStream_t as int.
"""

def rsvd(a: int, m: int, n: int, lda: int, a_row_major: bool, dtype: str, k: int, l: int, n_iter: int, normalizer: str, transpose: bool, flip_sign: bool, sketch: str, seed: int, density: float, srht_rows: int, u: int, s: int, vt: int, stream: int, device: int) -> None: ...  # noqa: E741
