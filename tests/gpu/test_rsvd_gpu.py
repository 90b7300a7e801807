"""GPU randomized SVD against the same algorithm in numpy.

``logsketch.rsvd._cuda.randomized_svd`` is called directly (the public
``logsketch.randomized_svd`` routes CUDA arrays there) and compared with
``rsvd_reference`` (gpu_test_helpers.py): the same steps and the same sketch
matrix (``logsketch.jl_components``), in float64.  The tolerance is derived
from what the reference itself loses in float32 (assert_rsvd_matches).  Test
matrices have a known, geometrically decaying spectrum (0.9**i), so every
comparison is well conditioned; SRHT shapes keep q >= 4 l (with fewer
columns its sampled Hadamard rows can be linearly dependent, and the
results then depend on rounding).  Every test runs with torch and with CuPy
where installed (the ``xp`` fixture).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from logsketch import _native as _gpu
from logsketch.rsvd import _cuda as _rsvd_gpu

from .gpu_test_helpers import assert_orthonormal, assert_rsvd_matches, known_spectrum, rsvd_reference

_LINALG_SKIP = _gpu._load_linalg()[1]


@pytest.fixture(autouse=True)
def _needs_linalg_module():
    if _LINALG_SKIP:
        pytest.skip(_LINALG_SKIP)


NORMALIZERS = ("none", "lu", "qr", "cholqr")
SKETCHES = ("gaussian", "sparse", "srht")
DTYPES = ("float32", "float64")


def _kw(k=5, l=13, n_iter=4, normalizer="qr", transpose=False, flip_sign=True, sketch="gaussian", seed=7):
    return dict(k=k, l=l, n_iter=n_iter, normalizer=normalizer, transpose=transpose, flip_sign=flip_sign,
                sketch=sketch, seed=seed)  # fmt: skip


def _run(xp, A_dev, **kw):
    U, S, Vt = _rsvd_gpu.randomized_svd(A_dev, **kw)
    return xp.numpy(U), xp.numpy(S), xp.numpy(Vt), (U, S, Vt)


def _check(xp, A, got, **kw):
    U, S, Vt, dev = got
    m, n = A.shape
    k = kw["k"]
    for x, shape in zip(dev, ((m, k), (k,), (k, n))):
        assert tuple(x.shape) == shape
        assert xp.dtype_name(x) == A.dtype.name
    assert U.flags.c_contiguous and Vt.flags.c_contiguous
    assert_rsvd_matches((U, S, Vt), A, **kw)
    eps = np.finfo(A.dtype).eps
    assert_orthonormal(U, 0, eps)
    assert_orthonormal(Vt, 1, eps)
    if kw["flip_sign"]:
        rows = np.argmax(np.abs(U), axis=0)
        assert (U[rows, np.arange(k)] >= 0).all()


@pytest.mark.parametrize("normalizer", NORMALIZERS)
@pytest.mark.parametrize("sketch", SKETCHES)
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,n", [(200, 120), (97, 161)])
def test_matches_reference(xp, normalizer, sketch, transpose, dtype, m, n):
    A, _ = known_spectrum(m, n, dtype, seed=m)
    kw = _kw(normalizer=normalizer, sketch=sketch, transpose=transpose)
    _check(xp, A, _run(xp, xp.asarray(A), **kw), **kw)


@pytest.mark.parametrize("normalizer", NORMALIZERS)
@pytest.mark.parametrize("n_iter", [0, 1, 7])
@pytest.mark.parametrize("k,l", [(1, 1), (1, 9), (6, 6), (10, 20)])
def test_iterations_and_ranks(xp, normalizer, n_iter, k, l):
    A, _ = known_spectrum(301, 80, "float32", seed=k + l)
    kw = _kw(k=k, l=l, n_iter=n_iter, normalizer=normalizer)
    _check(xp, A, _run(xp, xp.asarray(A), **kw), **kw)


@pytest.mark.parametrize("m,n", [(1025, 33), (33, 1025), (7, 5), (1, 9), (9, 1)])
@pytest.mark.parametrize("transpose", [False, True])
def test_odd_shapes(xp, m, n, transpose):
    A, _ = known_spectrum(m, n, "float64", seed=m * n)
    r = min(m, n)
    kw = _kw(k=min(3, r), l=min(5, r), transpose=transpose)
    _check(xp, A, _run(xp, xp.asarray(A), **kw), **kw)


@pytest.mark.parametrize("flip_sign", [False, True])
def test_flip_sign_false_is_the_same_up_to_signs(xp, flip_sign):
    A, _ = known_spectrum(150, 90, "float64", seed=3)
    kw = _kw(flip_sign=flip_sign)
    _check(xp, A, _run(xp, xp.asarray(A), **kw), **kw)


@pytest.mark.parametrize("layout", ["F", "transposed view", "row slice", "column step", "negative step"])
@pytest.mark.parametrize("transpose", [False, True])
def test_layouts(xp, layout, transpose):
    """Row- and column-major inputs are read in place, other strides copied: all give the same results."""
    base, _ = known_spectrum(120, 200, "float32", seed=5)
    if layout == "F":
        A_dev = xp.transpose(xp.asarray(np.ascontiguousarray(base.T)))  # (120, 200), Fortran order
        A = base
    elif layout == "transposed view":
        A_dev = xp.transpose(xp.asarray(base))  # (200, 120), Fortran order
        A = base.T
    elif layout == "row slice":
        A_dev = xp.asarray(base)[:, 30:170]  # unit column stride, row stride 200
        A = base[:, 30:170]
    elif layout == "column step":
        A_dev = xp.asarray(base)[:, ::2]
        A = base[:, ::2]
    else:
        if xp.name == "torch":
            pytest.skip("torch has no negative strides")
        A_dev = xp.asarray(base)[::-1]
        A = base[::-1]
    kw = _kw(transpose=transpose)
    _check(xp, np.ascontiguousarray(A), _run(xp, A_dev, **kw), **kw)


def test_seed_changes_the_sketch(xp):
    A, _ = known_spectrum(100, 80, "float64", seed=1)
    kw = _kw(n_iter=0, k=3, l=3)
    _, S1, _, _ = _run(xp, xp.asarray(A), **kw)
    _, S2, _, _ = _run(xp, xp.asarray(A), **{**kw, "seed": 8})
    assert not np.array_equal(S1, S2)
    assert np.allclose(S2, rsvd_reference(A, dtype=np.float64, **{**kw, "seed": 8})[1], rtol=1e-10)


def test_eckart_young(xp):
    """With enough power iterations the rank-k error is the optimum sigma_{k+1} (spectral norm)."""
    A, s = known_spectrum(400, 300, "float32", seed=9)
    kw = _kw(k=10, l=20, n_iter=4)
    U, S, Vt, _ = _run(xp, xp.asarray(A), **kw)
    err = np.linalg.norm(A.astype(np.float64) - (U * S) @ Vt, 2)
    assert err <= 1.01 * s[10] + 1e-5
    assert np.allclose(S, s[:10], rtol=1e-4)


@pytest.mark.parametrize("normalizer", NORMALIZERS)
def test_zero_matrix(xp, normalizer):
    """Y = 0: getrf's zero pivots and Cholesky QR's failed shift fall back cleanly."""
    A = np.zeros((60, 40), np.float32)
    U, S, Vt, _ = _run(xp, xp.asarray(A), **_kw(normalizer=normalizer))
    assert np.isfinite(U).all() and np.isfinite(Vt).all()
    assert (S == 0).all()
    assert_orthonormal(U, 0, np.finfo(np.float32).eps)
    assert_orthonormal(Vt, 1, np.finfo(np.float32).eps)


def test_rank_deficient_cholqr_falls_back(xp):
    """A of rank 3 with l = 13: Cholesky QR's basis is not orthonormal, Householder takes over."""
    rng = np.random.default_rng(4)
    A = (rng.standard_normal((150, 3)) @ rng.standard_normal((3, 100))).astype(np.float64)
    kw = _kw(k=3, normalizer="cholqr")
    U, S, Vt, _ = _run(xp, xp.asarray(A), **kw)
    assert_orthonormal(U, 0, np.finfo(np.float64).eps)
    assert np.allclose((U * S) @ Vt, A, atol=1e-10 * np.abs(A).max())


def test_current_stream_is_used(torch_fw):
    torch = torch_fw.mod
    A, _ = known_spectrum(300, 200, "float32", seed=2)
    kw = _kw()
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        A_dev = torch.from_numpy(A).to(torch_fw.device, non_blocking=False)
        got = _run(torch_fw, A_dev, **kw)
    _check(torch_fw, A, got, **kw)


def test_concurrent_calls_from_threads(torch_fw):
    """Handles are leased per call: four threads at once give each its own right answer."""
    torch = torch_fw.mod
    problems = [known_spectrum(180 + 10 * i, 120, "float32", seed=i)[0] for i in range(4)]
    results, errors = [None] * 4, []

    def work(i):
        try:
            with torch.cuda.stream(torch.cuda.Stream()):
                results[i] = _run(torch_fw, torch_fw.asarray(problems[i]), **_kw(seed=i))
        except Exception as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i in range(4):
        _check(torch_fw, problems[i], results[i], **_kw(seed=i))


# ---- errors -----------------------------------------------------------------


def test_dtype_errors(xp):
    with pytest.raises(TypeError, match="A must be float32 or float64"):
        _rsvd_gpu.randomized_svd(xp.asarray(np.ones((8, 6), np.float16)), **_kw(k=2, l=3))
    with pytest.raises(TypeError, match="A must be float32 or float64"):
        _rsvd_gpu.randomized_svd(xp.asarray(np.ones((8, 6), np.int32)), **_kw(k=2, l=3))
    if xp.has_bfloat16:
        A = xp.mod.ones((8, 6), dtype=xp.mod.bfloat16, device=xp.device)
        with pytest.raises(TypeError, match="A must be float32 or float64"):
            _rsvd_gpu.randomized_svd(A, **_kw(k=2, l=3))


def test_argument_errors(xp):
    A = xp.asarray(np.ones((8, 6), np.float32))
    cases = [
        (ValueError, "2-D", xp.asarray(np.ones(8, np.float32)), {}),
        (ValueError, "k must be", A, dict(k=0)),
        (ValueError, "l must be", A, dict(k=3, l=2)),
        (ValueError, "l must be", A, dict(l=7)),
        (ValueError, "n_iter", A, dict(n_iter=-1)),
        (TypeError, "n_iter", A, dict(n_iter=1.5)),
        (ValueError, "normalizer", A, dict(normalizer="auto")),
        (ValueError, "sketch", A, dict(sketch="dense")),
        (ValueError, "seed", A, dict(seed=-1)),
        (TypeError, "seed", A, dict(seed=1.0)),
        (TypeError, "transpose", A, dict(transpose="auto")),
        (TypeError, "flip_sign", A, dict(flip_sign=None)),
    ]
    for exc, match, arr, change in cases:
        with pytest.raises(exc, match=match):
            _rsvd_gpu.randomized_svd(arr, **{**_kw(k=2, l=3), **change})


def test_input_kind_errors(xp):
    with pytest.raises(TypeError, match="not a CUDA array"):
        _rsvd_gpu.randomized_svd(np.ones((8, 6), np.float32), **_kw(k=2, l=3))
    if xp.name == "torch":
        A = xp.asarray(np.eye(8, 6, dtype=np.float32)).to_sparse_csr()
        with pytest.raises(TypeError, match="sparse GPU input is not supported"):
            _rsvd_gpu.randomized_svd(A, **_kw(k=2, l=3))
        with pytest.raises(ValueError, match="not on a CUDA device"):
            _rsvd_gpu.randomized_svd(xp.mod.ones(8, 6), **_kw(k=2, l=3))
    else:
        sparse = pytest.importorskip("cupyx.scipy.sparse")
        A = sparse.csr_matrix(xp.asarray(np.eye(8, 6, dtype=np.float32)))
        with pytest.raises(TypeError, match="sparse GPU input is not supported"):
            _rsvd_gpu.randomized_svd(A, **_kw(k=2, l=3))
