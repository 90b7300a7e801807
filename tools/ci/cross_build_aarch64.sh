#!/usr/bin/env bash
# Cross-compiles the C++ core for aarch64 Linux and links core_smoke against it,
# proving that a processor without x86 SIMD builds the portable kernels only
# (no <immintrin.h>, no -mavx flags).  Runs the smoke test under qemu-user
# when qemu-aarch64 is installed.  Needs Debian's g++-aarch64-linux-gnu (installed
# here if missing; root) and pip, for the aarch64 scipy-openblas32 wheel.
#   usage: tools/ci/cross_build_aarch64.sh [build dir]   (default build-aarch64)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(mkdir -p "${1:-$root/build-aarch64}" && cd "${1:-$root/build-aarch64}" && pwd)
py=${PYTHON:-python3}
start=$SECONDS

if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y g++-aarch64-linux-gnu
fi

openblas=$build/openblas/scipy_openblas32
if [ ! -d "$openblas" ]; then
  "$py" -m pip download --only-binary=:all: --no-deps --platform manylinux_2_28_aarch64 \
    --platform manylinux2014_aarch64 scipy-openblas32 -d "$build/wheel"
  "$py" -m zipfile -e "$(ls "$build"/wheel/scipy_openblas32-*.whl | head -1)" "$build/openblas"
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$root/tools/ci/aarch64-toolchain.cmake" \
  -DLOGSKETCH_PYTHON=OFF -DLOGSKETCH_CUDA=OFF -DLOGSKETCH_SMOKE=ON \
  -DLOGSKETCH_OPENBLAS_LIB_DIR="$openblas/lib"
cmake --build "$build" -j"${JOBS:-2}"

# Only the portable level is compiled for this processor.
grep -q '^#define LOGSKETCH_FOR_EACH_ISA(X, ...) X(scalar, __VA_ARGS__)$' "$build/generated/isa_list.hpp"
file "$build/core_smoke" 2>/dev/null | grep -q aarch64 || ! command -v file >/dev/null

if command -v qemu-aarch64 >/dev/null; then
  QEMU_LD_PREFIX=/usr/aarch64-linux-gnu LD_LIBRARY_PATH="$openblas/lib" OMP_NUM_THREADS=2 \
    qemu-aarch64 "$build/core_smoke"
else
  echo "qemu-aarch64 not installed: core_smoke built and linked, not run"
fi
echo "aarch64 cross-build done in $((SECONDS - start)) s"
