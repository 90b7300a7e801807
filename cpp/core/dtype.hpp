// The element types of the kernels: one enum for every family, on the CPU and
// in the CUDA kernels.  A family supports a subset (its bindings say which).
#pragma once

#include <cstdint>

#include "host_device.hpp"

namespace logsketch {

enum class Dtype : int { float16 = 0, bfloat16 = 1, float32 = 2, float64 = 3 };

// Bytes per element.
LOGSKETCH_HD constexpr std::int64_t itemsize(Dtype d) {
    return d == Dtype::float64 ? 8 : d == Dtype::float32 ? 4 : 2;
}

}  // namespace logsketch
