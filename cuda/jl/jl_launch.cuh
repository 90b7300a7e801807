// Launch shapes shared by the JL kernels: grid-stride loops over int64 counts.
#pragma once

#include <algorithm>
#include <cstdint>

namespace logsketch::jl::gpu {
namespace {

// Blocks for `work` items of `per_block` each: the loops stride over the rest,
// so 2^16 blocks (hundreds per SM) is plenty and keeps gridDim.x small.
inline unsigned grid_for(std::int64_t work, std::int64_t per_block) {
    return static_cast<unsigned>(std::clamp<std::int64_t>((work + per_block - 1) / per_block, 1, 1 << 16));
}

}  // namespace
}  // namespace logsketch::jl::gpu
