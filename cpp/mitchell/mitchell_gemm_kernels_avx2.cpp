// Mitchell GEMM micro-kernels at the avx2 level (target flags set in CMakeLists.txt).
// Tile shape: 16 ymm registers: 12 accumulators + 2 A vectors.
#define LOGSKETCH_ISA avx2
#define LOGSKETCH_VEC_BYTES 32
#define LOGSKETCH_MV32 2
#define LOGSKETCH_NR32 6
#define LOGSKETCH_MV64 2
#define LOGSKETCH_NR64 6
#include "mitchell_gemm_kernels_impl.hpp"
