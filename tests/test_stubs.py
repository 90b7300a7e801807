"""The type stubs (.pyi) of the compiled modules list exactly what the modules define.

Every function and attribute of a built module is in its stub and vice versa, and
each function's argument names are the ones the binding declares (pybind11 writes
them into the first line of the docstring).
"""

import ast
import importlib
import pathlib
import re

import pytest

import logsketch

# The stubs ship beside the modules: read them where the package under test is,
# the source tree or an installed wheel.
PACKAGE = pathlib.Path(logsketch.__file__).resolve().parent
MODULES = ["_core", "_cuda", "_cuda_linalg"]


def _stub(name):
    tree = ast.parse((PACKAGE / f"{name}.pyi").read_text())
    functions, attributes = {}, set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions[node.name] = [a.arg for a in node.args.args]
        elif isinstance(node, ast.AnnAssign):
            attributes.add(node.target.id)
    return functions, attributes


def _module(name):
    try:
        return importlib.import_module(f"logsketch.{name}")
    except ImportError as e:  # the CUDA modules are optional, and need their libraries
        pytest.skip(f"logsketch.{name} is not importable here: {e}")


def _arg_names(function):
    first = (function.__doc__ or "").split("\n", 1)[0]
    match = re.match(rf"{re.escape(function.__name__)}\((.*)\) ->", first)
    assert match, f"{function.__name__}: no pybind11 signature line in its docstring"
    return re.findall(r"(?:^|, )(\w+):", match.group(1))


@pytest.mark.parametrize("name", MODULES)
def test_stub_lists_every_name(name):
    module = _module(name)
    functions, attributes = _stub(name)
    defined = {n for n in dir(module) if not n.startswith("__")}
    in_stub = set(functions) | attributes
    assert defined - in_stub == set(), f"defined by logsketch.{name} but missing from {name}.pyi"
    assert in_stub - defined == set(), f"in {name}.pyi but not defined by logsketch.{name}"
    for n in attributes:
        assert not callable(getattr(module, n)), f"{name}.pyi declares function {n} as an attribute"


@pytest.mark.parametrize("name", MODULES)
def test_stub_argument_names(name):
    module = _module(name)
    functions, _ = _stub(name)
    for n, args in functions.items():
        assert args == _arg_names(getattr(module, n)), f"{name}.pyi: arguments of {n}"


@pytest.mark.parametrize("name", MODULES)
def test_stub_annotates_every_argument_and_return(name):
    """The stubs give types, not only names (checked without importing the module)."""
    tree = ast.parse((PACKAGE / f"{name}.pyi").read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            assert node.returns is not None, f"{name}.pyi: {node.name} has no return type"
            for a in node.args.args:
                assert a.annotation is not None, f"{name}.pyi: {node.name}({a.arg}) has no type"
