"""Every argument check of the public functions, one copy each, with one message each.

The coercion policy
-------------------
- numpy arrays, lists and anything ``np.asarray`` accepts run on the CPU;
  CUDA arrays are told apart by :func:`logsketch._backend.backend_of`.
- Mitchell and attention take float inputs as they are and refuse integer,
  bool, complex and object inputs (a silent cast would be lossy or
  meaningless): :func:`as_float_array`.
- JL takes float32/float64 and widens float16 to float32
  (``float_dtype(..., integers=False)``); the randomized SVD and the
  estimators also convert integers and bools to float64, as scikit-learn
  does (``integers=True``).
- Python floats are weakly typed, as in numpy: ``f(x32, 2.0)`` stays float32
  (:func:`result_float_dtype`).
- Byte order and alignment: the kernels read native-byte-order, aligned
  memory only.  An input in the other byte order (``'>f4'`` on a
  little-endian machine, integer index arrays too) or unaligned (numpy's
  ``flags.aligned`` False) is copied once, here, to a native aligned array of
  the same values (:func:`kernel_array`); its dtype counts as the native one
  in every dtype check (:func:`native_dtype`).  An ``out=`` that is not so is
  computed into a native aligned temporary and copied into ``out``
  (:func:`out_buffer`, :func:`write_back`).
- Sparse index arrays (CSR/CSC ``indices`` and ``indptr``) of different
  integer widths are both converted to the wider one (:func:`common_index`).
"""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np

# --------------------------------------------------------------------------- scalars


def check_int(value, name, low, high=None):
    """An int (numpy integers too, not bool) in [low, high]; high None is unbounded."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}; got {value}")
    return value


def check_seed(seed):
    """A seed in [0, 2**64), the key of the Philox generator."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int in [0, 2**64); got {type(seed).__name__}")
    seed = int(seed)
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64); got {seed}")
    return seed


def check_bool(value, name, *, allow_auto=False):
    """A bool (numpy bools too), or the string "auto" when allowed."""
    if value is True or value is False:
        return value
    if allow_auto and isinstance(value, str) and value == "auto":
        return value
    if not isinstance(value, (bool, np.bool_)):
        expected = "a bool or 'auto'" if allow_auto else "a bool"
        raise TypeError(f"{name} must be {expected}; got {value!r}")
    return bool(value)


def check_choice(value, name, choices, *, casefold=False):
    """One of the strings in ``choices`` (compared lower-cased with casefold)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str; got {type(value).__name__}")
    key = value.lower() if casefold else value
    if key not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}; got {value!r}")
    return key


def check_real(value, name, *, what="a real number", allow_none=False):
    """A finite real number (not bool) as a float; None passes when allowed."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}; got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return value


# --------------------------------------------------------------------------- dtypes and memory


def native_dtype(dtype):
    """``dtype`` in the machine's byte order (the dtype every check compares)."""
    return dtype if dtype.isnative else dtype.newbyteorder("=")


def kernel_array(arr, dtype=None):
    """``arr`` as a kernel may read it: of ``dtype`` (default: its own in native
    byte order), native byte order and aligned.

    The array itself when it already is; otherwise one copy of the same values
    in the same memory order (a non-native or unaligned array never reaches a
    kernel: SIMD loads assume whole-element addresses and native words).
    """
    own = arr.dtype
    if dtype is None:
        dtype = native_dtype(own)
    if (own is dtype or own == dtype) and arr.flags.aligned:
        return arr
    return arr.astype(dtype, order="K")


def out_buffer(out):
    """Where a kernel writes the result meant for ``out``: ``out`` itself when it
    is native and aligned, else a native aligned temporary of its shape that
    :func:`write_back` copies into ``out`` after the call."""
    if out.dtype.isnative and out.flags.aligned:
        return out
    return np.empty(out.shape, dtype=native_dtype(out.dtype))


def write_back(buffer, out):
    """Copy ``buffer`` (from :func:`out_buffer`) into ``out`` unless it is ``out``."""
    if buffer is not out:
        np.copyto(out, buffer)
    return out


def common_index(indices, indptr):
    """Sparse index arrays as the kernels take them: one native integer width
    (the wider of the two; int32 or int64), aligned."""
    width = max(indices.dtype.itemsize, indptr.dtype.itemsize, 4)
    dtype = np.dtype(np.int64) if width > 4 else np.dtype(np.int32)
    return kernel_array(indices, dtype), kernel_array(indptr, dtype)


def float_dtype(dtype, name, *, integers):
    """The float dtype a kernel of JL, rSVD or the estimators runs in.

    float32/float64 as they are (native byte order), float16 widened to
    float32, and with ``integers`` ints and bools converted to float64;
    TypeError for anything else.
    """
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        pass  # a framework's dtype that numpy lacks: refused below
    else:
        if dtype.kind == "f" and dtype.itemsize == 2:
            return np.dtype(np.float32)
        if dtype.kind == "f" and dtype.itemsize in (4, 8):
            return native_dtype(dtype)
        if integers and dtype.kind in "iub":
            return np.dtype(np.float64)
    if integers:
        raise TypeError(f"{name} must hold real numbers (float32 or float64; others are converted); got dtype {dtype}")
    raise TypeError(f"{name} must have a float dtype (float32 or float64; float16 is widened); got {dtype}")


def check_float_dtype(dtype, name, allowed):
    dtype = native_dtype(np.dtype(dtype))
    if dtype not in allowed:
        names = ", ".join(str(d) for d in allowed)
        raise TypeError(f"{name} must have a float dtype ({names}); got {dtype}")


def as_array(x, name, what="an array of floats"):
    """``np.asarray(x)``, with a TypeError naming ``x`` for what it cannot convert."""
    try:
        return np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be {what}; could not convert {type(x).__name__}: {exc}") from None


def as_float_array(x, name, allowed):
    """``np.asarray(x)`` refusing anything but the float dtypes in ``allowed`` (either
    byte order), as a :func:`kernel_array` (native, aligned)."""
    arr = as_array(x, name)
    check_float_dtype(arr.dtype, name, allowed)
    return kernel_array(arr)


def _dtype_of(x):
    if isinstance(x, (np.ndarray, np.generic)):  # first: np.float64 subclasses float
        return x.dtype
    if isinstance(x, float):
        return None  # weak: takes the other operand's dtype
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, int):
        return np.dtype(np.int64)
    return np.asarray(x).dtype


def result_float_dtype(*xs):
    """numpy's promotion of the inputs, with Python floats weak (NEP 50)."""
    dtypes = [d for d in (_dtype_of(x) for x in xs) if d is not None]
    if not dtypes:
        return np.dtype(np.float64)
    return np.result_type(*dtypes)


def real_array(x, name, ndim=None):
    """x as an array of real numbers (ints or floats, not bool), float64 unless ``ndim`` is given."""
    arr = np.asarray(x)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        if ndim is None:
            raise TypeError(f"{name} must be a real number or an array of them; got dtype {arr.dtype}")
        raise TypeError(f"{name} must be an array of real numbers; got dtype {arr.dtype}")
    if ndim is None:
        return arr.astype(np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D; got shape {arr.shape}")
    return arr


# --------------------------------------------------------------------------- matrices


def issparse(x):
    """scipy.sparse input, without importing scipy for users who never did."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(x)


def as_sparse(X, name, *, integers, formats=("csr",)):
    """A 2-D scipy.sparse X in one of ``formats`` (else CSR), canonical, of its float dtype.

    Copied only when it is not already so; int32/int64 indices made to match
    (the core takes both of one width).
    """
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got {X.ndim}-D")
    dtype = float_dtype(X.dtype, name, integers=integers)
    if X.format not in formats:
        X = X.tocsr()  # COO, LIL, ...: one conversion, never densified
    if X.dtype != dtype or not X.data.flags.aligned:
        X = X.astype(dtype)  # a copy: native byte order, aligned
    indices, indptr = common_index(X.indices, X.indptr)
    if indices is not X.indices or indptr is not X.indptr:
        X = X.copy()
        X.indices, X.indptr = indices, indptr
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def as_dense_matrix(X, name, *, integers, what):
    """A 2-D ndarray of X's float dtype (:func:`float_dtype`), aligned, whole-element strides."""
    arr = as_array(X, name, what)
    dtype = float_dtype(arr.dtype, name, integers=integers)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {arr.shape}")
    if arr.dtype != dtype or not arr.flags.aligned or any(s % arr.itemsize for s in arr.strides):
        arr = np.array(arr, dtype=dtype, order="C")  # a copy: native byte order, aligned
    return arr
