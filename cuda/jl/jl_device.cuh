// Device-side generation of R's entries, shared by the materialize and project
// kernels: the functions of cpp/core/philox.hpp and cpp/core/jl_random.hpp on
// one lane (ScalarLanes).  Users compile with -fmad=false (the Box-Muller
// arithmetic must round op by op as on the CPU).
#pragma once

#include <cstdint>

#include "../../cpp/core/philox.hpp"
#include "../../cpp/core/jl_random.hpp"

namespace logsketch::jl::gpu {
namespace {

using Lanes = philox::ScalarLanes;

// The words of block (row, q, tag).
__device__ __forceinline__ philox::Block4<Lanes> words(philox::Key key, std::uint64_t q, std::uint32_t row,
                                                      std::uint32_t tag) {
    return philox::block<Lanes>(key, static_cast<std::uint32_t>(q), static_cast<std::uint32_t>(q >> 32), row, tag);
}

// The gaussian kind's normals of row c, columns 4q .. 4q+3 (before the scale).
__device__ __forceinline__ void gaussian4(philox::Key key, std::uint32_t c, std::uint64_t q, float z[4]) {
    const auto b = words(key, q, c, random::kTagGaussian);
    philox::box_muller<Lanes>(b.x0, b.x1, z[0], z[1]);
    philox::box_muller<Lanes>(b.x2, b.x3, z[2], z[3]);
}

__device__ __forceinline__ std::uint32_t word_at(const philox::Block4<Lanes>& b, int w) {
    return w == 0 ? b.x0 : w == 1 ? b.x1 : w == 2 ? b.x2 : b.x3;
}

}  // namespace
}  // namespace logsketch::jl::gpu
