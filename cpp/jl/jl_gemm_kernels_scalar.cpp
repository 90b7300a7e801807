// Gaussian-kind micro-kernels at the scalar level (target flags set in CMakeLists.txt).
// Tile shape: AVX-free baseline: one lane, 4x4 tiles.
#define LOGSKETCH_ISA scalar
#define LOGSKETCH_VEC_BYTES 0
#define LOGSKETCH_MR32 4
#define LOGSKETCH_NV32 4
#define LOGSKETCH_MR64 4
#define LOGSKETCH_NV64 4
#include "jl_gemm_kernels_impl.hpp"
