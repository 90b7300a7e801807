// Sparse-kind gather-add at the avx2 level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA avx2
#define LOGSKETCH_VEC_BYTES 32
#define LOGSKETCH_GATHER_NV 2
#include "jl_gather_kernels_impl.hpp"
