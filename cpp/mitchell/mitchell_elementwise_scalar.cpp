// Mitchell elementwise loops at the scalar level (target flags set in CMakeLists.txt).
#define LOGSKETCH_ISA scalar
#include "mitchell_elementwise_impl.hpp"
