// The one run-time SIMD dispatch of the CPU kernels.
//
// A kernel unit (cpp/<family>/*_kernels.cpp) is compiled once per SIMD level
// with LOGSKETCH_ISA set to the level's name, so its table getter lands in a
// namespace named after the level.  A family declares its getters once for
// every level and picks the active level's with LOGSKETCH_ACTIVE:
//
//   LOGSKETCH_DECLARE_PER_ISA(Kernels<float> kernels32();)
//   Kernels<float> k = LOGSKETCH_ACTIVE(kernels32)();
#pragma once

#include <cstddef>

#include "cpu_features.hpp"

namespace logsketch {

// The active level's entry of one getter per compiled level (in SimdLevel order).
template <class Getter, std::size_t N>
Getter for_active_level(const Getter (&getters)[N]) {
    static_assert(N == LOGSKETCH_ISA_COUNT, "one getter per compiled level");
    return getters[static_cast<int>(active_simd_level())];
}

}  // namespace logsketch

#define LOGSKETCH_ISA_NAMESPACE_(isa, ...) namespace isa { __VA_ARGS__ }
#define LOGSKETCH_ISA_GETTER_(isa, getter) &isa::getter,

// Declares the declarations in the namespace of every compiled level.
#define LOGSKETCH_DECLARE_PER_ISA(...) LOGSKETCH_FOR_EACH_ISA(LOGSKETCH_ISA_NAMESPACE_, __VA_ARGS__)

// The active level's `getter` (a function pointer; call it).
#define LOGSKETCH_ACTIVE(getter) \
    ::logsketch::for_active_level({LOGSKETCH_FOR_EACH_ISA(LOGSKETCH_ISA_GETTER_, getter)})
