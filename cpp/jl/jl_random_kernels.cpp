// Philox words and the gaussian kind's normals, written once over
// simd/lanes.hpp's vectors and compiled per SIMD level
// (LOGSKETCH_ISA names the level, simd::Isa gives its width).
// Lane for lane the arithmetic is philox.hpp's, without contraction, so every
// level writes the same bits.
#include "../simd/unit.hpp"

#include <algorithm>
#include <cstdint>

#include "../simd/lanes.hpp"
#include "jl_kernels.hpp"
#include "../core/jl_random.hpp"

namespace logsketch::jl::LOGSKETCH_ISA {
namespace {

using namespace logsketch::simd;

constexpr int W = lanes_of<float, simd::Isa::vec_bytes>();
using L = Lanes<W>;
using U = L::U;
using F = L::F;

// Stores the W lanes of v as T (float64 lanes are converted one by one: a
// 16-lane float64 vector would not be a native type at the AVX2 level).
template <class T>
inline void store_as(T* out, F v) {
    if constexpr (sizeof(T) == sizeof(float)) {
        store(out, v);
    } else {
        float lanes[W];
        store(lanes, v);
        for (int l = 0; l < W; ++l) out[l] = lanes[l];
    }
}

template <class T>
void gaussian_block(std::uint64_t seed, std::int64_t c0, std::int64_t nc, std::int64_t c_end, std::int64_t j0,
                    std::int64_t nj, T* out, std::int64_t ld) {
    const philox::Key key = philox::key_from_seed(seed);
    const U lane = iota<U, W>();
    for (std::int64_t cb = 0; cb < nc; cb += W) {
        const std::int64_t c = c0 + cb;
        const U row = lane + static_cast<std::uint32_t>(c);
        const auto valid = lane < static_cast<std::uint32_t>(std::clamp<std::int64_t>(c_end - c, 0, W));
        for (std::int64_t p = 0; p < nj; p += 4) {
            const std::uint64_t q = static_cast<std::uint64_t>(j0 + p) >> 2;
            const auto b = philox::block<L>(key, L::splat(static_cast<std::uint32_t>(q)),
                                            static_cast<std::uint32_t>(q >> 32), row, random::kTagGaussian);
            F z[4];
            philox::box_muller<L>(b.x0, b.x1, z[0], z[1]);
            philox::box_muller<L>(b.x2, b.x3, z[2], z[3]);
            const int cols = static_cast<int>(std::min<std::int64_t>(4, nj - p));
            for (int w = 0; w < cols; ++w) {
                store_as(out + (p + w) * ld + cb, valid ? z[w] : F{});
            }
        }
    }
}

void words_row(std::uint64_t seed, std::uint32_t tag, std::uint32_t row, std::int64_t q0, std::int64_t nq,
               std::uint32_t* out) {
    const philox::Key key = philox::key_from_seed(seed);
    const U lane = iota<U, W>();
    for (std::int64_t qb = 0; qb < nq; qb += W) {
        const std::uint64_t q = static_cast<std::uint64_t>(q0 + qb);  // lanes stay below the next 2^32
        const auto b = philox::block<L>(key, lane + static_cast<std::uint32_t>(q), static_cast<std::uint32_t>(q >> 32),
                                        L::splat(row), tag);
        std::uint32_t words[4][W];
        store(words[0], b.x0);
        store(words[1], b.x1);
        store(words[2], b.x2);
        store(words[3], b.x3);
        const int n = static_cast<int>(std::min<std::int64_t>(W, nq - qb));
        for (int l = 0; l < n; ++l)
            for (int w = 0; w < 4; ++w) out[4 * (qb + l) + w] = words[w][l];
    }
}

void words_col(std::uint64_t seed, std::uint32_t tag, std::int64_t q, std::int64_t c0, std::int64_t nc,
               std::uint32_t* out) {
    const philox::Key key = philox::key_from_seed(seed);
    const U lane = iota<U, W>();
    const U q_lo = L::splat(static_cast<std::uint32_t>(q));
    const auto q_hi = static_cast<std::uint32_t>(static_cast<std::uint64_t>(q) >> 32);
    for (std::int64_t cb = 0; cb < nc; cb += W) {
        const auto b = philox::block<L>(key, q_lo, q_hi, lane + static_cast<std::uint32_t>(c0 + cb), tag);
        store(out + cb, b.x0);
        store(out + nc + cb, b.x1);
        store(out + 2 * nc + cb, b.x2);
        store(out + 3 * nc + cb, b.x3);
    }
}

}  // namespace

RandomKernels random_kernels() {
    return {W, &gaussian_block<float>, &gaussian_block<double>, &words_row, &words_col};
}

}  // namespace logsketch::jl::LOGSKETCH_ISA
