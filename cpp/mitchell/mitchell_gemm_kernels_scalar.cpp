// Mitchell GEMM micro-kernels at the scalar level (target flags set in CMakeLists.txt).
// Tile shape: AVX-free baseline: one lane, 4x4 tiles.
#define LOGSKETCH_ISA scalar
#define LOGSKETCH_VEC_BYTES 0
#define LOGSKETCH_MV32 4
#define LOGSKETCH_NR32 4
#define LOGSKETCH_MV64 4
#define LOGSKETCH_NR64 4
#include "mitchell_gemm_kernels_impl.hpp"
