"""Generated bad-input cases for every public function, and the child-process runner.

A case is a call of one public function with one argument made bad (or merely
unusual): another dtype (big-endian, object, int, bool, complex, str), another
shape (0-d, empty, wrong rank, huge), other strides (negative, zero,
non-contiguous, Fortran), an unaligned or read-only buffer, NaN/inf, an
out-of-range integer.  Each case says what is documented for it:

- ``"error"``: a TypeError, ValueError, OverflowError or MemoryError, whose
  message names ``names`` (the argument the case is about) when given;
- ``"same"``: a result equal to the same call on normalized copies of the
  arrays (native byte order, C-contiguous, aligned, writeable);
- ``"result"``: any result;
- ``"any"``: one of the errors above or a result.

Whatever the outcome, no input array may change.  ``python -c "import
fuzz_cases; fuzz_cases.main()" FUNCTION START`` runs the cases of FUNCTION
from index START and prints one line per case (``START i``, then ``PASS i`` or
``FAIL i <why>``), so the parent can name the case a crash or a hang happened
in and go on after it.  Everything is generated from fixed seeds.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

import numpy as np

ALLOWED = (TypeError, ValueError, OverflowError, MemoryError)
HUGE = 2**40  # an output this long can never be allocated (the runner caps the address space)


# --------------------------------------------------------------------------- helpers


def _native(x):
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub" and not x.dtype.isnative:
        return x.astype(x.dtype.newbyteorder("="))
    return x


def _normalized(x):
    """x as a native, C-contiguous, aligned, writeable copy (arrays only)."""
    if isinstance(x, np.ndarray):
        return np.ascontiguousarray(_native(x)).copy()
    return x


def _unaligned(x):
    x = np.ascontiguousarray(x)
    buf = np.frombuffer(bytearray(x.nbytes + 1), np.uint8)[1:]
    y = buf.view(x.dtype).reshape(x.shape) if x.itemsize == 1 else np.frombuffer(
        bytearray(x.nbytes + 1), x.dtype, x.size, offset=1
    ).reshape(x.shape)
    y[...] = x
    return y


def _readonly(x):
    y = np.array(x, copy=True)
    y.flags.writeable = False
    return y


def _strided(x):
    """x's values in a view with every stride doubled (a non-contiguous array)."""
    wide = np.zeros(tuple(2 * s for s in x.shape), x.dtype)
    view = wide[tuple(slice(None, None, 2) for _ in x.shape)]
    view[...] = x
    return view


def _with(x, value):
    y = x.copy()
    y.flat[min(3, y.size - 1)] = value
    return y


def array_variants(base, *, accepts_int=False, accepts_bool=False, accepts_0d=False, accepts_empty=True,
                   nan_inf="any", other_rank="error"):
    """(label, array, expectation) for one array argument whose valid value is ``base``."""
    f = base.dtype
    v = [
        ("big-endian", base.astype(f.newbyteorder(">")), "same"),
        ("little-endian", base.astype(f.newbyteorder("<")), "same"),
        ("negative strides", base[::-1], "same"),
        ("zero strides", np.broadcast_to(base[:1], base.shape), "same"),
        ("non-contiguous", _strided(base), "same"),
        ("fortran", np.asfortranarray(base), "same"),
        ("unaligned", _unaligned(base), "same"),
        ("read-only", _readonly(base), "same"),
        ("unaligned big-endian", _unaligned(base.astype(f.newbyteorder(">"))), "same"),
        ("nan", _with(base, np.nan), nan_inf),
        ("inf", _with(base, np.inf), nan_inf),
        ("-inf", _with(base, -np.inf), nan_inf),
        ("object", base.astype(object), "error"),
        ("complex", base.astype(np.complex64), "error"),
        ("str", base.astype(str), "error"),
        ("bytes", base.astype("S8"), "error"),
        ("int64", base.astype(np.int64), "result" if accepts_int else "error"),
        ("int32 big-endian", base.astype(">i4"), "result" if accepts_int else "error"),
        ("uint8", base.astype(np.uint8), "result" if accepts_int else "error"),
        ("bool", base.astype(bool), "result" if accepts_bool else "error"),
        ("0-d", np.asarray(base.flat[0]), "any" if accepts_0d else "error"),
        ("empty", base[:0], "any" if accepts_empty else "error"),
        ("one more dim", base[np.newaxis], other_rank),
        ("one less dim", base[0], other_rank),
        ("huge zero-stride", np.broadcast_to(base[:1], (HUGE,) + base.shape[1:]), "any"),
        ("list", base.tolist(), "any"),
        ("None", None, "error"),
        ("a str", "abc", "error"),
    ]
    for other in (np.float16, np.float32, np.float64):
        if np.dtype(other) != f:
            v.append((f"as {np.dtype(other).name}", base.astype(other), "any"))
    return v


INT_BAD = [
    (-1, "error"), (2**63, "error"), (2**64, "error"), (-(2**63), "error"), (1.5, "error"), ("3", "error"),
    (None, "error"), (True, "error"), (np.float64(2.0), "error"), (2**31, "any"), (np.int64(-1), "error"),
]
SEED_BAD = [(-1, "error"), (2**64, "error"), (2**70, "error"), (1.5, "error"), ("0", "error"), (None, "error"),
            (True, "error"), (2**63, "result"), (np.uint64(2**64 - 1), "result"), (np.int8(5), "result")]
BOOL_BAD = [("no", "error"), ("False", "error"), (1.5, "any"), (None, "any"), ([True], "any"),
            (np.bool_(True), "result")]
STR_BAD = [(1, "error"), (None, "error"), (b"x", "error"), ("nonsense", "error"), ("", "error")]
REAL_BAD = [(np.nan, "error"), (np.inf, "error"), (-np.inf, "error"), ("1", "error"), (None, "error"),
            (1j, "error"), ([2.0], "any")]


class Case:
    def __init__(self, label, fn, args, kwargs, expect, names=None, compare="bits", setup=None):
        self.label, self.fn, self.args, self.kwargs = label, fn, tuple(args), dict(kwargs)
        self.expect, self.names, self.compare, self.setup = expect, names, compare, setup


# --------------------------------------------------------------------------- the cases, per function


def _mitchell_binary_cases(name):
    import logsketch

    fn = getattr(logsketch, name)
    rng = np.random.default_rng(11)
    a = rng.uniform(-4, 4, (7, 5)).astype(np.float32)
    b = rng.uniform(0.5, 4, (7, 5)).astype(np.float32)
    cases = []
    for label, x, expect in array_variants(a, accepts_0d=True, nan_inf="same", other_rank="any"):
        cases.append(Case(f"a {label}", fn, (x, b), {}, expect, names=["a"]))
        cases.append(Case(f"b {label}", fn, (b, x), {}, expect, names=["b"]))
    for label, x, expect in array_variants(a.astype(np.float64)):
        if expect == "same" and "big-endian" not in label:  # a big-endian out= is another dtype
            out = x if x.flags.writeable else None
            if out is not None:
                cases.append(Case(f"out= {label}", fn, (a.astype(np.float64), b.astype(np.float64)),
                                  {"out": out}, "same", names=["out"]))
    cases += [
        Case("out= read-only", fn, (a, b), {"out": _readonly(a)}, "error", names=["out"]),
        Case("out= wrong dtype", fn, (a, b), {"out": np.empty_like(a, np.float64)}, "error", names=["out"]),
        Case("out= big-endian", fn, (a, b), {"out": np.empty(a.shape, ">f4")}, "any", names=["out"]),
        Case("out= int", fn, (a, b), {"out": np.empty(a.shape, np.int32)}, "error", names=["out"]),
        Case("out= wrong shape", fn, (a, b), {"out": np.empty((5, 7), np.float32)}, "error", names=["out"]),
        Case("out= list", fn, (a, b), {"out": a.tolist()}, "error", names=["out"]),
        Case("out= zero strides", fn, (a, b), {"out": np.broadcast_to(np.empty(5, np.float32), a.shape)},
             "error", names=["out"]),
        Case("out= unaligned", fn, (a, b), {"out": _unaligned(np.zeros_like(a))}, "same"),
        Case("out= is a", fn, (a.copy(), b), {}, "same"),
        Case("shapes do not broadcast", fn, (a, b[:, :3]), {}, "error"),
    ]
    for value, expect in BOOL_BAD:
        cases.append(Case(f"compensated={value!r}", fn, (a, b), {"compensated": value}, expect,
                          names=["compensated"]))
    return cases


def _mitchell_matmul_cases():
    import logsketch

    fn = logsketch.mitchell_matmul
    rng = np.random.default_rng(12)
    a = rng.uniform(-2, 2, (7, 5)).astype(np.float32)
    b = rng.uniform(-2, 2, (5, 6)).astype(np.float32)
    cases = []
    for label, x, expect in array_variants(a, nan_inf="same", other_rank="any", accepts_empty=True):
        if label == "huge zero-stride":
            x = np.broadcast_to(a[:1], (HUGE, 5))
        cases.append(Case(f"a {label}", fn, (x, b), {}, expect, names=["a"]))
    for label, x, expect in array_variants(b, nan_inf="same", other_rank="any"):
        if label in ("huge zero-stride", "one less dim", "empty", "0-d"):
            continue  # a different contraction length: covered by the a cases
        cases.append(Case(f"b {label}", fn, (a, x), {}, expect, names=["b"]))
    cases += [
        Case("inner mismatch", fn, (a, b[:4]), {}, "error"),
        Case("out= read-only", fn, (a, b), {"out": _readonly(np.zeros((7, 6), np.float32))}, "error", names=["out"]),
        Case("out= wrong dtype", fn, (a, b), {"out": np.zeros((7, 6), np.float64)}, "error", names=["out"]),
        Case("out= wrong shape", fn, (a, b), {"out": np.zeros((6, 7), np.float32)}, "error", names=["out"]),
        Case("out= non-contiguous", fn, (a, b), {"out": _strided(np.zeros((7, 6), np.float32))}, "same"),
        Case("out= negative strides", fn, (a, b), {"out": np.zeros((7, 6), np.float32)[::-1, ::-1]}, "same"),
        Case("out= unaligned", fn, (a, b), {"out": _unaligned(np.zeros((7, 6), np.float32))}, "same"),
        Case("out= overlaps a", fn, (a.copy(),), {}, "any"),
    ]
    for value, expect in BOOL_BAD:
        cases.append(Case(f"compensated={value!r}", fn, (a, b), {"compensated": value}, expect,
                          names=["compensated"]))
    return cases


def _mixed_index_csr(S):
    """S with int64 indices and int32 indptr (set after construction, which would unify them)."""
    S = S.copy()
    S.indices = S.indices.astype(np.int64)
    S.indptr = S.indptr.astype(np.int32)
    return S


def _jl_project_cases():
    import logsketch
    import scipy.sparse

    fn = logsketch.jl_project
    X = np.random.default_rng(13).standard_normal((9, 40)).astype(np.float32)
    cases = []
    for label, x, expect in array_variants(X, nan_inf="same"):
        cases.append(Case(f"X {label}", fn, (x, 8), {}, expect, names=["X"], compare="close"))
    S = scipy.sparse.csr_matrix(X * (np.abs(X) > 1))
    bad = S.copy()
    bad.indices = bad.indices.copy()
    bad.indices[0] = 10**6  # an index past n_features
    cases += [
        Case("X sparse", fn, (S, 8), {"kind": "sparse"}, "result"),
        Case("X sparse int64 indices", fn, (_mixed_index_csr(S), 8), {}, "result"),
        Case("X sparse complex", fn, (S.astype(np.complex64), 8), {}, "error", names=["X"]),
        Case("X sparse index out of range", fn, (bad, 8), {}, "any"),
        Case("X no columns", fn, (np.zeros((3, 0), np.float32), 8), {}, "error", names=["X"]),
    ]
    for value, expect in INT_BAD + [(0, "error"), (2**32, "error")]:
        cases.append(Case(f"n_components={value!r}", fn, (X, value), {}, expect, names=["n_components"]))
    for value, expect in SEED_BAD:
        cases.append(Case(f"seed={value!r}", fn, (X, 8), {"seed": value}, expect, names=["seed"]))
    for value, expect in STR_BAD:
        cases.append(Case(f"kind={value!r}", fn, (X, 8), {"kind": value}, expect, names=["kind"]))
    for value, expect in REAL_BAD + [(0.0, "error"), (-0.5, "error"), (1.5, "error"), (2.0**-40, "error"),
                                     ("auto ", "error")]:
        cases.append(Case(f"density={value!r}", fn, (X, 8), {"kind": "sparse", "density": value}, expect,
                          names=["density"]))
    cases.append(Case("srht n_components too big", fn, (X, 65), {"kind": "srht"}, "error", names=["n_components"]))
    return cases


def _jl_components_cases():
    import logsketch

    fn = logsketch.jl_components
    cases = []
    for value, expect in INT_BAD + [(0, "error"), (2**32, "error")]:
        cases.append(Case(f"n_components={value!r}", fn, (value, 16), {}, expect, names=["n_components"]))
        cases.append(Case(f"n_features={value!r}", fn, (4, value), {}, expect, names=["n_features"]))
    cases.append(Case("2**31 x 2**31", fn, (2**31, 2**31), {}, "error", names=["n_components", "n_features"]))
    cases.append(Case("2**31 x 2**31 sparse", fn, (2**31, 2**31), {"kind": "sparse"}, "error",
                      names=["n_components", "n_features"]))
    for value, expect in SEED_BAD:
        cases.append(Case(f"seed={value!r}", fn, (4, 16), {"seed": value}, expect, names=["seed"]))
    for value, expect in STR_BAD:
        cases.append(Case(f"kind={value!r}", fn, (4, 16), {"kind": value}, expect, names=["kind"]))
    for value, expect in [("float16", "error"), (np.int32, "error"), (object, "error"), ("nonsense", "error"),
                          (None, "any"), (">f4", "any"), (complex, "error")]:
        cases.append(Case(f"dtype={value!r}", fn, (4, 16), {"dtype": value}, expect, names=["dtype"]))
    return cases


def _jl_min_dim_cases():
    import logsketch

    fn = logsketch.jl_min_dim
    cases = []
    for value, expect in [(0, "error"), (-1, "error"), (np.nan, "error"), (np.inf, "error"), ("10", "error"),
                          (None, "error"), (1j, "error"), (2**63, "any"), (2**70, "any"), (True, "any"),
                          (np.array([10, 100], ">i8"), "result"), (np.array([[10.0]]), "result"),
                          (np.array([], np.float64), "result"), (np.array([10, 0]), "error")]:
        cases.append(Case(f"n_samples={value!r}", fn, (value,), {}, expect, names=["n_samples"],
                          compare="none"))
    for value, expect in [(0, "error"), (1, "error"), (-0.5, "error"), (np.nan, "error"), (1e-9, "error"),
                          (1e-300, "error"), ("0.1", "error"), (None, "error"), (np.array([0.1, 0.2], ">f8"), "result")]:
        cases.append(Case(f"eps={value!r}", fn, (1e6,), {"eps": value}, expect, names=["eps"], compare="none"))
    for value, expect in STR_BAD:
        cases.append(Case(f"rule={value!r}", fn, (100,), {"rule": value}, expect, names=["rule"]))
    return cases


def _jl_distortion_cases():
    import logsketch

    fn = logsketch.jl_distortion
    X = np.random.default_rng(14).standard_normal((12, 20))
    Y = X[:, :6].copy()
    cases = []
    for label, x, expect in array_variants(X, accepts_int=True, nan_inf="any"):
        if label == "huge zero-stride":
            continue  # rows must match Y: covered below
        cases.append(Case(f"X {label}", fn, (x, Y), {"n_pairs": 20}, expect, names=["X"], compare="distortion"))
        if label not in ("empty",):
            cases.append(Case(f"Y {label}", fn, (X, _fit_rows(x, Y)), {"n_pairs": 20}, expect, names=["Y"],
                              compare="distortion"))
    for value, expect in INT_BAD + [(0, "error")]:
        if value is None or value in (2**31, 2**63, 2**64):
            expect = "result"  # documented: None or at least all pairs uses every pair
        cases.append(Case(f"n_pairs={value!r}", fn, (X, Y), {"n_pairs": value}, expect, names=["n_pairs"],
                          compare="distortion"))
    for value, expect in SEED_BAD:
        if value is None or value == 2**64 or value == 2**70:
            expect = "any"  # numpy's default_rng takes None and any non-negative int
        cases.append(Case(f"seed={value!r}", fn, (X, Y), {"seed": value, "n_pairs": 20}, expect, names=["seed"],
                          compare="distortion"))
    cases.append(Case("rows differ", fn, (X, Y[:5]), {}, "error"))
    return cases


def _fit_rows(x, Y):
    """Y-shaped version of an X variant (same dtype/layout trick), for the Y cases."""
    if isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[0] == Y.shape[0]:
        return x[:, : Y.shape[1]]
    return x


def _rsvd_cases():
    import logsketch
    import scipy.sparse

    fn = logsketch.randomized_svd
    rng = np.random.default_rng(15)
    A = (rng.standard_normal((30, 4)) @ rng.standard_normal((4, 20))).astype(np.float32)
    cases = []
    for label, x, expect in array_variants(A, accepts_int=True, accepts_bool=True, nan_inf="error",
                                           accepts_empty=False):
        if label in ("zero strides",):
            expect = "any"  # rank 1: fewer components than asked is documented nowhere
        cases.append(Case(f"A {label}", fn, (x, 3), {"seed": 1}, expect, names=["A"], compare="svd"))
    cases.append(Case("A sparse", fn, (scipy.sparse.csr_matrix(A), 3), {}, "result"))
    cases.append(Case("A sparse nan", fn, (scipy.sparse.csr_matrix(_with(A, np.nan)), 3), {}, "error"))
    mixed = scipy.sparse.csr_matrix(A)
    mixed.indices = mixed.indices.astype(np.int64)
    cases.append(Case("A sparse int64 indices", fn, (mixed, 3), {}, "result"))
    for value, expect in INT_BAD + [(0, "error"), (21, "error")]:
        cases.append(Case(f"n_components={value!r}", fn, (A, value), {}, "error" if value == 2**31 else expect,
                          names=["n_components"]))
    for param in ("n_oversamples", "n_iter"):
        for value, expect in INT_BAD:
            if value in (2**31, 2**63, 2**64) and param == "n_oversamples":
                expect = "result"  # l = min(k + p, m, n)
            if value == 2**31 and param == "n_iter":
                expect = "error"  # documented range [0, 2**31 - 1]
            cases.append(Case(f"{param}={value!r}", fn, (A, 3), {param: value}, expect, names=[param]))
    for param in ("normalizer", "sketch"):
        for value, expect in STR_BAD:
            cases.append(Case(f"{param}={value!r}", fn, (A, 3), {param: value}, expect, names=[param]))
    for param in ("transpose", "flip_sign"):
        for value, expect in BOOL_BAD:
            cases.append(Case(f"{param}={value!r}", fn, (A, 3), {param: value}, expect, names=[param]))
    for value, expect in SEED_BAD:
        cases.append(Case(f"seed={value!r}", fn, (A, 3), {"seed": value}, expect, names=["seed"]))
    return cases


def _attention_cases():
    import logsketch

    fn = logsketch.attention
    rng = np.random.default_rng(16)
    q = rng.standard_normal((2, 2, 5, 8)).astype(np.float32)
    k = rng.standard_normal((2, 2, 7, 8)).astype(np.float32)
    v = rng.standard_normal((2, 2, 7, 4)).astype(np.float32)
    cases = []
    for name, base in (("q", q), ("k", k), ("v", v)):
        for label, x, expect in array_variants(base, nan_inf="any"):
            if label.startswith("as "):
                expect = "any"
            args = {"q": q, "k": k, "v": v}
            args[name] = x
            cases.append(Case(f"{name} {label}", fn, (args["q"], args["k"], args["v"]), {}, expect, names=[name],
                              compare="close"))
    for value, expect in [(np.array([7, 3]), "result"), (np.array([7, 3], ">i8"), "same"), (np.array([-1, 3]), "error"),
                          (np.array([8, 3]), "error"), (np.array([2**31, 3]), "error"), (np.array([2**63 - 1, 0]), "error"),
                          (np.array([7.0, 3.0]), "error"), (np.array([7]), "error"), (np.array([[7, 3]]), "error"),
                          (np.array([True, True]), "error"), ("7", "error"), (np.array([7, 3], np.uint64), "any")]:
        cases.append(Case(f"kv_lengths={value!r}", fn, (q, k, v), {"kv_lengths": value}, expect,
                          names=["kv_lengths"], compare="close"))
    for value, expect in REAL_BAD + [("nonsense", "error"), (0.0, "any"), (-1.0, "any"), (1e308, "any")]:
        cases.append(Case(f"scale={value!r}", fn, (q, k, v), {"scale": value}, expect, names=["scale"]))
    for value, expect in REAL_BAD + [(1.0, "error"), (0.5, "error"), (-2.0, "error")]:
        cases.append(Case(f"base={value!r}", fn, (q, k, v), {"base": value}, expect, names=["base"]))
    for value, expect in [(np.nan, "error"), (np.inf, "error"), ("1", "error"), (1j, "error")]:
        cases.append(Case(f"min_scale={value!r}", fn, (q, k, v), {"min_scale": value}, expect, names=["min_scale"]))
    for param in ("causal", "return_lse"):
        for value, expect in BOOL_BAD:
            cases.append(Case(f"{param}={value!r}", fn, (q, k, v), {param: value}, expect, names=[param]))
    cases.append(Case("head_dim 257", fn, (np.zeros((1, 1, 2, 257), np.float32),) * 3, {}, "error"))
    cases.append(Case("heads_q not a multiple", fn, (np.zeros((1, 3, 2, 8), np.float32), k[:1], v[:1]), {}, "error"))
    return cases


def _attention_backward_cases():
    import logsketch

    fn = logsketch.attention_backward
    rng = np.random.default_rng(18)
    q = rng.standard_normal((2, 2, 5, 8)).astype(np.float32)
    k = rng.standard_normal((2, 1, 7, 8)).astype(np.float32)
    v = rng.standard_normal((2, 1, 7, 4)).astype(np.float32)
    out, lse = logsketch.attention(q, k, v, causal=True, return_lse=True)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    good = {"dout": dout, "q": q, "k": k, "v": v, "out": out, "lse": lse}
    cases = []
    for name, base in good.items():
        for label, x, expect in array_variants(base, nan_inf="any"):
            if label.startswith("as "):
                expect = "any"  # another dtype: converted (dout) or refused (out, lse must match the forward's)
            args = dict(good)
            args[name] = x
            cases.append(Case(f"{name} {label}", fn, tuple(args.values()), {"causal": True}, expect, names=[name],
                              compare="close"))
    for value, expect in [(np.array([7, 3]), "result"), (np.array([-1, 3]), "error"), (np.array([8, 3]), "error"),
                          (np.array([7.0, 3.0]), "error"), (np.array([7]), "error")]:
        cases.append(Case(f"kv_lengths={value!r}", fn, tuple(good.values()), {"kv_lengths": value}, expect,
                          names=["kv_lengths"], compare="close"))
    for param in ("causal",):
        for value, expect in BOOL_BAD:
            cases.append(Case(f"{param}={value!r}", fn, tuple(good.values()), {param: value}, expect, names=[param]))
    for value, expect in REAL_BAD + [("nonsense", "error")]:
        cases.append(Case(f"scale={value!r}", fn, tuple(good.values()), {"scale": value}, expect, names=["scale"]))
    return cases


def _attention_varlen_cases():
    import logsketch

    fn = logsketch.attention_varlen
    rng = np.random.default_rng(17)
    q = rng.standard_normal((9, 2, 8)).astype(np.float32)
    k = rng.standard_normal((11, 2, 8)).astype(np.float32)
    v = rng.standard_normal((11, 2, 4)).astype(np.float32)
    cq = np.array([0, 4, 9], np.int32)
    ck = np.array([0, 5, 11], np.int32)
    cases = []
    for name, base in (("q", q), ("k", k), ("v", v)):
        for label, x, expect in array_variants(base, nan_inf="any"):
            if label.startswith("as "):
                expect = "any"
            if label in ("negative strides", "zero strides", "empty") or label.startswith("huge"):
                expect = "any"  # row counts tie to cu_seqlens
            args = {"q": q, "k": k, "v": v}
            args[name] = x
            cases.append(Case(f"{name} {label}", fn, (args["q"], args["k"], args["v"], cq, ck), {}, expect,
                              names=[name], compare="close"))
    for name, base, idx in (("cu_seqlens_q", cq, 3), ("cu_seqlens_k", ck, 4)):
        for value, expect in [(base.astype(">i4"), "same"), (base.astype(np.int64), "same"), (base[::-1], "error"),
                              (base.astype(np.float32), "error"), (base.astype(object), "error"),
                              (base[np.newaxis], "error"), (np.array([1, 4, 9]), "error"),
                              (np.array([0, 2**31, 9], np.int64), "error"), (np.array([0, -1, 9]), "error"),
                              (np.array([0, 4, 99]), "error"), (_unaligned(base), "same"), (_readonly(base), "same"),
                              (base.astype(np.uint64), "any"), (base.tolist(), "any"), (None, "error")]:
            args = [q, k, v, cq, ck]
            args[idx] = value
            cases.append(Case(f"{name}={value!r}", fn, args, {}, expect, names=[name], compare="close"))
    return cases


def _entropy_scale_cases():
    import logsketch

    fn = logsketch.entropy_scale
    cases = []
    for value, expect in [(0, "error"), (-1, "error"), (2**70, "result"), (2**63, "result"), (2**64 - 1, "result"),
                          (1.5, "error"), ("3", "error"), (None, "error"), (True, "error"),
                          (np.array([1, 2], ">i8"), "result"), (np.array([], np.int64), "result"),
                          (np.array([1.0]), "error"), (np.uint64(2**64 - 1), "result"), (np.array([[0]]), "error"),
                          ([1, 2, 3], "result"), (np.array([1, 2], object), "any")]:
        cases.append(Case(f"n={value!r}", fn, (value, 64), {}, expect, names=["n"], compare="none"))
    for value, expect in INT_BAD + [(0, "error")]:
        cases.append(Case(f"head_dim={value!r}", fn, (16, value), {}, "result" if value in (2**31, 2**63, 2**64) else expect,
                          names=["head_dim"], compare="none"))
    for value, expect in REAL_BAD + [(1.0, "error"), (0.0, "error")]:
        cases.append(Case(f"base={value!r}", fn, (16, 64), {"base": value}, expect, names=["base"], compare="none"))
    for value, expect in [(np.nan, "error"), (np.inf, "error"), ("1", "error")]:
        cases.append(Case(f"min_scale={value!r}", fn, (16, 64), {"min_scale": value}, expect, names=["min_scale"],
                          compare="none"))
    return cases


def _config_cases():
    import logsketch

    cases = []
    for value, expect in INT_BAD + [(0, "error"), (65536, "error"), (2**31, "error"), (np.int64(2), "result")]:
        if value is np.int64(-1) or (isinstance(value, np.integer) and value < 0):
            expect = "error"
        cases.append(Case(f"set_num_threads({value!r})", logsketch.set_num_threads, (value,), {}, expect,
                          names=["n"], compare="none"))
    for value, expect in [("AVX2", "any"), ("", "error"), (None, "error"), (1, "error"), ("sse", "error"),
                          ("scalar", "result"), (b"scalar", "error"), ("neon", "error")]:
        cases.append(Case(f"set_simd_level({value!r})", logsketch.set_simd_level, (value,), {}, expect,
                          names=["level"], compare="none"))
    return cases


def _estimator_cases():
    import logsketch

    X = np.random.default_rng(18).standard_normal((20, 30)).astype(np.float32)
    cases = []

    def fit_transform(cls, params, data, later=None):
        def call():
            est = cls(**params).fit(data)
            return est.transform(later if later is not None else data)
        call.__name__ = f"{cls.__name__}.fit/transform"
        return call

    for cls, good in ((logsketch.JLProjection, {"n_components": 5}), (logsketch.RandomizedSVD, {"n_components": 3})):
        for label, x, expect in array_variants(X, nan_inf="any", accepts_empty=False):
            if label.startswith("huge"):
                continue  # scikit-learn's own finite check would sum all 2**40 rows
            if label.startswith("as ") or label in ("int64", "int32 big-endian", "uint8", "bool", "object", "str",
                                                    "bytes"):
                expect = "any"  # scikit-learn's check_array converts what it can
            if label == "zero strides" and cls is logsketch.RandomizedSVD:
                expect = "any"
            cases.append(Case(f"{cls.__name__} X {label}", fit_transform(cls, good, x), (), {}, expect,
                              compare="close"))
        cases.append(Case(f"{cls.__name__} transform wrong n_features", fit_transform(cls, good, X, X[:, :7]), (), {},
                          "error"))
        for value, expect in INT_BAD + [(0, "error")]:
            if value == 2**31 or (value is None and cls is logsketch.RandomizedSVD):
                expect = "any"  # None: PCA's default, min(n_samples, n_features)
            cases.append(Case(f"{cls.__name__} n_components={value!r}",
                              fit_transform(cls, {**good, "n_components": value}, X), (), {}, expect,
                              names=["n_components"], compare="none"))
        for value, expect in SEED_BAD:
            cases.append(Case(f"{cls.__name__} seed={value!r}", fit_transform(cls, {**good, "seed": value}, X), (), {},
                              expect, names=["seed"], compare="none"))
    for value, expect in [(0.0, "error"), (1.0, "error"), (np.nan, "error"), ("0.1", "error"), (1e-9, "any")]:
        cases.append(Case(f"JLProjection eps={value!r}",
                          fit_transform(logsketch.JLProjection, {"n_components": "auto", "eps": value}, X), (), {},
                          expect, names=["eps"], compare="none"))
    return cases


FUNCTIONS = {
    "mitchell_multiply": lambda: _mitchell_binary_cases("mitchell_multiply"),
    "mitchell_divide": lambda: _mitchell_binary_cases("mitchell_divide"),
    "mitchell_matmul": _mitchell_matmul_cases,
    "jl_project": _jl_project_cases,
    "jl_components": _jl_components_cases,
    "jl_min_dim": _jl_min_dim_cases,
    "jl_distortion": _jl_distortion_cases,
    "randomized_svd": _rsvd_cases,
    "attention": _attention_cases,
    "attention_varlen": _attention_varlen_cases,
    "attention_backward": _attention_backward_cases,
    "entropy_scale": _entropy_scale_cases,
    "set_num_threads/set_simd_level": _config_cases,
    "JLProjection/RandomizedSVD": _estimator_cases,
}


# --------------------------------------------------------------------------- checking one case


def _snapshot(value):
    """Bytes of every array inside value (numpy arrays, scipy.sparse parts), to detect a changed input."""
    if isinstance(value, np.ndarray):
        while value.nbytes > (1 << 26) and isinstance(value.base, np.ndarray):
            value = value.base  # a huge zero-stride view: its small base holds every byte
        if value.dtype == object:
            return ("object", value.shape, [repr(v) for v in value.ravel().tolist()])
        return (value.dtype.str, value.shape, value.tobytes())
    if hasattr(value, "indptr") and hasattr(value, "data"):
        return tuple(_snapshot(np.asarray(getattr(value, p))) for p in ("data", "indices", "indptr"))
    if isinstance(value, list):
        return repr(value)
    return None


def _flatten(result):
    if isinstance(result, tuple):
        return [np.asarray(r) for r in result]
    if hasattr(result, "ratios"):
        return [result.ratios, result.pairs]
    return [np.asarray(result)]


def _equal(got, expected, compare):
    got, expected = _flatten(got), _flatten(expected)
    if len(got) != len(expected):
        return f"{len(got)} outputs instead of {len(expected)}"
    for g, e in zip(got, expected):
        if g.shape != e.shape:
            return f"shape {g.shape} instead of {e.shape}"
        if g.dtype.kind != "f":
            if not np.array_equal(g, e):
                return "integer output differs"
            continue
        g64, e64 = g.astype(np.float64), e.astype(np.float64)
        if compare == "bits":
            ok = np.array_equal(g64, e64, equal_nan=True)
        else:
            rtol = 1e-2 if min(g.dtype.itemsize, e.dtype.itemsize) <= 2 else 1e-4
            ok = np.allclose(g64, e64, rtol=rtol, atol=rtol, equal_nan=True)
            if compare == "svd":  # singular vectors: compare up to sign via the reconstruction
                break
        if not ok:
            diff = np.flatnonzero(~np.isclose(g64, e64, equal_nan=True))
            return f"values differ from the normalized call at {diff.size} places (first {diff[:3].tolist()})"
    return None


def _names_ok(exc, names):
    if not names:
        return True
    text = str(exc)
    return any(n in text for n in names)


def check(case):
    """None if the case behaves as documented, else why not."""
    import logsketch

    # out= is written by design; every other argument must come back unchanged
    inputs = list(case.args) + [x for k, x in case.kwargs.items() if k != "out"]
    before = [_snapshot(x) for x in inputs]
    threads, simd = logsketch.get_num_threads(), logsketch.get_simd_level()
    try:
        result = case.fn(*case.args, **case.kwargs)
        error = None
    except ALLOWED as exc:
        error = exc
    except BaseException as exc:  # noqa: BLE001  (the point: report anything else)
        return f"raised {type(exc).__name__} (not one of TypeError/ValueError/OverflowError/MemoryError): {exc}"
    finally:
        if case.fn in (logsketch.set_num_threads, logsketch.set_simd_level):
            logsketch.set_num_threads(threads)
            logsketch.set_simd_level(simd)
    after = [_snapshot(x) for x in inputs]
    changed = [i for i, (b, a) in enumerate(zip(before, after)) if b != a]
    if changed:
        return f"changed input argument(s) at position(s) {changed}"
    if error is not None:
        if case.expect in ("result", "same"):
            return f"raised {type(error).__name__} where a result is documented: {error}"
        if isinstance(error, MemoryError) and case.expect == "any":
            return None  # a valid but too large request: numpy's message is enough
        if not _names_ok(error, case.names):
            return f"{type(error).__name__} message does not name {' or '.join(case.names)}: {error}"
        return None
    if case.expect == "error":
        return f"returned a result where an error naming {case.names} is documented"
    if case.expect == "same" and case.compare != "none":
        args = [_normalized(x) for x in case.args]
        kwargs = {k: _normalized(x) for k, x in case.kwargs.items()}
        if "out" in kwargs:
            out = case.kwargs["out"]
            kwargs.pop("out")
            expected = case.fn(*args, **kwargs)
            return _equal(out, expected, case.compare)
        expected = case.fn(*args, **kwargs)
        return _equal(result, expected, case.compare)
    return None


# --------------------------------------------------------------------------- the child runner


def _cap_address_space():
    """Huge allocations fail with MemoryError instead of exhausting the machine (not under ASan)."""
    if "asan" in os.environ.get("LD_PRELOAD", ""):
        return
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


def main():
    name, start = sys.argv[1], int(sys.argv[2])
    _cap_address_space()
    cases = FUNCTIONS[name]()
    print(f"COUNT {len(cases)}", flush=True)
    for i in range(start, len(cases)):
        case = cases[i]
        print(f"START {i} {json.dumps(case.label)}", flush=True)
        try:
            why = check(case)
        except BaseException:  # noqa: BLE001
            why = "the check itself failed: " + traceback.format_exc(limit=3)
        if why is None:
            print(f"PASS {i}", flush=True)
        else:
            print(f"FAIL {i} {json.dumps(why)}", flush=True)
    print("DONE", flush=True)


__all__ = ["FUNCTIONS", "Case", "check", "main"]
