// Gaussian-kind micro-kernels at the avx512 level (target flags set in CMakeLists.txt).
// Tile shape: 32 zmm registers: 24 accumulators + 2 Z vectors + broadcasts.
#define LOGSKETCH_ISA avx512
#define LOGSKETCH_VEC_BYTES 64
#define LOGSKETCH_MR32 12
#define LOGSKETCH_NV32 2
#define LOGSKETCH_MR64 12
#define LOGSKETCH_NV64 2
#include "jl_gemm_kernels_impl.hpp"
