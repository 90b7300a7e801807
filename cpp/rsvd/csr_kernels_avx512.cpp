// CSR x panel products at the avx512 level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA avx512
#define LOGSKETCH_VEC_BYTES 64
#include "csr_kernels_impl.hpp"
