"""logsketch.torch operators: parity with the numpy API, torch.library.opcheck,
errors, zero-copy layouts, vmap, and the import guard."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import logsketch

torch = pytest.importorskip("torch")
import logsketch.torch as lt  # noqa: E402
from torch.library import opcheck  # noqa: E402

DTYPES = [torch.float32, torch.float64]


def randn(*shape, dtype=torch.float32, seed=0, requires_grad=False):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype).requires_grad_(requires_grad)


# --------------------------------------------------------------------------- parity with the numpy API

ATTENTION_CASES = [  # (q shape, k shape, d_v, options)
    ((1, 1, 1, 8), (1, 1, 1, 8), 8, dict()),
    ((2, 4, 7, 16), (2, 2, 9, 16), 8, dict(causal=True)),
    ((1, 3, 13, 5), (1, 1, 6, 5), 7, dict(causal=True, scale="standard")),
    ((2, 2, 5, 8), (2, 2, 11, 8), 8, dict(scale=0.25, kv_lengths=[3, 11])),
    ((1, 2, 17, 32), (1, 2, 17, 32), 32, dict(causal=True, base=64, min_scale=1.0)),
]


@pytest.mark.parametrize("dtype", DTYPES + [torch.float16])
@pytest.mark.parametrize("qs, ks, dv, options", ATTENTION_CASES)
def test_attention_matches_numpy_api(dtype, qs, ks, dv, options):
    q, k, v = randn(*qs, dtype=dtype, seed=1), randn(*ks, dtype=dtype, seed=2), randn(*ks[:3], dv, dtype=dtype, seed=3)
    kv = options.pop("kv_lengths", None)
    out, lse = lt.attention(q, k, v, kv_lengths=None if kv is None else torch.tensor(kv), return_lse=True, **options)
    ref_out, ref_lse = logsketch.attention(q.numpy(), k.numpy(), v.numpy(), kv_lengths=kv, return_lse=True, **options)
    assert out.dtype == dtype and out.device == q.device
    np.testing.assert_array_equal(out.numpy(), ref_out)
    np.testing.assert_array_equal(lse.numpy(), ref_lse)
    assert not lse.requires_grad


def test_attention_varlen_matches_numpy_api():
    q, k, v = randn(10, 4, 16, seed=1), randn(12, 2, 16, seed=2), randn(12, 2, 8, seed=3)
    cu_q, cu_k = torch.tensor([0, 3, 3, 10], dtype=torch.int32), torch.tensor([0, 5, 7, 12], dtype=torch.int32)
    out, lse = lt.attention_varlen(q, k, v, cu_q, cu_k, 7, 5, causal=True, return_lse=True)
    ref_out, ref_lse = logsketch.attention_varlen(q.numpy(), k.numpy(), v.numpy(), cu_q.numpy(), cu_k.numpy(),
                                                  causal=True, return_lse=True)
    np.testing.assert_array_equal(out.numpy(), ref_out)
    np.testing.assert_array_equal(lse.numpy(), ref_lse)


@pytest.mark.parametrize("dtype", DTYPES + [torch.float16])
@pytest.mark.parametrize("a_shape, b_shape", [((3, 5), (5, 4)), ((1, 1), (1, 1)), ((2, 7, 9), (9, 3)),
                                              ((2, 1, 4, 6), (3, 6, 5)), ((5,), (5, 3)), ((4, 5), (5,))])
@pytest.mark.parametrize("compensated", [False, True])
def test_mitchell_matmul_matches_numpy_api(dtype, a_shape, b_shape, compensated):
    a, b = randn(*a_shape, dtype=dtype, seed=1), randn(*b_shape, dtype=dtype, seed=2)
    y = lt.mitchell_matmul(a, b, compensated=compensated)
    ref = logsketch.mitchell_matmul(a.numpy(), b.numpy(), compensated=compensated)
    assert y.dtype == dtype and y.shape == torch.matmul(a, b).shape
    np.testing.assert_array_equal(y.numpy(), ref)


@pytest.mark.parametrize("dtype", DTYPES + [torch.float16])
@pytest.mark.parametrize("kind", ["gaussian", "sparse", "srht"])
@pytest.mark.parametrize("shape", [(1, 7), (6, 97), (2, 3, 33)])
def test_jl_project_matches_numpy_api(dtype, kind, shape):
    x = randn(*shape, dtype=dtype)
    y = lt.jl_project(x, 5, kind=kind, density=0.5 if kind == "sparse" else "auto", seed=2**64 - 3)
    ref = logsketch.jl_project(x.reshape(-1, shape[-1]).numpy(), 5, kind=kind,
                               density=0.5 if kind == "sparse" else "auto", seed=2**64 - 3)
    assert y.dtype == dtype and y.shape == (*shape[:-1], 5)
    np.testing.assert_array_equal(y.reshape(-1, 5).numpy(), ref.astype(y.numpy().dtype))


def test_modules_match_functions():
    x = randn(2, 6, 16)
    lin = lt.MitchellLinear(16, 8)
    ref = logsketch.mitchell_matmul(x.reshape(-1, 16).numpy(), lin.weight.detach().numpy().T) \
        + lin.bias.detach().numpy()
    np.testing.assert_array_equal(lin(x).detach().reshape(-1, 8).numpy(), ref)
    jl = lt.JLProjection(16, 4, kind="srht", seed=5)
    np.testing.assert_array_equal(jl(x).numpy(), lt.jl_project(x, 4, kind="srht", seed=5).numpy())
    assert list(jl.state_dict()) == [] and list(jl.parameters()) == [] and list(jl.buffers()) == []


def test_mitchell_linear_is_a_drop_in_linear():
    torch.manual_seed(0)
    ref = torch.nn.Linear(12, 5)
    torch.manual_seed(0)
    lin = lt.MitchellLinear(12, 5)
    assert isinstance(lin, torch.nn.Linear)
    assert list(lin.state_dict()) == ["weight", "bias"]
    torch.testing.assert_close(lin.weight, ref.weight, rtol=0, atol=0)
    lin.load_state_dict(ref.state_dict())
    assert lt.MitchellLinear(12, 5, bias=False).bias is None


def test_entropy_invariant_attention_module():
    torch.manual_seed(0)
    att = lt.EntropyInvariantAttention(32, 4, num_kv_heads=2, causal=True, base=16)
    x = randn(2, 9, 32)
    y = att(x)
    assert y.shape == x.shape
    q = att.q_proj(x).view(2, 9, 4, 8).transpose(1, 2)
    k = att.k_proj(x).view(2, 9, 2, 8).transpose(1, 2)
    v = att.v_proj(x).view(2, 9, 2, 8).transpose(1, 2)
    o = lt.attention(q, k, v, causal=True, base=16)
    torch.testing.assert_close(y, att.out_proj(o.transpose(1, 2).reshape(2, 9, 32)), rtol=0, atol=0)
    assert att.k_proj.out_features == 16
    with pytest.raises(ValueError, match="num_kv_heads"):
        lt.EntropyInvariantAttention(32, 4, num_kv_heads=3)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, seq, 32\)"):
        att(randn(9, 32))


# --------------------------------------------------------------------------- zero copy


def test_transposed_view_reaches_the_kernel_without_a_copy():
    from logsketch.attention import _cpu

    x = randn(2, 9, 4, 16)  # (batch, seq, heads, d)
    q = x.transpose(1, 2)
    arr = lt._ops._array(q)
    assert arr.__array_interface__["data"][0] == q.data_ptr()
    kernel_q = _cpu._cpu_arrays(arr, arr, arr)[0]
    assert kernel_q.__array_interface__["data"][0] == q.data_ptr() and kernel_q.strides == arr.strides
    out = lt.attention(q, q, q)
    torch.testing.assert_close(out, lt.attention(q.contiguous(), q.contiguous(), q.contiguous()), rtol=0, atol=0)


def test_results_share_the_numpy_result_memory():
    y = lt._ops._tensor(np.ones(3, dtype=np.float32), torch.empty(0))
    y.add_(1)  # a tensor over numpy's buffer, no copy: writeable, float32
    assert y.dtype == torch.float32 and y.tolist() == [2, 2, 2]


# --------------------------------------------------------------------------- opcheck


def _attention_args(dtype, qs, ks, dv, causal, kv):
    q = randn(*qs, dtype=dtype, seed=1, requires_grad=True)
    k = randn(*ks, dtype=dtype, seed=2, requires_grad=True)
    v = randn(*ks[:3], dv, dtype=dtype, seed=3, requires_grad=True)
    kv = None if kv is None else torch.tensor(kv)
    return (q, k, v, kv, causal, "entropy", 0.0, 512.0, None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("qs, ks, dv, causal, kv", [((1, 1, 1, 4), (1, 1, 3, 4), 4, False, None),
                                                    ((2, 4, 7, 8), (2, 2, 9, 8), 5, True, None),
                                                    ((2, 2, 5, 8), (2, 2, 6, 8), 8, False, [2, 6])])
def test_opcheck_attention(dtype, qs, ks, dv, causal, kv):
    opcheck(torch.ops.logsketch.attention.default, _attention_args(dtype, qs, ks, dv, causal, kv))


@pytest.mark.parametrize("dtype", DTYPES)
def test_opcheck_attention_backward(dtype):
    q, k, v, kv, *options = _attention_args(dtype, (2, 4, 7, 8), (2, 2, 9, 8), 5, True, None)
    out, lse = torch.ops.logsketch.attention(q, k, v, kv, *options)
    dout = randn(*out.shape, dtype=dtype, seed=4)
    opcheck(torch.ops.logsketch.attention_backward.default,
            (dout, q.detach(), k.detach(), v.detach(), out.detach(), lse, kv, *options))


@pytest.mark.parametrize("dtype", DTYPES)
def test_opcheck_attention_varlen(dtype):
    q = randn(10, 4, 8, dtype=dtype, seed=1, requires_grad=True)
    k = randn(12, 2, 8, dtype=dtype, seed=2, requires_grad=True)
    v = randn(12, 2, 8, dtype=dtype, seed=3, requires_grad=True)
    cu_q, cu_k = torch.tensor([0, 3, 3, 10]), torch.tensor([0, 5, 7, 12])
    opcheck(torch.ops.logsketch.attention_varlen.default, (q, k, v, cu_q, cu_k, True, "entropy", 0.0, 512.0, None))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_shape, b_shape", [((3, 5), (5, 4)), ((2, 7, 9), (9, 3)), ((2, 1, 4, 6), (3, 6, 5))])
@pytest.mark.parametrize("backward", ["mitchell", "exact"])
def test_opcheck_mitchell_matmul(dtype, a_shape, b_shape, backward):
    a = randn(*a_shape, dtype=dtype, seed=1, requires_grad=True)
    b = randn(*b_shape, dtype=dtype, seed=2, requires_grad=True)
    opcheck(torch.ops.logsketch.mitchell_matmul.default, (a, b, True, backward))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, density", [("gaussian", None), ("sparse", 0.3), ("srht", None)])
@pytest.mark.parametrize("shape", [(1, 7), (6, 33)])
def test_opcheck_jl_project(dtype, kind, density, shape):
    x = randn(*shape, dtype=dtype, requires_grad=True)
    opcheck(torch.ops.logsketch.jl_project.default, (x, 4, kind, density, -3))
    g = randn(shape[0], 4, dtype=dtype, requires_grad=True)
    opcheck(torch.ops.logsketch.jl_project_backward.default, (g, shape[1], kind, density, -3))


# --------------------------------------------------------------------------- vmap


def test_vmap_mitchell_matmul():
    a, b, bb = randn(4, 3, 5, seed=1), randn(5, 2, seed=2), randn(4, 5, 2, seed=3)
    torch.testing.assert_close(torch.vmap(lambda a: lt.mitchell_matmul(a, b))(a), lt.mitchell_matmul(a, b),
                               rtol=0, atol=0)
    torch.testing.assert_close(torch.vmap(lt.mitchell_matmul)(a, bb), lt.mitchell_matmul(a, bb), rtol=0, atol=0)
    torch.testing.assert_close(torch.vmap(lambda b: lt.mitchell_matmul(a[0], b))(bb),
                               lt.mitchell_matmul(a[0], bb), rtol=0, atol=0)


def test_vmap_jl_project_and_attention():
    x = randn(4, 3, 5)
    torch.testing.assert_close(torch.vmap(lambda x: lt.jl_project(x, 3, seed=2), in_dims=1)(x),
                               lt.jl_project(x.transpose(0, 1), 3, seed=2), rtol=0, atol=0)
    q, k = randn(3, 2, 4, 5, 8, seed=1), randn(2, 2, 6, 8, seed=2)
    y = torch.vmap(lambda q: lt.attention(q, k, k, causal=True))(q)
    for i in range(3):
        torch.testing.assert_close(y[i], lt.attention(q[i], k, k, causal=True), rtol=0, atol=0)


# --------------------------------------------------------------------------- errors


def test_attention_errors_name_the_argument():
    q, k = randn(1, 2, 3, 8), randn(1, 2, 4, 8)
    with pytest.raises(TypeError, match="k must have the dtype of the first input"):
        lt.attention(q, k.double(), k)
    with pytest.raises(TypeError, match="v must be a float16, float32 or float64 tensor"):
        lt.attention(q, k, k.int())
    with pytest.raises(TypeError, match="q must be a torch.Tensor"):
        lt.attention(q.numpy(), k, k)
    with pytest.raises(TypeError, match="bfloat16"):
        lt.attention(q.bfloat16(), k.bfloat16(), k.bfloat16())
    with pytest.raises(ValueError, match="k must be on the same device"):
        lt.attention(q, k.to("meta"), k)
    with pytest.raises(ValueError, match="heads_q must be a positive multiple of heads_kv"):
        lt.attention(randn(1, 3, 3, 8), k, k)
    with pytest.raises(ValueError, match="q must have shape"):
        lt.attention(randn(2, 3), k, k)
    with pytest.raises(TypeError, match="kv_lengths must be an int32 or int64 tensor"):
        lt.attention(q, k, k, kv_lengths=torch.tensor([1.0]))
    with pytest.raises(ValueError, match="kv_lengths must lie in"):
        lt.attention(q, k, k, kv_lengths=torch.tensor([9]))
    with pytest.raises(ValueError, match="scale must be"):
        lt.attention(q, k, k, scale="nope")
    with pytest.raises(TypeError, match="base must be"):
        lt.attention(q, k, k, base="2")
    with pytest.raises(ValueError, match="base must be a finite float > 1"):
        lt.attention(q, k, k, base=1.0)
    with pytest.raises(TypeError, match="max_seqlen_q must be an int"):
        lt.attention_varlen(q[0], k[0], k[0], torch.tensor([0, 2]), torch.tensor([0, 2]), 1.5, 2)
    with pytest.raises(TypeError, match="cu_seqlens_k must be an int32 or int64 torch.Tensor"):
        lt.attention_varlen(q[0], k[0], k[0], torch.tensor([0, 2]), [0, 2], 2, 2)


def test_mitchell_and_jl_errors_name_the_argument():
    a = randn(3, 4)
    with pytest.raises(TypeError, match="b must have the dtype of the first input"):
        lt.mitchell_matmul(a, a.double().t())
    with pytest.raises(ValueError, match="inner dimensions"):
        lt.mitchell_matmul(a, a)
    with pytest.raises(ValueError, match="backward must be 'mitchell' or 'exact'"):
        lt.mitchell_matmul(a, a.t(), backward="ste")
    with pytest.raises(TypeError, match="compensated must be a bool"):
        lt.mitchell_matmul(a, a.t(), compensated=1)
    with pytest.raises(ValueError, match="at least one dimension"):
        lt.mitchell_matmul(a[0, 0], a)
    with pytest.raises(TypeError, match="a must be a float16"):
        lt.mitchell_matmul(a.long(), a.t().long())
    with pytest.raises(ValueError, match="backward must be"):
        lt.MitchellLinear(3, 4, backward="ste")
    with pytest.raises(TypeError, match="n_components must be an int"):
        lt.jl_project(a, 2.0)
    with pytest.raises(ValueError, match="seed must be in"):
        lt.jl_project(a, 2, seed=2**64)
    with pytest.raises(ValueError, match="kind must be one of"):
        lt.jl_project(a, 2, kind="dense")
    with pytest.raises(ValueError, match="density must be 'auto' or a float"):
        lt.jl_project(a, 2, density="half")
    with pytest.raises(TypeError, match="x must be a float16"):
        lt.jl_project(a.int(), 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_opcheck_attention_varlen_backward(dtype):
    q, k, v = (randn(*shape, dtype=dtype, seed=i) for i, shape in enumerate([(10, 4, 8), (12, 2, 8), (12, 2, 8)]))
    cu_q, cu_k = torch.tensor([0, 3, 3, 10]), torch.tensor([0, 5, 7, 12])
    options = (True, "entropy", 0.0, 512.0, None)
    out, lse = torch.ops.logsketch.attention_varlen(q, k, v, cu_q, cu_k, *options)
    dout = randn(*out.shape, dtype=dtype, seed=4)
    opcheck(torch.ops.logsketch.attention_varlen_backward.default, (dout, q, k, v, out, lse, cu_q, cu_k, *options))


def test_lse_is_not_differentiable():
    q = randn(1, 1, 3, 4, requires_grad=True)
    _, lse = lt.attention(q, q, q, return_lse=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        lse.sum().backward()


# --------------------------------------------------------------------------- the import guard


def test_import_logsketch_does_not_import_torch():
    code = "import sys, logsketch; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_without_torch_names_the_extra(tmp_path):
    (tmp_path / "torch.py").write_text("raise ImportError('No module named torch')\n")
    code = "import logsketch.torch"
    env = {"PYTHONPATH": f"{tmp_path}:{':'.join(p for p in sys.path if p)}"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "logsketch[torch]" in proc.stderr and "2.4" in proc.stderr


@pytest.mark.parametrize("a_shape, b_shape", [((1024, 8), (8, 1024)), ((2, 1, 512, 4), (3, 4, 512)),
                                              ((1024,), (1024, 1024))])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_mitchell_matmul_large_results_in_torch_memory(a_shape, b_shape, requires_grad):
    # Results of 4 MiB and more are written into a tensor torch allocated
    # (docs/torch.md): the same values as the numpy API, on both paths.
    g = torch.Generator().manual_seed(0)
    a = torch.rand(a_shape, generator=g) + 0.5
    b = torch.rand(b_shape, generator=g) + 0.5
    expected = torch.from_numpy(logsketch.mitchell_matmul(a.numpy()[None] if a.dim() == 1 else a.numpy(), b.numpy()))
    if a.dim() == 1:
        expected = expected[0]
    got = lt.mitchell_matmul(a.requires_grad_(requires_grad), b)
    torch.testing.assert_close(got.detach(), expected, rtol=0, atol=0)
    with pytest.raises(ValueError):
        lt.mitchell_matmul(torch.ones(1024, 9), torch.ones(8, 1024))
