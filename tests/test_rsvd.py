"""logsketch.randomized_svd: parity with the reference, accuracy against the
Eckart-Young optimum and scikit-learn, conventions, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import logsketch
from logsketch import reference

NORMALIZERS = ("none", "lu", "qr", "cholqr")
SKETCHES = ("gaussian", "sparse", "srht")


def spectrum_matrix(m, n, s, seed=0, dtype=np.float64):
    """U diag(s) V^T with Haar-random orthonormal U, V: a matrix of known singular values."""
    rng = np.random.default_rng(seed)
    r = len(s)
    u = np.linalg.qr(rng.standard_normal((m, r)))[0]
    v = np.linalg.qr(rng.standard_normal((n, r)))[0]
    return ((u * s) @ v.T).astype(dtype)


SPECTRA = {
    "fast": lambda r: np.exp(-np.arange(r) / 3.0),
    "slow": lambda r: 1.0 / np.sqrt(1.0 + np.arange(r)),
    "low_rank": lambda r: np.where(np.arange(r) < 8, 1.0 + np.arange(r)[::-1] / 8, 0.0),
}


def relative_errors(A, U, S, Vt, s_true, k):
    """(spectral, Frobenius) error of U S Vt over the Eckart-Young optimum (floored for exact low rank)."""
    residual = A.astype(np.float64) - (U.astype(np.float64) * S) @ Vt
    opt_2 = s_true[k] if k < len(s_true) else 0.0
    opt_f = np.sqrt(np.sum(s_true[k:] ** 2))
    floor = 1e-6 * s_true[0]
    return np.linalg.norm(residual, 2) / max(opt_2, floor), np.linalg.norm(residual) / max(opt_f, floor)


def assert_orthonormal(X, tol):
    g = X.T @ X if X.shape[0] >= X.shape[1] else X @ X.T
    np.testing.assert_allclose(g, np.eye(g.shape[0]), atol=tol, rtol=0)


# --------------------------------------------------------------------------- parity with the reference


@pytest.mark.parametrize("normalizer", NORMALIZERS)
@pytest.mark.parametrize("sketch", SKETCHES)
@pytest.mark.parametrize("transpose", [False, True])
def test_matches_reference_float64(normalizer, sketch, transpose):
    s_true = np.exp(-np.arange(60) / 4.0)
    A = spectrum_matrix(97, 60, s_true, seed=1)
    got = logsketch.randomized_svd(A, 7, n_oversamples=5, n_iter=2, normalizer=normalizer, transpose=transpose,
                                   sketch=sketch, seed=3)
    want = reference.randomized_svd(A, 7, n_oversamples=5, n_iter=2, normalizer=normalizer, transpose=transpose,
                                    sketch=sketch, seed=3)
    # Well-separated singular values: the factors are unique up to sign, and
    # both sides fix the signs the same way.
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-9, rtol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_stays_float32_and_matches_within_its_precision(dtype):
    s_true = np.exp(-np.arange(40) / 3.0)
    A = spectrum_matrix(200, 40, s_true, seed=2, dtype=dtype)
    U, S, Vt = logsketch.randomized_svd(A, 5, seed=0)
    assert U.dtype == S.dtype == Vt.dtype == dtype
    assert U.flags.c_contiguous and Vt.flags.c_contiguous
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(S, s_true[:5], atol=50 * eps, rtol=0)
    want = reference.randomized_svd(A, 5, n_iter=7, normalizer="cholqr", seed=0)
    np.testing.assert_allclose(U, want[0], atol=200 * eps)
    np.testing.assert_allclose(Vt, want[2], atol=200 * eps)


@pytest.mark.parametrize("layout", ["C", "F", "strided", "negative"])
def test_layouts_give_the_same_factors(layout):
    A = spectrum_matrix(80, 50, np.exp(-np.arange(50) / 4.0), seed=4)
    base = logsketch.randomized_svd(A, 6, seed=1)
    if layout == "F":
        X = np.asfortranarray(A)
    elif layout == "strided":
        X = np.zeros((160, 100))
        X[::2, ::2] = A
        X = X[::2, ::2]
    elif layout == "C":
        X = A.copy()
    else:
        X = A[::-1, ::-1].copy()[::-1, ::-1]
    got = logsketch.randomized_svd(X, 6, seed=1)
    for g, w in zip(got, base):
        np.testing.assert_allclose(g, w, atol=1e-10, rtol=0)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose", [False, True])
def test_sparse_equals_its_dense_copy(fmt, dtype, transpose, simd_level):
    rng = np.random.default_rng(5)
    A = sp.random_array((150, 97), density=0.08, format=fmt, dtype=np.float64, rng=rng).astype(dtype)
    dense = A.toarray()
    got = logsketch.randomized_svd(A, 5, transpose=transpose, seed=2)
    want = logsketch.randomized_svd(dense, 5, transpose=transpose, seed=2)
    tol = 2e-3 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(got[1], want[1], rtol=tol / 10)
    # The top components of a random sparse matrix are close together: compare subspaces, not vectors.
    np.testing.assert_allclose(np.abs(got[0].T @ want[0]).sum(), 5, rtol=tol)
    want_ref = reference.randomized_svd(A, 5, n_iter=7, normalizer="cholqr", transpose=transpose, seed=2)
    np.testing.assert_allclose(got[1], want_ref[1], rtol=tol / 10)


def test_sparse_kernels_match_across_simd_levels(simd_level):
    rng = np.random.default_rng(6)
    A = sp.random_array((300, 211), density=0.05, format="csr", rng=rng)
    U, S, Vt = logsketch.randomized_svd(A, 20, n_oversamples=13, seed=4)  # l = 33: vectors plus a tail
    want = reference.randomized_svd(A, 20, n_oversamples=13, n_iter=7, normalizer="cholqr", seed=4)
    np.testing.assert_allclose(S, want[1], rtol=1e-9)


def test_int64_indices_and_unsorted_duplicates():
    rng = np.random.default_rng(7)
    A = sp.random_array((60, 40), density=0.2, format="csr", rng=rng)
    A64 = sp.csr_array((A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64)), shape=A.shape)
    coo = A.tocoo()
    dup = sp.coo_array((np.r_[coo.data / 2, coo.data / 2], (np.r_[coo.row, coo.row], np.r_[coo.col, coo.col])),
                       shape=A.shape).tocsr()  # duplicates summed on conversion
    want = logsketch.randomized_svd(A.toarray(), 4, seed=0)[1]
    for X in (A64, dup):
        np.testing.assert_allclose(logsketch.randomized_svd(X, 4, seed=0)[1], want, rtol=1e-10)


# --------------------------------------------------------------------------- accuracy


@pytest.mark.parametrize("spectrum", sorted(SPECTRA))
@pytest.mark.parametrize("shape", [(300, 100), (100, 300), (900, 40)])
def test_accuracy_near_eckart_young_and_no_worse_than_sklearn(spectrum, shape):
    from sklearn.utils.extmath import randomized_svd as sk_rsvd

    r = min(shape)
    s_true = SPECTRA[spectrum](r)
    A = spectrum_matrix(*shape, s_true, seed=8)
    k = 10
    ours = relative_errors(A, *logsketch.randomized_svd(A, k, n_iter=2, seed=0), s_true, k)
    theirs = relative_errors(A, *sk_rsvd(A, k, n_iter=2, random_state=0), s_true, k)
    for name, o, t in zip(("spectral", "Frobenius"), ours, theirs):
        if spectrum == "low_rank":  # exact rank 8 < k: both residuals are rounding, below 1e-10 s_0
            assert o <= 1e-4, f"{name} residual {o * 1e-6:.3g} s_0"
            continue
        assert o <= 1.5, f"{name} error {o:.3g} x optimum"
        # A different random test matrix: allow the spread of one draw.
        assert o <= 1.1 * t, f"{name}: ours {o:.4g}, scikit-learn {t:.4g}"


def test_halko_martinsson_tropp_deviation_bound():
    # HMT 2011, eq. (1.9)/(10.9): with l = k + p Gaussian samples and no power
    # iterations, ||A - Q Q^T A|| <= (1 + 17 sqrt(1 + k/p)) s_{k+1}
    #   + (8 sqrt(k + p) / (p + 1)) sqrt(sum_{j > k} s_j^2)
    # except with probability <= 6 p^-p (p = 10: 6e-10).  With n_components = l
    # the returned U S Vt is exactly Q Q^T A.
    k, p = 15, 10
    s_true = 1.0 / (1.0 + np.arange(120)) ** 0.7
    A = spectrum_matrix(300, 120, s_true, seed=9)
    for seed in range(3):
        U, S, Vt = logsketch.randomized_svd(A, k + p, n_oversamples=0, n_iter=0, normalizer="qr", seed=seed)
        err = np.linalg.norm(A - (U * S) @ Vt, 2)
        bound = (1 + 17 * np.sqrt(1 + k / p)) * s_true[k] + 8 * np.sqrt(k + p) / (p + 1) * np.sqrt(
            np.sum(s_true[k:] ** 2))
        assert err <= bound
        assert err >= s_true[k + p] * (1 - 1e-9)  # Eckart-Young: no rank-(k+p) matrix does better


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalizer", ["lu", "qr", "cholqr"])  # "none" loses them by design at 4 iterations
def test_singular_values_of_separated_spectrum(dtype, normalizer):
    s_true = 2.0 ** -np.arange(30.0)
    A = spectrum_matrix(300, 30, s_true, seed=10, dtype=dtype)
    U, S, Vt = logsketch.randomized_svd(A, 8, normalizer=normalizer, seed=0)
    np.testing.assert_allclose(S, s_true[:8], atol=30 * np.finfo(dtype).eps, rtol=0)
    assert np.all(np.diff(S) <= 0) and np.all(S >= 0)


@pytest.mark.parametrize("normalizer", NORMALIZERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_factors_orthonormal_even_when_rank_deficient(normalizer, dtype):
    eps = np.finfo(dtype).eps
    for s_true in (SPECTRA["low_rank"](50), np.zeros(50) + 1.0):
        A = spectrum_matrix(120, 50, s_true, seed=11, dtype=dtype)
        U, S, Vt = logsketch.randomized_svd(A, 12, normalizer=normalizer, seed=0)
        assert_orthonormal(U, 100 * eps * 12)
        assert_orthonormal(Vt, 100 * eps * 12)


def test_zero_matrix():
    U, S, Vt = logsketch.randomized_svd(np.zeros((30, 20)), 3)
    assert np.all(S == 0)
    assert_orthonormal(U, 1e-12)
    assert_orthonormal(Vt, 1e-12)


def test_sign_convention_is_scikit_learns():
    from sklearn.utils.extmath import svd_flip

    A = spectrum_matrix(100, 70, np.exp(-np.arange(70) / 5.0), seed=12)
    for transpose in (False, True):
        U, S, Vt = logsketch.randomized_svd(A, 6, transpose=transpose, seed=0)
        U2, Vt2 = svd_flip(-U, -Vt)  # from the opposite signs, svd_flip must land on ours
        np.testing.assert_array_equal(U2, U)
        np.testing.assert_array_equal(Vt2, Vt)
        assert np.all(U[np.argmax(np.abs(U), axis=0), np.arange(6)] > 0)
    U, S, Vt = logsketch.randomized_svd(A, 6, flip_sign=False, seed=0)
    Uf, Sf, Vtf = logsketch.randomized_svd(A, 6, flip_sign=True, seed=0)
    np.testing.assert_array_equal(np.abs(U), np.abs(Uf))


# --------------------------------------------------------------------------- conventions


def test_auto_arguments_follow_scikit_learn():
    A = spectrum_matrix(300, 100, np.exp(-np.arange(100) / 5.0), seed=13)
    auto = logsketch.randomized_svd(A, 5, seed=0)  # 5 < 0.1 * 100 -> 7 iterations
    explicit = logsketch.randomized_svd(A, 5, n_iter=7, normalizer="cholqr", transpose=False, seed=0)
    for g, w in zip(auto, explicit):
        np.testing.assert_array_equal(g, w)
    auto = logsketch.randomized_svd(A.T, 20, seed=0)  # 20 >= 10 -> 4; m < n -> transpose
    explicit = logsketch.randomized_svd(A.T, 20, n_iter=4, transpose=True, seed=0)
    for g, w in zip(auto, explicit):
        np.testing.assert_array_equal(g, w)
    for spelled in ("LU", "QR", "Auto"):
        logsketch.randomized_svd(A, 3, normalizer=spelled)


def test_deterministic_for_a_seed_and_different_across_seeds():
    A = spectrum_matrix(200, 90, 1.0 / (1 + np.arange(90)), seed=14)
    a = logsketch.randomized_svd(A, 10, n_iter=1, seed=42)
    b = logsketch.randomized_svd(A, 10, n_iter=1, seed=42)
    c = logsketch.randomized_svd(A, 10, n_iter=1, seed=43)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_bits_for_any_thread_count(sparse, dtype, restore_threads):
    rng = np.random.default_rng(17)
    A = spectrum_matrix(9000, 70, 1.0 / (1 + np.arange(70)), seed=17, dtype=dtype)  # > 2 row chunks of 4096
    if sparse:
        A = sp.csr_array(np.where(rng.random(A.shape) < 0.3, A, 0))
    results = []
    for threads in (1, 2, 3, 7):
        logsketch.set_num_threads(threads)
        results.append(logsketch.randomized_svd(A, 12, n_iter=3, seed=5))
    for other in results[1:]:
        for x, y in zip(results[0], other):
            np.testing.assert_array_equal(x, y)


def test_oversampling_capped_at_min_shape():
    A = spectrum_matrix(40, 12, np.arange(12, 0, -1.0), seed=15)
    U, S, Vt = logsketch.randomized_svd(A, 12, n_oversamples=50)  # l = 12: the whole range
    np.testing.assert_allclose(S, np.arange(12, 0, -1.0), rtol=1e-12)
    np.testing.assert_allclose((U * S) @ Vt, A, atol=1e-12)


def test_integer_and_float16_inputs_are_converted():
    A = np.arange(60).reshape(10, 6) % 7
    assert logsketch.randomized_svd(A, 2)[0].dtype == np.float64
    assert logsketch.randomized_svd(A.astype(np.float16), 2)[0].dtype == np.float32
    assert logsketch.randomized_svd(A.astype(bool), 2)[0].dtype == np.float64
    assert logsketch.randomized_svd(A.tolist(), 2)[0].dtype == np.float64


def test_safe_from_many_python_threads():
    from concurrent.futures import ThreadPoolExecutor

    A = spectrum_matrix(150, 80, np.exp(-np.arange(80) / 5.0), seed=16)
    want = logsketch.randomized_svd(A, 5, seed=1)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: logsketch.randomized_svd(A, 5, seed=1), range(8)))
    for got in results:
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 40), n=st.integers(1, 40), data=st.data())
def test_exact_low_rank_recovered_for_any_shape(m, n, data):
    r = data.draw(st.integers(1, min(m, n)))
    k = data.draw(st.integers(r, min(m, n)))
    s_true = np.linspace(2.0, 1.0, r)
    A = spectrum_matrix(m, n, s_true, seed=m * 100 + n)
    sketch = data.draw(st.sampled_from(SKETCHES))
    U, S, Vt = logsketch.randomized_svd(A, k, sketch=sketch, seed=data.draw(st.integers(0, 2**64 - 1)))
    assert U.shape == (m, k) and S.shape == (k,) and Vt.shape == (k, n)
    np.testing.assert_allclose((U * S) @ Vt, A, atol=1e-10)
    np.testing.assert_allclose(S[:r], s_true, atol=1e-10)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_components=0), ValueError, "n_components"),
        (dict(n_components=31), ValueError, "n_components must be <= min"),
        (dict(n_components=2.5), TypeError, "n_components"),
        (dict(n_components=True), TypeError, "n_components"),
        (dict(n_oversamples=-1), ValueError, "n_oversamples"),
        (dict(n_iter=-1), ValueError, "n_iter"),
        (dict(n_iter="many"), ValueError, "n_iter"),
        (dict(normalizer="householder"), ValueError, "normalizer"),
        (dict(normalizer=1), TypeError, "normalizer"),
        (dict(transpose="yes"), TypeError, "transpose"),
        (dict(flip_sign=None), TypeError, "flip_sign"),
        (dict(sketch="dense"), ValueError, "sketch"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed=1.5), TypeError, "seed"),
    ],
)
def test_argument_errors(kwargs, error, match):
    args = dict(n_components=3)
    args.update(kwargs)
    A = np.ones((40, 30))
    with pytest.raises(error, match=match):
        logsketch.randomized_svd(A, args.pop("n_components"), **args)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_csr_column_blocks_keep_the_bits(dtype, index, fmt):
    # The CSR products run one column block at a time so the gathered rows
    # stay in cache; many small blocks per row must give the one-pass bits.
    from logsketch import _core

    A = sp.random_array((300, 211), density=0.1, format=fmt, dtype=dtype, rng=np.random.default_rng(5))
    A.indices, A.indptr = A.indices.astype(index), A.indptr.astype(index)
    whole = logsketch.randomized_svd(A, 5, seed=1)
    old = _core._rsvd_set_csr_gather_block_bytes(1)  # one panel row per block: ~20-30 blocks here
    try:
        blocked = logsketch.randomized_svd(A, 5, seed=1)
    finally:
        _core._rsvd_set_csr_gather_block_bytes(old)
    for a, b in zip(whole, blocked):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("adjoint", [False, True])
@pytest.mark.parametrize("l", [1, 7, 16, 33])
def test_csr_product_matches_scipy(dtype, index, adjoint, l):
    # The factorization's sparse product on its own (the dask path's block
    # tasks call it): A x or A^T x, any width, empty rows and columns included.
    from logsketch.rsvd._cpu import csr_product

    rng = np.random.default_rng(l)
    dense = sp.random_array((57, 41), density=0.15, dtype=dtype, rng=rng).toarray()
    dense[3], dense[:, 5] = 0, 0
    A = sp.csr_matrix(dense)
    A.indices, A.indptr = A.indices.astype(index), A.indptr.astype(index)
    x = rng.standard_normal((A.shape[0] if adjoint else A.shape[1], l)).astype(dtype)
    expected = (A.T @ x) if adjoint else (A @ x)
    got = csr_product(A, x, adjoint)
    assert got.dtype == dtype and got.shape == expected.shape and got.flags.c_contiguous
    np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_csr_product_takes_an_unaligned_x():
    from logsketch.rsvd._cpu import csr_product

    A = sp.csr_matrix(np.arange(12, dtype=np.float32).reshape(3, 4))
    raw = np.zeros(4 * 2 * 4 + 1, np.uint8)[1:]
    x = raw.view(np.float32).reshape(4, 2)
    assert not x.flags.aligned
    x[:] = np.arange(8, dtype=np.float32).reshape(4, 2)
    np.testing.assert_array_equal(csr_product(A, x), A @ np.arange(8, dtype=np.float32).reshape(4, 2))


def test_csr_product_errors():
    from logsketch import _core

    A = sp.csr_matrix(np.eye(4, dtype=np.float32))
    x = np.ones((4, 3), np.float32)
    out = np.empty((4, 3), np.float32)
    with pytest.raises(ValueError, match="x must be"):
        _core.rsvd_csr_product(A.data, A.indices, A.indptr, 4, 4, x[:3], out, False)
    with pytest.raises(ValueError, match="x must be"):
        _core.rsvd_csr_product(A.data, A.indices, A.indptr, 4, 4, x.astype(np.float64), out, False)
    with pytest.raises(ValueError, match="out"):
        _core.rsvd_csr_product(A.data, A.indices, A.indptr, 4, 4, x, out[:3], False)
    bad = A.indices.copy()
    bad[0] = 9
    with pytest.raises(ValueError):
        _core.rsvd_csr_product(A.data, bad, A.indptr, 4, 4, x, out, False)


def test_csr_block_size_knob_refuses_zero():
    from logsketch import _core

    with pytest.raises(ValueError, match="bytes"):
        _core._rsvd_set_csr_gather_block_bytes(0)


@pytest.mark.parametrize("sketch", SKETCHES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("where", [(0, 0), (17, 3), (49, 19)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_refused(bad, where, dtype, sketch):
    # The Gaussian and SRHT sketches find NaN and infinity in the first sketch
    # rather than by a scan of A: every entry must reach it, on a zero A too
    # (inf * 0 is NaN) and in either layout.
    for A in (np.zeros((50, 20), dtype), np.random.default_rng(1).standard_normal((50, 20)).astype(dtype)):
        A[where] = bad
        for given in (A, sp.csr_array(A), sp.csc_array(A), np.asfortranarray(A)):
            for transpose in (False, True):
                with pytest.raises(ValueError, match="NaN or infinity"):
                    logsketch.randomized_svd(given, 2, sketch=sketch, transpose=transpose)


@pytest.mark.parametrize("normalizer", NORMALIZERS)
@pytest.mark.parametrize("dtype, exponent", [(np.float32, 120), (np.float32, -120), (np.float64, 1000),
                                             (np.float64, -1000)])
def test_tiny_and_huge_entries_are_factored(dtype, exponent, normalizer):
    # A 2^e is factored like A: the Gram matrices of Cholesky QR would
    # overflow (or vanish), "none" would grow like |A|^(2 n_iter + 1).
    A = np.random.default_rng(2).standard_normal((60, 30)).astype(dtype)
    scaled = np.ldexp(A, exponent)
    S0 = logsketch.randomized_svd(A, 3, normalizer=normalizer)[1]
    U, S, Vt = logsketch.randomized_svd(scaled, 3, normalizer=normalizer)
    tol = 100 * 13 * np.finfo(dtype).eps  # the final basis is orthonormal to 100 l eps
    np.testing.assert_allclose(np.ldexp(S, -exponent), S0, rtol=tol)
    np.testing.assert_allclose(U.T @ U, np.eye(3), atol=tol)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(3), atol=tol)


@pytest.mark.parametrize("dtype, value", [(np.float32, 3e38), (np.float64, 1e308)])
def test_overflowing_products_are_an_overflow_error(dtype, value):
    A = np.full((50, 20), value, dtype)
    with pytest.raises(OverflowError, match=f"overflowed {np.dtype(dtype).name}"):
        logsketch.randomized_svd(A, 2)


@pytest.mark.parametrize(
    "A, error, match",
    [
        (np.ones(10), ValueError, "2-D"),
        (np.ones((3, 4, 5)), ValueError, "2-D"),
        (np.ones((0, 5)), ValueError, "at least one row"),
        (np.ones((5, 0)), ValueError, "at least one row"),
        (np.ones((4, 4), dtype=complex), TypeError, "real numbers"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "real numbers"),
        (sp.csr_array(np.ones((4, 4), dtype=complex)), TypeError, "real numbers"),
        ([[1.0, 2.0], [3.0]], TypeError, "could not convert"),
    ],
)
def test_input_errors(A, error, match):
    with pytest.raises(error, match=match):
        logsketch.randomized_svd(A, 1)


def test_corrupt_csr_is_refused_not_crashed():
    A = sp.csr_array(np.eye(5))
    A.indices[2] = 50  # out of range
    A.has_canonical_format = True  # what a user's hand-built array might claim
    with pytest.raises(ValueError, match="column index"):
        logsketch.randomized_svd(A, 2)
