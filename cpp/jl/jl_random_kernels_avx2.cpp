// Philox words and gaussian normals at the avx2 level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA avx2
#define LOGSKETCH_VEC_BYTES 32
#include "jl_random_kernels_impl.hpp"
