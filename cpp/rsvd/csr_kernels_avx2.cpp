// CSR x panel products at the avx2 level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA avx2
#define LOGSKETCH_VEC_BYTES 32
#include "csr_kernels_impl.hpp"
