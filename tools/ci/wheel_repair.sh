#!/usr/bin/env bash
# Repair a built Linux wheel into a manylinux wheel: auditwheel copies in the
# shared libraries the policy does not allow, except the ones below, which the
# wheel must NOT carry:
#
#   libscipy_openblas.so   BLAS/LAPACK of the declared dependency scipy-openblas32.
#                          _core finds it through its run path
#                          $ORIGIN/../scipy_openblas32/lib (CMakeLists.txt) when
#                          both packages share a site-packages, and
#                          logsketch/_native.py loads it by absolute path before
#                          _core in every other layout.  A vendored copy would
#                          be a second OpenBLAS with the same symbols.
#   libcuda.so.1           the NVIDIA driver: on no manylinux policy's list, it
#                          always comes from the machine.  _cuda links the CUDA
#                          runtime statically, which loads the driver itself.
#   libcublas*, libcusolver*, libcusparse*, libnvJitLink*, libcudart*
#                          cuBLAS/cuSOLVER of _cuda_linalg (and what they need):
#                          from the nvidia-* wheels (its run path and
#                          logsketch/_native.py's preload) or a CUDA toolkit.
#                          Vendored, they would add over 600 MiB.
#
# usage: tools/ci/wheel_repair.sh WHEEL DEST_DIR     (AUDITWHEEL: the command, default auditwheel)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 WHEEL DEST_DIR" >&2; exit 2; }
wheel=$1
dest=$2
auditwheel=${AUDITWHEEL:-auditwheel}

excludes=(
  libscipy_openblas.so
  libcuda.so.1
  'libcudart.so.*'
  'libcublas.so.*'
  'libcublasLt.so.*'
  'libcusolver.so.*'
  'libcusparse.so.*'
  'libnvJitLink.so.*'
)
args=()
for lib in "${excludes[@]}"; do
  args+=(--exclude "$lib")
done
$auditwheel repair "${args[@]}" -w "$dest" "$wheel"
