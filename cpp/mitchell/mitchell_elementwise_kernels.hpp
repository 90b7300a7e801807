// The per-SIMD-level 1-D loops of Mitchell multiply/divide, as function pointers.
#pragma once

#include <cstdint>

#include "../runtime/dispatch.hpp"
#include "mitchell.hpp"

namespace logsketch::mitchell {

// out[i*so] = a[i*sa] (op) b[i*sb] for i in [0, n); strides in elements.
using BinaryLoop = void (*)(std::int64_t n, const void* a, std::int64_t sa, const void* b, std::int64_t sb,
                            void* out, std::int64_t so, bool compensated);

// One per SIMD level (mitchell_elementwise_kernels.cpp).
LOGSKETCH_DECLARE_PER_ISA(BinaryLoop binary_loop(Dtype dtype, BinaryOp op);)

}  // namespace logsketch::mitchell
