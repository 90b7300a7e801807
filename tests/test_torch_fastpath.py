"""The eager path of logsketch.torch: plain CPU tensors that need no gradient
reach the CPU kernels without the torch dispatcher, with results identical to
the registered ops'; gradients, compilation, tracing, vmap and dispatch modes
still go through the ops."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import logsketch.torch as lt  # noqa: E402
from torch.autograd.profiler import profile  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

ops = torch.ops.logsketch


def randn(*shape, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype)


def dispatched(fn):
    """fn()'s result and the logsketch ops the dispatcher saw while it ran."""
    with profile() as prof:
        result = fn()
    return result, {e.name for e in prof.function_events if e.name.startswith("logsketch::")}


def same(x, y):
    assert type(x) is type(y)
    if isinstance(x, tuple):
        assert len(x) == len(y)
        for a, b in zip(x, y):
            same(a, b)
        return
    assert x.dtype == y.dtype and x.shape == y.shape
    np.testing.assert_array_equal(x.numpy(), y.numpy())


# --------------------------------------------------------------------------- the same results as the ops


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize("options", [
    dict(),
    dict(causal=True, scale="standard"),
    dict(scale=0.3, base=64.0, min_scale=1),
    dict(causal=np.bool_(True), base=np.float32(100)),
])
@pytest.mark.parametrize("kv", [None, [3, 9]])
def test_attention_matches_the_op(dtype, options, kv):
    q, k, v = randn(2, 4, 5, 8, dtype=dtype, seed=1), randn(2, 2, 9, 8, dtype=dtype, seed=2), \
        randn(2, 9, 2, 6, dtype=dtype, seed=3).transpose(1, 2)
    kv_lengths = None if kv is None else torch.tensor(kv, dtype=torch.int32)
    causal = bool(options.get("causal", False))
    scale = options.get("scale", "entropy")
    name, value = (scale, 0.0) if isinstance(scale, str) else ("value", float(scale))
    min_scale = options.get("min_scale")
    args = (kv_lengths, causal, name, value, float(options.get("base", 512)),
            None if min_scale is None else float(min_scale))
    for return_lse in (False, True):
        result, seen = dispatched(lambda: lt.attention(q, k, v, kv_lengths=kv_lengths, return_lse=return_lse,
                                                       **options))
        assert not seen
        out, lse = ops.attention(q, k, v, *args)
        same(result, (out, lse) if return_lse else out)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize("index", [torch.int32, torch.int64])
def test_attention_varlen_matches_the_op(dtype, index):
    q, k, v = randn(10, 4, 16, dtype=dtype, seed=1), randn(12, 2, 16, dtype=dtype, seed=2), \
        randn(12, 2, 8, dtype=dtype, seed=3)
    cu_q, cu_k = torch.tensor([0, 3, 3, 10], dtype=index), torch.tensor([0, 5, 7, 12], dtype=index)
    for causal in (False, True):
        for return_lse in (False, True):
            result, seen = dispatched(lambda: lt.attention_varlen(q, k, v, cu_q, cu_k, 7, 5, causal=causal,
                                                                  scale="standard", return_lse=return_lse))
            assert not seen
            out, lse = ops.attention_varlen(q, k, v, cu_q, cu_k, causal, "standard", 0.0, 512.0, None)
            same(result, (out, lse) if return_lse else out)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize("a_shape, b_shape", [
    ((3, 5), (5, 2)), ((5,), (5, 2)), ((3, 5), (5,)), ((5,), (5,)), ((4, 3, 5), (5, 2)), ((5,), (4, 5, 2)),
    ((2, 1, 3, 5), (4, 5, 2)), ((0, 5), (5, 2)),
])
@pytest.mark.parametrize("compensated", [False, True])
def test_mitchell_matmul_matches_the_op(dtype, a_shape, b_shape, compensated):
    a, b = randn(*a_shape, dtype=dtype, seed=1), randn(*b_shape, dtype=dtype, seed=2)
    result, seen = dispatched(lambda: lt.mitchell_matmul(a, b, compensated=compensated))
    assert not seen
    a2 = a.unsqueeze(0) if a.dim() == 1 else a
    b2 = b.unsqueeze(-1) if b.dim() == 1 else b
    expected = ops.mitchell_matmul(a2, b2, compensated, "mitchell")
    if b.dim() == 1:
        expected = expected.squeeze(-1)
    if a.dim() == 1:
        expected = expected.squeeze(-1 if b.dim() == 1 else -2)
    same(result, expected)
    assert result.stride() == expected.stride()


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize("kind, density", [("gaussian", "auto"), ("sparse", 0.3), ("srht", "auto")])
@pytest.mark.parametrize("shape", [(4, 9), (9,), (2, 3, 9), (0, 9)])
def test_jl_project_matches_the_op(dtype, kind, density, shape):
    x = randn(*shape, dtype=dtype, seed=1)
    seed = 2**64 - 5
    result, seen = dispatched(lambda: lt.jl_project(x, 3, kind=kind, density=density, seed=seed))
    assert not seen
    rows = x.reshape(-1, shape[-1])
    expected = ops.jl_project(rows, 3, kind, None if density == "auto" else density, seed - 2**64)
    same(result, expected.view(*shape[:-1], 3))


def test_a_gradient_free_call_on_tensors_that_require_grad_needs_no_op():
    q = randn(1, 2, 3, 8).requires_grad_()
    with torch.no_grad():
        result, seen = dispatched(lambda: lt.attention(q, q, q, causal=True))
    assert not seen and not result.requires_grad
    same(result, ops.attention(q.detach(), q.detach(), q.detach(), None, True, "entropy", 0.0, 512.0, None)[0])


def test_modules_in_no_grad_need_no_op():
    torch.manual_seed(0)
    x = randn(2, 5, 16).requires_grad_()
    modules = [lt.EntropyInvariantAttention(16, 4, num_kv_heads=2, causal=True), lt.MitchellLinear(16, 8),
               lt.JLProjection(16, 4, kind="sparse", seed=3)]
    for module in modules:
        trained = module(x)
        assert trained.requires_grad
        with torch.no_grad():
            result, seen = dispatched(lambda: module(x))
        assert not seen and not result.requires_grad
        same(result, trained.detach())


# --------------------------------------------------------------------------- where the ops are still called


def _calls():
    q, k = randn(1, 2, 3, 8, seed=1), randn(1, 2, 4, 8, seed=2)
    a, b, x = randn(3, 5, seed=3).abs() + 0.5, randn(5, 2, seed=4).abs() + 0.5, randn(3, 6, seed=5)
    rows, cu = randn(5, 2, 8, seed=6), torch.tensor([0, 2, 5], dtype=torch.int32)
    return {  # name: (float inputs, index inputs, the call on them)
        "attention": ((q, k, k), (), lambda q, k, v: lt.attention(q, k, v, causal=True)),
        "attention_varlen": ((rows, rows, rows), (cu,),
                             lambda q, k, v, cu: lt.attention_varlen(q, k, v, cu, cu, 3, 3)),
        "mitchell_matmul": ((a, b), (), lambda a, b: lt.mitchell_matmul(a, b)),
        "jl_project": ((x,), (), lambda x: lt.jl_project(x, 4, seed=1)),
    }


NAMES = ["attention", "attention_varlen", "mitchell_matmul", "jl_project"]


@pytest.mark.parametrize("name", NAMES)
def test_requires_grad_takes_the_op(name):
    inputs, index, fn = _calls()[name]
    inputs = tuple(t.detach().requires_grad_() for t in inputs)
    result, seen = dispatched(lambda: fn(*inputs, *index))
    assert f"logsketch::{name}" in seen
    assert result.requires_grad
    result.sum().backward()
    assert all(t.grad is not None for t in inputs)
    plain, seen = dispatched(lambda: fn(*(t.detach() for t in inputs), *index))
    assert not seen
    same(result.detach(), plain)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.filterwarnings("ignore:There is a performance drop")
def test_vmap_takes_the_op(name):
    inputs, index, fn = _calls()[name]
    batched = tuple(torch.stack([t, t * 0.5]) for t in inputs)
    in_dims = (0,) * len(inputs) + (None,) * len(index)
    result, seen = dispatched(lambda: torch.vmap(fn, in_dims=in_dims)(*batched, *index))
    assert f"logsketch::{name}" in seen
    for i in range(2):
        same(result[i].contiguous(), fn(*(t[i] for t in batched), *index).contiguous())


@pytest.mark.parametrize("name", NAMES)
def test_dispatch_modes_see_the_op(name):
    inputs, index, fn = _calls()[name]

    class Record(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.append(func.name())
            return func(*args, **(kwargs or {}))

    with Record() as mode:
        result = fn(*inputs, *index)
    assert f"logsketch::{name}" in mode.ops
    same(result, fn(*inputs, *index))


@pytest.mark.parametrize("name", NAMES)
def test_fake_tensor_mode_takes_the_fake(name):
    from torch._subclasses.fake_tensor import FakeTensor, FakeTensorMode

    inputs, index, fn = _calls()[name]
    expected = fn(*inputs, *index)
    with FakeTensorMode() as mode:
        fakes = tuple(mode.from_tensor(t) for t in inputs + index)
        result = fn(*fakes)
    assert isinstance(result, FakeTensor)
    assert result.shape == expected.shape and result.dtype == expected.dtype


@pytest.mark.parametrize("name", NAMES)
def test_compile_traces_the_op(name):
    inputs, index, fn = _calls()[name]
    targets = []

    def backend(gm, example_inputs):
        targets.extend(str(node.target) for node in gm.graph.nodes if node.op == "call_function")
        return gm.forward

    torch._dynamo.reset()
    result = torch.compile(fn, backend=backend, fullgraph=True)(*inputs, *index)
    assert any(f"logsketch.{name}" in t for t in targets), targets
    same(result, fn(*inputs, *index))


@pytest.mark.parametrize("name", NAMES)
def test_func_grad_reaches_the_op(name):
    # torch.func.grad wraps its inputs and refuses the custom ops' autograd
    # (torch's own limitation); the call must reach the op, not the kernels.
    inputs, index, fn = _calls()[name]

    def loss(first, *rest):
        return fn(first, *rest, *index).sum()

    with pytest.raises(RuntimeError, match="functorch transforms"):
        torch.func.grad(loss)(*inputs)


def test_inference_mode_takes_the_eager_path():
    inputs, index, fn = _calls()["attention"]
    with torch.inference_mode():
        result, seen = dispatched(lambda: fn(*inputs, *index))
    assert not seen
    same(result, fn(*inputs, *index))


def test_options_of_other_types_give_the_same_results():
    q, k = randn(1, 2, 3, 8, seed=1), randn(1, 2, 5, 8, seed=2)
    expected = lt.attention(q, k, k, causal=True, scale=0.5, base=100.0, min_scale=1.0)
    for causal, scale, base, min_scale in [(1, 0.5, 100, 1), (np.bool_(True), np.float32(0.5), np.int64(100), 1.0),
                                           (True, 0.5, 100.0, np.float64(1))]:
        same(lt.attention(q, k, k, causal=causal, scale=scale, base=base, min_scale=min_scale), expected)
    for _ in range(2):  # refused every time
        with pytest.raises(ValueError, match="base must be a finite float > 1"):
            lt.attention(q, k, k, base=1)
        with pytest.raises(ValueError, match="scale must be 'entropy', 'standard' or a float"):
            lt.attention(q, k, k, scale="large")


def test_jit_trace_records_the_op():
    import warnings

    inputs, _, fn = _calls()["mitchell_matmul"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(fn, inputs)
    assert "logsketch::mitchell_matmul" in str(traced.graph)
    a = randn(3, 5, seed=9).abs() + 0.5
    same(traced(a, inputs[1]), fn(a, inputs[1]))


# --------------------------------------------------------------------------- errors


def test_errors_are_those_of_the_checked_path():
    q = randn(1, 2, 3, 8)
    with pytest.raises(ValueError, match="k must have q's head_dim"):
        lt.attention(q, randn(1, 2, 4, 7), randn(1, 2, 4, 7))
    with pytest.raises(TypeError, match="base must be a real number > 1"):
        lt.attention(q, q, q, base="2")
    with pytest.raises(ValueError, match="base must be a finite float > 1"):
        lt.attention(q, q, q, base=1)
    with pytest.raises(TypeError, match="compensated must be a bool"):
        lt.mitchell_matmul(q, q, compensated=1)
    with pytest.raises(ValueError, match="inner dimensions"):
        lt.mitchell_matmul(randn(3, 4), randn(5, 2))
    with pytest.raises(ValueError, match="density must be 'auto' or a float"):
        lt.jl_project(randn(3, 4), 2, density="half")
    with pytest.raises(TypeError, match="density must be 'auto' or a float"):
        lt.jl_project(randn(3, 4), 2, density=None)
    rows, cu = randn(5, 2, 8), torch.tensor([0, 2, 4], dtype=torch.int32)
    with pytest.raises(ValueError, match="must end at the number of tokens"):
        lt.attention_varlen(rows, rows, rows, cu, cu, 3, 3)
    with pytest.raises(ValueError, match="max_seqlen_q must be >= 0"):
        lt.attention_varlen(rows, rows, rows, cu, cu, -1, 3)
