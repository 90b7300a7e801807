// Gaussian-kind micro-kernels at the avx2 level (target flags set in CMakeLists.txt).
// Tile shape: 16 ymm registers: 12 accumulators + 2 Z vectors + a broadcast.
#define LOGSKETCH_ISA avx2
#define LOGSKETCH_VEC_BYTES 32
#define LOGSKETCH_MR32 6
#define LOGSKETCH_NV32 2
#define LOGSKETCH_MR64 6
#define LOGSKETCH_NV64 2
#include "jl_gemm_kernels_impl.hpp"
