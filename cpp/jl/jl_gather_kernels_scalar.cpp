// Sparse-kind gather-add at the scalar level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA scalar
#define LOGSKETCH_VEC_BYTES 0
#define LOGSKETCH_GATHER_NV 4
#include "jl_gather_kernels_impl.hpp"
