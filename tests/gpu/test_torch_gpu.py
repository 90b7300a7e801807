"""logsketch.torch on a CUDA device: forward parity with the CPU ops, the SDPA
backward (the CUDA attention gradient) against the CPU's fused backward, the
Mitchell and JL gradients, and torch.compile.  Skips (tests/gpu/conftest.py)
without the CUDA module or a device, and here without torch with CUDA."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
# A mark, not a module-level skip: the device check's dry run counts these tests.
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch has no usable CUDA device")

import logsketch.torch as lt  # noqa: E402


def _pair(*shape, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    cpu = torch.randn(*shape, generator=g, dtype=dtype)
    return cpu.requires_grad_(), cpu.detach().cuda().requires_grad_()


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("qs, ks", [((2, 4, 33, 64), (2, 2, 47, 64)), ((1, 2, 128, 128), (1, 2, 128, 128))])
def test_attention_forward_and_backward_match_the_cpu(causal, qs, ks):
    (q, qc), (k, kc), (v, vc) = _pair(*qs, seed=1), _pair(*ks, seed=2), _pair(*ks, seed=3)
    out, outc = lt.attention(q, k, v, causal=causal), lt.attention(qc, kc, vc, causal=causal)
    assert outc.device.type == "cuda" and outc.dtype == torch.float32
    torch.testing.assert_close(outc.cpu(), out, rtol=2e-4, atol=2e-5)
    g = torch.randn_like(out)
    out.backward(g)
    outc.backward(g.cuda())
    for cpu, gpu in ((q, qc), (k, kc), (v, vc)):
        torch.testing.assert_close(gpu.grad.cpu(), cpu.grad, rtol=1e-3, atol=1e-4)


def test_attention_transposed_view_and_kv_lengths():
    (x, xc) = _pair(2, 40, 4, 32, seed=4)
    kv = torch.tensor([17, 40])
    out = lt.attention(x.transpose(1, 2), x.transpose(1, 2), x.transpose(1, 2), kv_lengths=kv)
    outc = lt.attention(xc.transpose(1, 2), xc.transpose(1, 2), xc.transpose(1, 2), kv_lengths=kv.cuda())
    torch.testing.assert_close(outc.cpu(), out, rtol=2e-4, atol=2e-5)
    out.sum().backward()
    outc.sum().backward()
    torch.testing.assert_close(xc.grad.cpu(), x.grad, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("backward", ["mitchell", "exact"])
def test_mitchell_matmul_matches_the_cpu(backward):
    (a, ac), (b, bc) = _pair(33, 70, seed=5), _pair(70, 9, seed=6)
    y, yc = lt.mitchell_matmul(a, b, backward=backward), lt.mitchell_matmul(ac, bc, backward=backward)
    torch.testing.assert_close(yc.cpu(), y, rtol=1e-5, atol=1e-5)
    y.sum().backward()
    yc.sum().backward()
    torch.testing.assert_close(ac.grad.cpu(), a.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(bc.grad.cpu(), b.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["gaussian", "sparse", "srht"])
def test_jl_project_matches_the_cpu(kind):
    x, xc = _pair(20, 100, seed=7)
    y, yc = lt.jl_project(x, 16, kind=kind, seed=3), lt.jl_project(xc, 16, kind=kind, seed=3)
    torch.testing.assert_close(yc.cpu(), y, rtol=1e-4, atol=1e-5)
    y.sum().backward()
    yc.sum().backward()
    torch.testing.assert_close(xc.grad.cpu(), x.grad, rtol=1e-4, atol=1e-5)


def test_compile_on_cuda():
    model = torch.nn.Sequential(lt.MitchellLinear(32, 32), torch.nn.ReLU(), lt.JLProjection(32, 8)).cuda()
    x = torch.randn(4, 32, device="cuda")
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(x), model(x))
