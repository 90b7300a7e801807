"""The examples in the JL family's docstrings run and show what they claim."""

from __future__ import annotations

import doctest

import pytest

import logsketch
from logsketch import jl

EXAMPLES = [jl.jl_min_dim, jl.jl_components, jl.jl_project, jl.jl_distortion, "JLProjection"]


@pytest.mark.parametrize("obj", EXAMPLES, ids=lambda o: o if isinstance(o, str) else o.__name__)
def test_docstring_examples(obj):
    obj = getattr(logsketch, obj) if isinstance(obj, str) else obj
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = finder.find(obj, obj.__name__, globs={})
    assert tests and tests[0].examples, f"{obj.__name__} has no examples"
    for test in tests:
        runner.run(test)
    assert runner.failures == 0
