// Mitchell GEMM micro-kernels at the avx512 level (target flags set in CMakeLists.txt).
// Tile shape: 32 zmm registers: 24 accumulators + 2 A vectors + temporaries.
#define LOGSKETCH_ISA avx512
#define LOGSKETCH_VEC_BYTES 64
#define LOGSKETCH_MV32 2
#define LOGSKETCH_NR32 12
#define LOGSKETCH_MV64 2
#define LOGSKETCH_NR64 12
#include "mitchell_gemm_kernels_impl.hpp"
