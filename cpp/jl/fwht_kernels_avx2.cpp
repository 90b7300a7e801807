// Walsh-Hadamard transform at the avx2 level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA avx2
#define LOGSKETCH_VEC_BYTES 32
#include "fwht_kernels_impl.hpp"
