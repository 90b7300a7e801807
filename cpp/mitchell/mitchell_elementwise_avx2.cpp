// Mitchell elementwise loops at the avx2 level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA avx2
#include "mitchell_elementwise_impl.hpp"
