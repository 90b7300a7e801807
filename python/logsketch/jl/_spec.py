"""The checked description of a JL random matrix, shared by every backend."""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from .._validate import check_choice, check_int, check_seed

KINDS = ("gaussian", "sparse", "srht")
MAX_DIM = 2**32  # rows and 4-column blocks index 32-bit Philox counter words
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class MatrixSpec(NamedTuple):
    """R (k x d) of :func:`logsketch.jl_components`: every argument checked, density resolved."""

    k: int
    d: int
    kind: str
    density: float
    seed: int


def padded(n_features):
    """n_features rounded up to a power of two (the SRHT's Hadamard order)."""
    return 1 << max(0, (n_features - 1).bit_length())


def resolve_density(density, n_features):
    """density="auto" -> 1/sqrt(n_features); else a float in [2**-32, 1]."""
    if isinstance(density, str):
        if density != "auto":
            raise ValueError(f"density must be 'auto' or a float in (0, 1]; got {density!r}")
        return 1 / math.sqrt(n_features)  # correctly rounded, as np.sqrt
    if isinstance(density, bool) or not isinstance(density, numbers.Real):
        raise TypeError(f"density must be 'auto' or a float; got {type(density).__name__}")
    density = float(density)
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1]; got {density!r}")
    if math.floor(density * 2.0**31 + 0.5) < 1:
        raise ValueError(f"density must be at least 2**-32 (Philox word resolution); got {density!r}")
    return density


_SPECS = {}  # the checked MatrixSpecs of recent arguments, keyed with their types


def matrix_spec(n_components, n_features, kind, density, seed):
    """The :class:`MatrixSpec` of the arguments; density is resolved for every kind."""
    key = (n_components, n_features, kind, density, seed, type(n_components), type(n_features), type(kind),
           type(density), type(seed))
    try:
        return _SPECS[key]
    except (KeyError, TypeError):  # TypeError: an unhashable argument, checked below
        pass
    spec = _matrix_spec(n_components, n_features, kind, density, seed)
    if len(_SPECS) > 64:
        _SPECS.clear()
    _SPECS[key] = spec
    return spec


def _matrix_spec(n_components, n_features, kind, density, seed):
    k = check_int(n_components, "n_components", 1, MAX_DIM - 1)
    d = check_int(n_features, "n_features", 1, MAX_DIM - 1)
    kind = check_choice(kind, "kind", KINDS)
    density = resolve_density(density, d)
    seed = check_seed(seed)
    if kind == "srht" and k > padded(d):
        raise ValueError(
            f"kind='srht' needs n_components <= {padded(d)} (n_features={d} rounded up to a power of two); got {k}"
        )
    return MatrixSpec(k, d, kind, density, seed)


def data_spec(shape, n_components, kind, density, seed):
    """The :class:`MatrixSpec` that projects data of ``shape`` (n_samples, n_features)."""
    if shape[1] < 1:
        raise ValueError(f"X must have at least one column (feature); got shape {tuple(shape)}")
    return matrix_spec(n_components, shape[1], kind, density, seed)


def components_dtype(dtype):
    """The dtype of a materialized R: float32 or float64."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64; got {dtype!r}") from None
    if dtype not in DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {dtype}")
    return dtype
