"""The package's structure: every submodule imports on its own, and no import cycles."""

import ast
import pathlib
import subprocess
import sys

import pytest

import logsketch

PACKAGE = pathlib.Path(logsketch.__file__).parent


def _modules():
    """{module name: path} of every Python module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(module, is_package, level, name):
    base = module.split(".")
    if not is_package:
        base.pop()
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _top_level_imports(module, path):
    """The package modules `module` imports when it is imported (imports inside functions run later)."""
    modules = _modules()
    tree = ast.parse(path.read_text())
    found = set()
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path.name == "__init__.py", node.level, node.module) if node.level else node.module
            names = [target] + [f"{target}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module and name.startswith("logsketch"):
                found.add(name)
    return found


def _parents(name):
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_no_import_cycles():
    """A cycle among module-level imports (a parent package aside: importing a
    submodule always imports its package first, which is not a cycle)."""
    graph = {m: _top_level_imports(m, p) - _parents(m) for m, p in _modules().items()}
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("module", sorted(_modules()))
def test_every_module_imports_alone(module):
    code = f"import importlib; importlib.import_module({module!r})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_attention_head_dims_come_from_the_generated_table():
    from logsketch.attention import _cuda, _cuda_instantiations

    assert _cuda.SUPPORTED_HEAD_DIMS is _cuda_instantiations.HEAD_DIMS
    assert _cuda_instantiations.DTYPES == ("float16", "bfloat16")


def test_estimators_raise_logsketch_and_scikit_learn_errors():
    from logsketch.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        logsketch.JLProjection().transform([[1.0]])
    sklearn_exceptions = pytest.importorskip("sklearn.exceptions")
    with pytest.raises(sklearn_exceptions.NotFittedError):
        logsketch.RandomizedSVD().transform([[1.0]])


def test_backend_of():
    import numpy as np

    from logsketch._backend import backend_of

    assert backend_of(np.ones(2), 1.0, None) == "numpy"

    class FakeCuda:
        __cuda_array_interface__ = {}

    assert backend_of(np.ones(2), FakeCuda()) == "cuda"
