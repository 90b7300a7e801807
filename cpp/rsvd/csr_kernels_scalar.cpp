// CSR x panel products at the scalar level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA scalar
#define LOGSKETCH_VEC_BYTES 0
#include "csr_kernels_impl.hpp"
