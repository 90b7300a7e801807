"""The documentation agrees with the code it describes: README's set-up commands
with .ci/run, docs/benchmarks.md with bench/results, links with the tree."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
DOCS = ROOT / "docs"


def _readme_block(marker):
    """The first ```bash block after README's <!-- marker --> line, as text."""
    match = re.search(rf"^<!-- {marker} -->\n(?:.*\n)*?```bash\n(.*?)```", README.read_text(), flags=re.M | re.S)
    assert match, f"README.md has no ```bash block after <!-- {marker} -->"
    return match.group(1).strip("\n")


def _ci_test_command():
    """The test command .ci/run runs: its quoted TEST_COMMAND here-document."""
    match = re.search(r"<<'TEST_COMMAND'\n(.*?)\nTEST_COMMAND\n", CI_RUN.read_text(), flags=re.S)
    assert match, ".ci/run lost its TEST_COMMAND here-document"
    return match.group(1)


def test_readme_shows_the_test_command_ci_runs():
    assert _readme_block("test-command") == _ci_test_command()


def test_readme_set_up_blocks_are_single_commands():
    for marker in ("bench-command", "test-command"):
        block = _readme_block(marker)
        assert block and "\n" not in block, f"the {marker} block must be one line"
    assert "bench/bench_$b.py" in _readme_block("bench-command")


@pytest.mark.parametrize("script", ["cross_build_aarch64.sh", "sanitizers.sh", "wheel_test.sh"])
def test_ci_runs_each_ci_script(script):
    assert f"bash tools/ci/{script}" in CI_RUN.read_text()
    assert (ROOT / "tools" / "ci" / script).is_file()


def _render_module():
    spec = importlib.util.spec_from_file_location("render_benchmarks", ROOT / "tools" / "render_benchmarks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmarks_page_is_a_fresh_render_of_the_recorded_runs():
    rendered = _render_module().render()
    assert (DOCS / "benchmarks.md").read_text() == rendered, (
        "docs/benchmarks.md is out of date: run python tools/render_benchmarks.py")


def test_benchmarks_page_has_every_recorded_run():
    page = (DOCS / "benchmarks.md").read_text()
    for path in sorted((ROOT / "bench" / "results").glob("*.json")):
        assert f"bench/results/{path.name}" in page


def test_readme_stays_short():
    assert len(README.read_text().splitlines()) <= 160, "README.md is for users: move details to docs/"


def test_relative_links_resolve():
    for page in [README, *sorted(DOCS.glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # a URL
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


@pytest.mark.skipif(not (ROOT / "python" / "logsketch").is_dir(),
                    reason="checks paths of the source tree; absent beside an installed wheel")
def test_architecture_names_only_paths_that_exist():
    """Every `cpp/...`, `cuda/...`, `python/...`, `tools/...` path in backticks in docs/architecture.md
    exists, apart from the walk-through's hypothetical family and placeholders like <family>."""
    text = (DOCS / "architecture.md").read_text()
    missing = []
    for path in sorted(set(re.findall(r"`((?:cpp|cuda|python|tools)/[^`\s]*)`", text))):
        if "countsketch" in path or "<" in path or "*" in path:
            continue
        if not (ROOT / path.rstrip("/")).exists():
            missing.append(path)
    assert missing == [], f"docs/architecture.md names paths that do not exist: {missing}"
