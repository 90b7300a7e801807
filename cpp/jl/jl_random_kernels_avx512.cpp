// Philox words and gaussian normals at the avx512 level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA avx512
#define LOGSKETCH_VEC_BYTES 64
#include "jl_random_kernels_impl.hpp"
