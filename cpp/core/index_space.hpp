// Simplifying the index space of an elementwise operation over strided arrays,
// as numpy's iterator does; shared by the CPU driver and the CUDA launcher.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace logsketch {

// One dimension with the strides (in elements) of each of N operands.
template <std::size_t N>
struct Dim {
    std::int64_t size;
    std::array<std::int64_t, N> stride;
};

// Drops unit dimensions, orders the rest by the first operand's strides
// (largest outermost) and merges neighbours contiguous in every operand.
// Never empty: a 0-d space is one dimension of size 1.
template <std::size_t N>
std::vector<Dim<N>> simplify_index_space(std::int64_t ndim, const std::int64_t* shape,
                                         const std::array<const std::int64_t*, N>& strides) {
    std::vector<Dim<N>> dims;
    for (std::int64_t i = 0; i < ndim; ++i) {
        if (shape[i] == 1) continue;
        Dim<N> d{shape[i], {}};
        for (std::size_t s = 0; s < N; ++s) d.stride[s] = strides[s][i];
        dims.push_back(d);
    }
    std::stable_sort(dims.begin(), dims.end(), [](const Dim<N>& x, const Dim<N>& y) {
        return std::llabs(x.stride[0]) > std::llabs(y.stride[0]);
    });
    std::vector<Dim<N>> merged;
    for (const Dim<N>& d : dims) {
        if (!merged.empty()) {
            Dim<N>& outer = merged.back();
            bool joinable = true;
            for (std::size_t s = 0; s < N; ++s) joinable &= outer.stride[s] == d.stride[s] * d.size;
            if (joinable) {
                outer.size *= d.size;
                outer.stride = d.stride;
                continue;
            }
        }
        merged.push_back(d);
    }
    if (merged.empty()) {
        Dim<N> unit{1, {}};
        unit.stride.fill(1);
        merged.push_back(unit);
    }
    return merged;
}

}  // namespace logsketch
