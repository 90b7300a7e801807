"""Fixtures and helpers of the GPU tests.

They skip, each with its reason, at three levels: logsketch._cuda not built (or
not loadable), no usable CUDA device, and neither PyTorch nor CuPy with CUDA
installed (each framework is a parameter of the ``xp`` fixture and skips on
its own).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from logsketch import reference


def _module_skip_reason():
    try:
        from logsketch import _cuda  # noqa: F401
    except ImportError as exc:
        return f"logsketch._cuda is not built or not loadable: {exc}"
    return None


def _device_skip_reason():
    from logsketch import _cuda

    st = _cuda.status()
    if not st["device_found"]:
        return f"no usable CUDA device: {st['detail']}"
    if int(st["compute_capability"].split(".")[0]) < 8:
        return f"the kernels need compute capability 8.0+; {st['device_name']} is {st['compute_capability']}"
    return None


_MODULE_SKIP = _module_skip_reason()


@pytest.fixture(autouse=True)
def _needs_cuda_module():
    if _MODULE_SKIP:
        pytest.skip(_MODULE_SKIP)


# ---- frameworks -------------------------------------------------------------


class Torch:
    name = "torch"
    has_bfloat16 = True

    def __init__(self):
        import torch

        self.mod = torch
        self.device = torch.device("cuda", torch.cuda.current_device())

    def dtype(self, name):
        return getattr(self.mod, name)

    def asarray(self, x):
        """numpy -> device; a uint16 array becomes bfloat16 with those bits."""
        x = np.ascontiguousarray(x)
        if x.dtype == np.uint16:
            return self.mod.from_numpy(x.view(np.int16)).view(self.mod.bfloat16).to(self.device)
        return self.mod.from_numpy(x).to(self.device)

    def numpy(self, t):
        """device -> numpy; bfloat16 comes back as its uint16 bits."""
        self.mod.cuda.synchronize(self.device)
        if t.dtype == self.mod.bfloat16:
            return t.cpu().view(self.mod.int16).numpy().view(np.uint16)
        return t.cpu().numpy()

    def empty(self, shape, dtype):
        return self.mod.empty(shape, dtype=self.dtype(dtype), device=self.device)

    def dtype_name(self, t):
        return str(t.dtype).rsplit(".", 1)[-1]

    def transpose(self, t):
        return t.transpose(-1, -2)


class CuPy:
    name = "cupy"
    has_bfloat16 = False

    def __init__(self):
        import cupy

        self.mod = cupy

    def dtype(self, name):
        return np.dtype(name)

    def asarray(self, x):
        return self.mod.asarray(np.ascontiguousarray(x))

    def numpy(self, t):
        return self.mod.asnumpy(t)

    def empty(self, shape, dtype):
        return self.mod.empty(shape, dtype=dtype)

    def dtype_name(self, t):
        return t.dtype.name

    def transpose(self, t):
        return self.mod.swapaxes(t, -1, -2)


def _make(name):
    if name == "torch":
        torch = pytest.importorskip("torch", reason="PyTorch is not installed")
        if not torch.cuda.is_available():
            pytest.skip("PyTorch has no CUDA device (CPU-only build or no driver)")
        return Torch()
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            pytest.skip("CuPy sees no CUDA device")
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        pytest.skip(f"CuPy cannot reach a CUDA device: {exc}")
    return CuPy()


@pytest.fixture(params=["torch", "cupy"])
def xp(request):
    """A CUDA array framework (torch or CuPy) on a usable device."""
    fw = _make(request.param)
    reason = _device_skip_reason()
    if reason:
        pytest.skip(reason)
    return fw


@pytest.fixture
def torch_fw():
    fw = _make("torch")
    reason = _device_skip_reason()
    if reason:
        pytest.skip(reason)
    return fw


# ---- bit-level helpers ------------------------------------------------------

UINT = {2: np.uint16, 4: np.uint32}


def bits(x):
    x = np.asarray(x)
    return x if x.dtype == np.uint16 else x.view(UINT[x.itemsize])


def assert_bits_equal(got, want):
    """Identical bit patterns, NaN payloads included (the elementwise contract)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(bits(got), bits(want))


def _isnan(x):
    if x.dtype == np.uint16:  # bfloat16 bits
        return (x & 0x7FFF) > 0x7F80
    return np.isnan(x)


def assert_same_sums(got, want):
    """Identical bits except NaN payloads (the matmul contract: a GPU float add
    returns the canonical NaN, numpy's keeps an operand's)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    gn, wn = _isnan(got), _isnan(want)
    np.testing.assert_array_equal(gn, wn, err_msg="NaN positions differ")
    np.testing.assert_array_equal(bits(got)[~gn], bits(want)[~wn])


# ---- bfloat16 reference -----------------------------------------------------
# reference.py is written over a Format table; bfloat16 is one more Format,
# applied to uint16 arrays holding bfloat16 bit patterns.

BFLOAT16 = reference.Format(np.dtype(np.uint16), np.dtype(np.uint16), 7, 127, 0x7FC0, 7, 7)


@contextlib.contextmanager
def _bfloat16_format():
    key = np.dtype(np.uint16)
    reference.FORMATS[key] = BFLOAT16
    try:
        yield
    finally:
        del reference.FORMATS[key]


def bf16_binary(op, a_bits, b_bits, compensated=False):
    """Reference Mitchell multiply/divide of bfloat16 values given as uint16 bits."""
    fn = reference.mitchell_multiply if op == "multiply" else reference.mitchell_divide
    with _bfloat16_format():
        return fn(np.asarray(a_bits, np.uint16), np.asarray(b_bits, np.uint16), compensated=compensated)


def bf16_to_f32(b):
    return (np.asarray(b, np.uint16).astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(x):
    """float32 -> bfloat16 bits, round to nearest even (torch's .to(torch.bfloat16))."""
    x = np.asarray(x, np.float32)
    u = x.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(x), np.uint16(0x7FC0), r)


def bf16_matmul(a_bits, b_bits, compensated=False):
    """Reference Mitchell matmul of 2-D bfloat16 bit arrays, as reference.mitchell_matmul."""
    a_bits, b_bits = np.asarray(a_bits, np.uint16), np.asarray(b_bits, np.uint16)
    acc = np.zeros((a_bits.shape[0], b_bits.shape[1]), np.float32)
    for k in range(a_bits.shape[1]):
        prod = bf16_binary("multiply", a_bits[:, k : k + 1], b_bits[k : k + 1, :], compensated)
        acc += bf16_to_f32(prod)
    return f32_to_bf16(acc)
