"""The version in one place, the metadata of an installed logsketch, and the
packaging files agreeing with each other."""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
from pathlib import Path

import pytest

import logsketch
from logsketch import _version

ROOT = Path(__file__).resolve().parents[1]


def _installed_distribution():
    """logsketch's distribution when the imported package is the installed one, else None."""
    try:
        dist = importlib.metadata.distribution("logsketch")
    except importlib.metadata.PackageNotFoundError:
        return None
    installed = Path(dist.locate_file("logsketch/__init__.py")).resolve()
    return dist if installed == Path(logsketch.__file__).resolve() else None


def test_version_is_pep440_and_read_from_version_file():
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", _version.__version__)
    assert logsketch.__version__ == _version.__version__


def test_installed_metadata_has_the_same_version():
    dist = _installed_distribution()
    if dist is None:
        pytest.skip("logsketch runs from a source tree, without installed metadata")
    assert dist.version == logsketch.__version__ == importlib.metadata.version("logsketch")


@pytest.mark.skipif(os.environ.get("LOGSKETCH_TEST_INSTALLED") != "1",
                    reason="only where the suite tests an installed wheel or sdist (tools/ci/wheel_test.sh)")
def test_the_installed_package_is_under_test():
    path = Path(logsketch.__file__).resolve()
    assert path.is_relative_to(Path(sys.prefix).resolve()), path
    assert _installed_distribution() is not None
    assert logsketch._core.__file__.startswith(str(path.parent))


def _pyproject():
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    path = ROOT / "pyproject.toml"
    if not path.exists():
        pytest.skip("no pyproject.toml beside the tests")
    return tomllib.loads(path.read_text())


def test_pyproject_reads_the_version_file():
    meta = _pyproject()
    assert "version" not in meta["project"] and meta["project"]["dynamic"] == ["version"]
    version = meta["tool"]["scikit-build"]["metadata"]["version"]
    assert version["provider"] == "scikit_build_core.metadata.regex"
    assert version["input"] == "python/logsketch/_version.py"
    # Tests of an installed package run beside a project copy without python/.
    source = ROOT / version["input"]
    text = (source if source.exists() else Path(_version.__file__)).read_text()
    assert f'__version__ = "{_version.__version__}"' in text


def test_changelog_has_the_current_version_and_unreleased():
    path = ROOT / "CHANGELOG.md"
    if not path.exists():
        pytest.skip("no CHANGELOG.md beside the tests")
    headings = re.findall(r"^## \[([^\]]+)\]", path.read_text(), re.M)
    assert headings[0] == "Unreleased"
    assert _version.__version__ in headings


def test_wheel_repair_leaves_dependencies_and_driver_out():
    meta = _pyproject()
    script = (ROOT / "tools" / "ci" / "wheel_repair.sh").read_text()
    for lib in ("libscipy_openblas.so", "libcuda.so.1", "libcublas.so.*", "libcusolver.so.*"):
        assert f"  {lib}\n" in script or f"  '{lib}'\n" in script, lib
    cibw = meta["tool"]["cibuildwheel"]
    assert "tools/ci/wheel_repair.sh" in cibw["linux"]["repair-wheel-command"]
    assert "libscipy_openblas" in cibw["macos"]["repair-wheel-command"]
    assert "scipy-openblas32>=0.3.27" in meta["project"]["dependencies"]
