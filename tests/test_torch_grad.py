"""Gradients of the logsketch.torch operators: gradcheck/gradgradcheck in
float64 on small odd shapes, the fused CPU attention backward against the
SDPA-on-prescaled-q backward (the CUDA path, forced on the CPU here), and the
Mitchell gradient definitions."""

from __future__ import annotations

import pytest

import logsketch

torch = pytest.importorskip("torch")
import logsketch.torch as lt  # noqa: E402
from logsketch.torch import _ops  # noqa: E402
from torch.autograd import gradcheck, gradgradcheck  # noqa: E402


def randn(*shape, dtype=torch.float64, seed=0, requires_grad=True):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype).requires_grad_(requires_grad)


@pytest.fixture(params=["fused", "sdpa"])
def attention_backward(request, monkeypatch):
    """Each CPU attention backward: the fused kernel, and the SDPA path CUDA uses."""
    monkeypatch.setattr(_ops, "CPU_ATTENTION_BACKWARD", request.param)
    return request.param


ATTENTION_CASES = [  # (q shape, k shape, d_v, options)
    ((1, 1, 1, 3), (1, 1, 1, 3), 2, dict()),
    ((2, 4, 5, 7), (2, 2, 6, 7), 3, dict(causal=True)),
    ((1, 3, 7, 5), (1, 1, 4, 5), 5, dict(causal=True, scale="standard")),  # rows that see no key
    ((2, 2, 5, 4), (2, 2, 7, 4), 6, dict(scale=0.4, kv_lengths=(3, 7))),
    ((2, 2, 5, 4), (2, 2, 7, 4), 4, dict(causal=True, kv_lengths=(0, 5), base=4, min_scale=0.5)),
]


def _attention_inputs(qs, ks, dv):
    return randn(*qs, seed=1), randn(*ks, seed=2), randn(*ks[:3], dv, seed=3)


def _attention_fn(options):
    options = dict(options)
    kv = options.pop("kv_lengths", None)
    kv = None if kv is None else torch.tensor(kv)
    return lambda q, k, v: lt.attention(q, k, v, kv_lengths=kv, **options)


@pytest.mark.parametrize("qs, ks, dv, options", ATTENTION_CASES)
def test_attention_gradcheck(attention_backward, qs, ks, dv, options):
    assert gradcheck(_attention_fn(options), _attention_inputs(qs, ks, dv))


@pytest.mark.parametrize("qs, ks, dv, options", ATTENTION_CASES[1:4])
def test_attention_gradgradcheck_sdpa_path(monkeypatch, qs, ks, dv, options):
    # the SDPA backward through SDPA's math kernel is itself differentiable; the fused one is first order
    from torch.nn.attention import SDPBackend, sdpa_kernel

    monkeypatch.setattr(_ops, "CPU_ATTENTION_BACKWARD", "sdpa")
    with sdpa_kernel(SDPBackend.MATH):
        assert gradgradcheck(_attention_fn(options), _attention_inputs(qs, ks, dv), fast_mode=True)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 2e-5), (torch.float16, 3e-3)])
@pytest.mark.parametrize("qs, ks, dv, options", ATTENTION_CASES)
def test_fused_and_sdpa_backward_agree(monkeypatch, dtype, tol, qs, ks, dv, options):
    inputs = [x.detach().to(dtype) for x in _attention_inputs(qs, ks, dv)]
    grads = {}
    for impl in ("fused", "sdpa"):
        monkeypatch.setattr(_ops, "CPU_ATTENTION_BACKWARD", impl)
        xs = [x.clone().requires_grad_() for x in inputs]
        out = _attention_fn(options)(*xs)
        out.backward(randn(*out.shape, dtype=dtype, seed=9, requires_grad=False))
        grads[impl] = [x.grad for x in xs]
    for fused, sdpa in zip(grads["fused"], grads["sdpa"]):
        assert fused.dtype == dtype
        torch.testing.assert_close(fused, sdpa, rtol=tol, atol=tol)


@pytest.mark.parametrize("impl", ["fused", "sdpa"])
def test_attention_varlen_gradcheck(monkeypatch, impl):
    monkeypatch.setattr(_ops, "CPU_ATTENTION_BACKWARD", impl)
    q, k, v = randn(9, 4, 5, seed=1), randn(11, 2, 5, seed=2), randn(11, 2, 3, seed=3)
    cu_q, cu_k = torch.tensor([0, 3, 3, 9]), torch.tensor([0, 5, 7, 11], dtype=torch.int32)
    assert gradcheck(lambda q, k, v: lt.attention_varlen(q, k, v, cu_q, cu_k, 6, 5, causal=True), (q, k, v))


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True),
                                   (True, False, True)])
def test_attention_partial_requires_grad(needs):
    q, k, v = (x.detach().requires_grad_(n) for x, n in zip(_attention_inputs((1, 2, 3, 4), (1, 1, 5, 4), 4), needs))
    lt.attention(q, k, v, causal=True).sum().backward()
    for x, n in zip((q, k, v), needs):
        assert (x.grad is not None) == n


def test_attention_grad_through_transposed_views():
    x = randn(2, 6, 4, 8)  # (batch, seq, heads, d)
    lt.attention(x.transpose(1, 2), x.transpose(1, 2), x.transpose(1, 2), causal=True).sum().backward()
    y = x.detach().clone().requires_grad_()
    c = y.transpose(1, 2).contiguous()
    lt.attention(c, c, c, causal=True).sum().backward()
    torch.testing.assert_close(x.grad, y.grad)


# --------------------------------------------------------------------------- Mitchell matmul


SHAPES = [((3, 5), (5, 4)), ((1, 1), (1, 1)), ((2, 3, 7), (7, 2)), ((2, 1, 3, 5), (3, 5, 4)), ((5,), (5, 3)),
          ((4, 5), (5,))]


@pytest.mark.parametrize("a_shape, b_shape", SHAPES)
def test_mitchell_exact_backward_is_the_matmul_gradient(a_shape, b_shape):
    a, b = randn(*a_shape, seed=1), randn(*b_shape, seed=2)
    g = randn(*torch.matmul(a, b).shape, seed=3, requires_grad=False)
    ga, gb = torch.autograd.grad(lt.mitchell_matmul(a, b, backward="exact"), (a, b), g)
    ea, eb = torch.autograd.grad(torch.matmul(a, b), (a, b), g)
    torch.testing.assert_close(ga, ea)  # the same products; torch may sum broadcast batches in another order
    torch.testing.assert_close(gb, eb)


@pytest.mark.parametrize("compensated", [False, True])
@pytest.mark.parametrize("a_shape, b_shape", SHAPES[:4])
def test_mitchell_backward_is_mitchell_products(a_shape, b_shape, compensated):
    a, b = randn(*a_shape, seed=1), randn(*b_shape, seed=2)
    y = lt.mitchell_matmul(a, b, compensated=compensated)
    g = randn(*y.shape, seed=3, requires_grad=False)
    ga, gb = torch.autograd.grad(y, (a, b), g)
    mm = logsketch.mitchell_matmul
    an, bn, gn = a.detach().numpy(), b.detach().numpy(), g.numpy()
    ref_a = torch.from_numpy(mm(gn, bn.swapaxes(-1, -2), compensated=compensated)).sum_to_size(a.shape)
    ref_b = torch.from_numpy(mm(an.swapaxes(-1, -2), gn, compensated=compensated)).sum_to_size(b.shape)
    torch.testing.assert_close(ga, ref_a, rtol=0, atol=0)
    torch.testing.assert_close(gb, ref_b, rtol=0, atol=0)


@pytest.mark.parametrize("compensated", [False, True])
@pytest.mark.parametrize("transposed", ["a", "b", "both"])
def test_mitchell_backward_in_the_layout_of_transposed_operands(compensated, transposed):
    # A transposed operand (a Linear's W^T) gets its gradient as the product of
    # the transposes, transposed: its own layout, so the parameter's gradient
    # needs no copy, and the same bits as the direct product (the Mitchell
    # product is symmetric and each entry is summed in the same order).
    a, b = randn(13, 7, seed=1), randn(7, 9, seed=2)
    if transposed in ("a", "both"):
        a = randn(7, 13, seed=1).mT.detach().requires_grad_()
    if transposed in ("b", "both"):
        b = randn(9, 7, seed=2).mT.detach().requires_grad_()
    with torch.no_grad():
        a[0, 0], b[1, 1] = 0.0, -0.0  # zeros take another tier of the kernel
    y = lt.mitchell_matmul(a, b, compensated=compensated)
    g = randn(*y.shape, seed=3, requires_grad=False)
    ga, gb = torch.autograd.grad(y, (a, b), g)
    mm = logsketch.mitchell_matmul
    an, bn, gn = a.detach().numpy(), b.detach().numpy(), g.numpy()
    torch.testing.assert_close(ga, torch.from_numpy(mm(gn, bn.T, compensated=compensated)), rtol=0, atol=0)
    torch.testing.assert_close(gb, torch.from_numpy(mm(an.T, gn, compensated=compensated)), rtol=0, atol=0)
    assert ga.stride() == a.stride() and gb.stride() == b.stride()


def test_mitchell_linear_gradients():
    lin = lt.MitchellLinear(5, 3).double()
    x = randn(2, 4, 5, seed=1)
    lin(x).sum().backward()
    g = torch.ones(8, 3, dtype=torch.float64)
    w = lin.weight.detach().numpy()
    xr = x.detach().reshape(8, 5).numpy()
    ref_x = logsketch.mitchell_matmul(g.numpy(), w)  # G (x) (W^T)^T
    ref_w = logsketch.mitchell_matmul(xr.T, g.numpy()).T  # gradient of W^T, transposed
    torch.testing.assert_close(x.grad.reshape(8, 5), torch.from_numpy(ref_x), rtol=0, atol=0)
    torch.testing.assert_close(lin.weight.grad, torch.from_numpy(ref_w), rtol=0, atol=0)
    torch.testing.assert_close(lin.bias.grad, torch.full((3,), 8.0, dtype=torch.float64))
    assert lin.weight.grad.is_contiguous()  # computed in W's layout: no copy when it is accumulated


# --------------------------------------------------------------------------- JL projection


@pytest.mark.parametrize("kind, density", [("gaussian", "auto"), ("sparse", 0.3), ("srht", "auto")])
@pytest.mark.parametrize("shape", [(1, 7), (5, 13), (2, 3, 6)])
def test_jl_gradcheck_and_gradgradcheck(kind, density, shape):
    x = randn(*shape)

    def fn(x):
        return lt.jl_project(x, 4, kind=kind, density=density, seed=2**63 + 5)

    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_jl_gradient_is_grad_times_r():
    x = randn(6, 10, dtype=torch.float32)
    y = lt.jl_project(x, 4, kind="gaussian", seed=3)
    g = randn(6, 4, dtype=torch.float32, seed=4, requires_grad=False)
    (gx,) = torch.autograd.grad(y, x, g)
    r = torch.from_numpy(logsketch.jl_components(4, 10, seed=3))
    torch.testing.assert_close(gx, g @ r)


def _forward_mode_calls():
    q = torch.randn(1, 2, 5, 8, dtype=torch.float64)
    cu = torch.tensor([0, 2, 5], dtype=torch.int32)
    a, b = torch.rand(3, 4, dtype=torch.float64) + 0.5, torch.rand(4, 2, dtype=torch.float64) + 0.5
    x = torch.randn(3, 16, dtype=torch.float64)
    return {
        "attention": (lambda t: lt.attention(t, q, q), q),
        "attention_varlen": (lambda t: lt.attention_varlen(t, t, t, cu, cu, 3, 3), q[0].transpose(0, 1)),
        "mitchell_matmul": (lambda t: lt.mitchell_matmul(t, b), a),
        "jl_project": (lambda t: lt.jl_project(t, 4), x),
    }


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")  # torch.func.jvp's own
@pytest.mark.parametrize("name", ["attention", "attention_varlen", "mitchell_matmul", "jl_project"])
def test_forward_mode_ad_is_refused(name):
    # No forward-mode rule: a clear error, not a result whose tangent was dropped.
    fn, primal = _forward_mode_calls()[name]
    with pytest.raises(NotImplementedError, match=f"logsketch.torch.{name} has no forward-mode derivative"):
        torch.func.jvp(fn, (primal,), (torch.ones_like(primal),))
    import torch.autograd.forward_ad as fwad

    with fwad.dual_level():
        with pytest.raises(NotImplementedError, match="forward-mode"):
            fn(fwad.make_dual(primal, torch.ones_like(primal)))
        # A dual level alone, with no dual input, changes nothing.
        torch.testing.assert_close(fn(primal), fn(primal.clone()))
