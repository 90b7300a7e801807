// Mitchell elementwise loops at the avx512 level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA avx512
#include "mitchell_elementwise_impl.hpp"
