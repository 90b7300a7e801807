#!/usr/bin/env bash
# CI: the compiled core built with AddressSanitizer + UndefinedBehaviorSanitizer
# (GCC), and the CPU test suite run against it.  A sanitizer report aborts the
# process and so fails the job; one from a subprocess fails the test that
# started it.
#
# The sanitizer flags come in on the cmake command line, so the build files
# stay as they are.  The instrumented _core goes into a throwaway copy of the
# Python package, which PYTHONPATH puts ahead of the installed one.
#
# Usage: tools/ci/sanitizers.sh [pytest arguments]   (default: the CPU suite, below)
# Uses the .venv that the CI test command created at the repository root; the
# build in build-sanitizers/ is incremental.
# Environment: LOGSKETCH_SANITIZER_JOBS (build parallelism, default 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
started=$SECONDS
py=$root/.venv/bin/python
build=$root/build-sanitizers
log=$build/pytest.log
findings=0
export PATH="$root/.venv/bin:$PATH"  # the venv's ninja/cmake, when the system has none

# ---- build -----------------------------------------------------------------
"$py" -c "import pybind11" 2>/dev/null || "$py" -m pip install -q pybind11
command -v ninja >/dev/null || "$py" -m pip install -q ninja
command -v cmake >/dev/null || "$py" -m pip install -q cmake

# -O1 -g1 for the bindings (the kernels keep their own -O3): line numbers in
# every report at a bearable build time.  No -DNDEBUG: assertions stay on.
# No LTO: it multiplies the build time and hides nothing from the sanitizers.
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
echo "+ configure and build $build ($sanitize)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=g++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=OFF \
  -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_MODULE_LINKER_FLAGS="$sanitize" -DCMAKE_SHARED_LINKER_FLAGS="$sanitize" \
  -DLOGSKETCH_CUDA=OFF -DPython_EXECUTABLE="$py" -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" >/dev/null
nice cmake --build "$build" -j "${LOGSKETCH_SANITIZER_JOBS:-2}"
build_s=$((SECONDS - started))

core=$(find "$build" -maxdepth 2 -name '_core*.so' -print -quit)
[ -n "$core" ] || { echo "sanitizers: no _core module under $build" >&2; exit 1; }
imports=$(nm -D --undefined-only "$core")
for symbol in __asan_init __ubsan_handle_; do
  grep -q "$symbol" <<<"$imports" \
    || { echo "sanitizers: $core is not instrumented ($symbol missing)" >&2; exit 1; }
done

pkg=$(mktemp -d "${TMPDIR:-/tmp}/logsketch-sanitizers.XXXXXX")
trap 'rm -rf "$pkg"' EXIT
cp -r "$root/python/." "$pkg/"
find "$pkg" \( -name '*.so' -o -name __pycache__ \) -prune -exec rm -rf {} +
cp "$core" "$pkg/logsketch/"

# ---- run -------------------------------------------------------------------
# The runtime must come first in the process, so it is preloaded; libstdc++
# with it, since python itself does not link it and ASan intercepts its
# exception machinery.
libasan=$(readlink -f "$(g++ -print-file-name=libasan.so)")
libstdcxx=$(readlink -f "$(g++ -print-file-name=libstdc++.so)")
# detect_leaks=0: CPython keeps its interned objects alive until exit by design.
# allocator_may_return_null=1: a huge numpy allocation is a MemoryError, as
# without ASan.  abort_on_error=1: a finding raises SIGABRT, on which pytest's
# faulthandler prints the Python stack, i.e. the test that hit it.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1"
export LD_PRELOAD="$libasan:$libstdcxx"
export PYTHONMALLOC=malloc            # every Python object through ASan's allocator
export OPENBLAS_NUM_THREADS=1         # numpy's uninstrumented BLAS: no busy-waiting workers on a small CI machine
export LOGSKETCH_SANITIZERS=1         # tests/conftest.py skips what cannot run under ASan
export PYTHONPATH="$pkg${PYTHONPATH:+:$PYTHONPATH}"

loaded=$("$py" -c "import logsketch._core as c; print(c.__file__)")
[ "${loaded#"$pkg"/}" != "$loaded" ] || { echo "sanitizers: imported $loaded, not the instrumented copy" >&2; exit 1; }

# The CPU suite, one pytest process per test file: the first finding ends its
# process, and the other files still run.  Left out: tests/gpu (skips without a
# device), test_reference.py (the plain-numpy references against hand-worked
# values: it never calls the compiled core, and is the slowest file under ASan),
# and the integration suites (PyTorch, Dask, scikit-learn's own tests, the
# examples): they reach the core through the public functions the family
# files already test, and would load uninstrumented torch and dask workers.
# --capture=sys: reports written to fd 2 reach the log even when the process dies.
failed=()
run_pytest() {
  echo "+ pytest $* under ASan + UBSan"
  "$py" -m pytest -q -rs -p no:cacheprovider --capture=sys "$@" 2>&1 | tee "$log" || failed+=("${*##*/}")
  findings=$((findings + $(grep -c -E 'runtime error:|ERROR: AddressSanitizer' "$log" || true)))
}
if [ $# -gt 0 ]; then
  run_pytest "$@"
else
  for file in "$root"/tests/test_*.py; do
    case "${file##*/}" in
      test_reference.py | test_torch_*.py | test_dask_*.py | test_sklearn_suite.py | test_examples.py) ;;
      *) run_pytest "$file" ;;
    esac
  done
fi
unset LD_PRELOAD

verdict=clean
[ ${#failed[@]} -eq 0 ] || verdict="failed: ${failed[*]}; $findings sanitizer report(s)"
echo "sanitizers: $verdict; build ${build_s}s, total $((SECONDS - started))s"
[ ${#failed[@]} -eq 0 ]
