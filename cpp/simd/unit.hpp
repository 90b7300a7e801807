// Included first by every per-ISA kernel unit: `Isa` is the traits of the
// level the unit is being compiled for (LOGSKETCH_ISA, set by CMake).
#pragma once

#ifndef LOGSKETCH_ISA
#error "a per-ISA kernel unit is compiled through logsketch_add_isa_units (CMakeLists.txt)"
#endif

#include "isa_list.hpp"

namespace logsketch::simd {
using Isa = LOGSKETCH_ISA::Traits;
}  // namespace logsketch::simd
