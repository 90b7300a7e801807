"""The checked description of a randomized SVD, every "auto" resolved, shared by every backend."""

from __future__ import annotations

from typing import NamedTuple

from .._validate import check_bool, check_choice, check_int, check_seed
from ..jl._spec import KINDS, resolve_density

NORMALIZERS = ("auto", "none", "lu", "qr", "cholqr")


class Spec(NamedTuple):
    k: int
    l: int  # noqa: E741  (the sketch width, as in the literature)
    n_iter: int
    normalizer: str  # "none", "lu", "qr" or "cholqr"
    transpose: bool
    flip_sign: bool
    sketch: str
    seed: int
    density: float  # the sparse sketch's, 1/sqrt(q)


def _n_iter(n_iter, k, small):
    if isinstance(n_iter, str):
        if n_iter != "auto":
            raise ValueError(f"n_iter must be 'auto' or an int >= 0; got {n_iter!r}")
        return 7 if k < 0.1 * small else 4
    return check_int(n_iter, "n_iter", 0, 2**31 - 1)


def _normalizer(normalizer):
    name = check_choice(normalizer, "normalizer", NORMALIZERS, casefold=True)  # scikit-learn spells "LU", "QR"
    # "auto": Cholesky QR, with the power iterations' products as the only
    # BLAS-3 work left.  At 4000 x 3000, k = 50, float32, 4 iterations it was
    # the fastest normalizer and as accurate as scikit-learn's LU (bench_rsvd).
    return "cholqr" if name == "auto" else name


def resolve(shape, n_components, n_oversamples, n_iter, normalizer, transpose, flip_sign, sketch, seed):
    """The :class:`Spec` of factoring an (m, n) matrix with these arguments."""
    flip_sign = check_bool(flip_sign, "flip_sign")
    m, n = shape
    small = min(m, n)
    if small < 1:
        raise ValueError(f"A must have at least one row and one column; got shape {tuple(shape)}")
    k = check_int(n_components, "n_components", 1)
    if k > small:
        raise ValueError(f"n_components must be <= min(A.shape) = {small}; got {k}")
    oversamples = check_int(n_oversamples, "n_oversamples", 0)
    n_iter = _n_iter(n_iter, k, small)
    transpose = check_bool(transpose, "transpose", allow_auto=True)
    if transpose == "auto":
        transpose = m < n
    return Spec(k, min(k + oversamples, small), n_iter, _normalizer(normalizer), transpose, flip_sign,
                check_choice(sketch, "sketch", KINDS), check_seed(seed), resolve_density("auto", m if transpose else n))


def given(shape, k, l, n_iter, normalizer, transpose, flip_sign, sketch, seed):  # noqa: E741
    """A :class:`Spec` from values already resolved (no "auto"; ``l`` given), for the GPU path's direct entry."""
    small = min(shape)
    k = check_int(k, "k", 1, small)
    l = check_int(l, "l", k, small)  # noqa: E741
    transpose = check_bool(transpose, "transpose")
    return Spec(k, l, check_int(n_iter, "n_iter", 0, 2**31 - 1), check_choice(normalizer, "normalizer", NORMALIZERS[1:]),
                transpose, check_bool(flip_sign, "flip_sign"), check_choice(sketch, "sketch", KINDS), check_seed(seed),
                resolve_density("auto", shape[0] if transpose else shape[1]))
