"""Fixtures of the GPU tests (helpers: gpu_test_helpers.py).

They skip, each with its reason, at three levels: logsketch._cuda not built (or
not loadable), no usable CUDA device, and neither PyTorch nor CuPy with CUDA
installed (each framework is a parameter of the ``xp`` fixture and skips on
its own).
"""

from __future__ import annotations

import numpy as np
import pytest


def _module_skip_reason():
    # Through logsketch._native, as the package loads it: the nvidia-* wheels'
    # cuBLAS/cuSOLVER first, so that torch and logsketch share one copy.
    from logsketch import _native as _gpu

    return _gpu._load()[1]


def _device_skip_reason():
    from logsketch import _native as _gpu

    st = _gpu.cuda_module().status()
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
        x = np.array(x, order="C")  # a copy: writeable and contiguous, 0-d stays 0-d
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
        return self.mod.asarray(np.array(x, order="C"))

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
