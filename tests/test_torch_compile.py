"""torch.compile(fullgraph=True) and torch.export through the logsketch ops.

Compiled with the aot_eager backend, and with inductor on the CPU where a C++
compiler is on PATH (inductor generates C++; the installed-wheel test runs with
none); torch.export on the same model.
"""

from __future__ import annotations

import shutil

import pytest

torch = pytest.importorskip("torch")
import logsketch.torch as lt  # noqa: E402


class Small(torch.nn.Module):
    """Every op once: attention (GQA, causal), Mitchell linear, JL projection, varlen attention."""

    def __init__(self):
        super().__init__()
        self.att = lt.EntropyInvariantAttention(16, 4, num_kv_heads=2, causal=True, base=8)
        self.lin = lt.MitchellLinear(16, 8)
        self.jl = lt.JLProjection(8, 4, kind="srht", seed=3)

    def forward(self, x, cu_seqlens):
        h = self.att(x)
        rows = h.reshape(-1, 4, 4)  # packed (total, heads, d)
        h = h + lt.attention_varlen(rows, rows, rows, cu_seqlens, cu_seqlens, 5, 5, causal=True).reshape(h.shape)
        return self.jl(torch.relu(self.lin(h)))


def _inputs():
    g = torch.Generator().manual_seed(0)
    return torch.randn(2, 5, 16, generator=g), torch.tensor([0, 5, 10], dtype=torch.int32)


def _grads(model, out):
    out.square().sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    return grads


_NO_CXX = not any(shutil.which(c) for c in ("g++", "c++", "clang++"))


@pytest.mark.parametrize("backend", [
    "aot_eager",
    pytest.param("inductor", marks=pytest.mark.skipif(_NO_CXX, reason="inductor needs a C++ compiler on PATH")),
])
def test_compile_fullgraph_forward_and_backward(backend):
    import torch._inductor.config

    # a cached graph compiled against another version of the ops' fake kernels would be reused
    with torch._inductor.config.patch(force_disable_caches=True):
        _check_compiled(backend)


def _check_compiled(backend):
    torch.manual_seed(0)
    model = Small()
    x, cu = _inputs()
    expected = model(x, cu)
    expected_grads = _grads(model, expected)
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend=backend)
    out = compiled(x, cu)
    torch.testing.assert_close(out, expected)
    for g, e in zip(_grads(model, out), expected_grads):
        torch.testing.assert_close(g, e)


def test_compile_mitchell_matmul_exact_backward():
    torch._dynamo.reset()
    fn = torch.compile(lambda a, b: lt.mitchell_matmul(a, b, backward="exact", compensated=True).sum(),
                       fullgraph=True, backend="aot_eager")
    a = torch.randn(3, 4, requires_grad=True)
    b = torch.randn(4, 5, requires_grad=True)
    fn(a, b).backward()
    torch.testing.assert_close(a.grad, torch.ones(3, 5) @ b.detach().t())


def test_export():
    torch.manual_seed(0)
    model = Small()
    x, cu = _inputs()
    program = torch.export.export(model, (x, cu))
    targets = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    for op in ("logsketch.attention.default", "logsketch.attention_varlen.default",
               "logsketch.mitchell_matmul.default", "logsketch.jl_project.default"):
        assert op in targets
    torch.testing.assert_close(program.module()(x, cu), model(x, cu))
