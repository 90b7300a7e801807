"""The README's examples run, and print what the README says they print."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert _python_blocks(), "README.md lost its Python examples"


def test_readme_examples_run_and_print_what_they_claim():
    import logsketch

    level, threads = logsketch.get_simd_level(), logsketch.get_num_threads()
    try:
        for block in _python_blocks():
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(block, str(README), "exec"), {})
            lines = iter(printed.getvalue().splitlines())
            # Each `print(...)  # <expected>` line must print <expected>.
            for claim in re.findall(r"^print\(.*?\)\s+# (\[.*?\])", block, flags=re.M):
                assert next(lines).split() == claim.split()
    finally:
        logsketch.set_simd_level(level)
        logsketch.set_num_threads(threads)
