// The sparse kind on dense X: blocks of rows of X transposed so that one
// vector holds one column of `rows` rows, then for each row c of R the sum of
// the columns where R is +1 minus the sum where it is -1 (additions only; the
// driver scales the transposed block first).  Written once over
// simd/lanes.hpp's vectors and compiled per SIMD level
// (simd::Isa::JlGather sets the vectors per block).  Each lane is one
// row of X, so every level gives the same bits.
#include "../simd/unit.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "../simd/lanes.hpp"
#include "jl_kernels.hpp"

namespace logsketch::jl::LOGSKETCH_ISA {
namespace {

using namespace logsketch::simd;

template <class T, int NV>
struct Gather {
    static constexpr int W = lanes_of<T, simd::Isa::vec_bytes>();
    static constexpr int R = NV * W;  // rows per block
    using V = Vec<T, W>;

    // One step of a W x W transpose in registers: rows i and i + H exchange
    // their off-diagonal H x H blocks.
    template <int H, std::size_t... I>
    static void swap_blocks(V* r, std::index_sequence<I...>) {
        for (int i = 0; i < W; ++i) {
            if (i & H) continue;
            const V a = r[i], b = r[i + H];
            r[i] = __builtin_shufflevector(a, b, static_cast<int>((I & H) ? W + I - H : I)...);
            r[i + H] = __builtin_shufflevector(a, b, static_cast<int>((I & H) ? W + I : I + H)...);
        }
    }

    template <int H>
    static void transpose_square(V* r) {
        if constexpr (H >= 1) {
            swap_blocks<H>(r, std::make_index_sequence<W>{});
            transpose_square<H / 2>(r);
        }
    }

    static void transpose(const T* x, std::int64_t rs, std::int64_t cs, std::int64_t n_rows, std::int64_t cols,
                          T* xt) {
        std::int64_t j = 0;
        if (n_rows == R && cs == 1 && W > 1) {  // row-major X: W x W squares through registers
            for (; j + W <= cols; j += W) {
                for (int g = 0; g < NV; ++g) {
                    V r[W];
                    for (int l = 0; l < W; ++l) r[l] = load<V>(x + (g * W + l) * rs + j);
                    if constexpr (W > 1) transpose_square<W / 2>(r);
                    for (int m = 0; m < W; ++m) store(xt + (j + m) * R + g * W, r[m]);
                }
            }
        } else if (n_rows == R && rs == 1) {  // column-major X: each column is contiguous
            for (; j < cols; ++j)
                for (int g = 0; g < NV; ++g) store(xt + j * R + g * W, load<V>(x + j * cs + g * W));
        }
        for (; j < cols; ++j)
            for (int i = 0; i < R; ++i) xt[j * R + i] = i < n_rows ? x[i * rs + j * cs] : T(0);
    }

    // Sum of xt rows idx[b, e) in four interleaved partial sums, (s0 + s1) + (s2 + s3).
    static void sum_rows(const T* xt, const std::uint32_t* idx, std::int64_t b, std::int64_t e, V* out) {
        V s[4][NV] = {};
        std::int64_t t = b;
        for (; t + 4 <= e; t += 4)
#pragma GCC unroll 4
            for (int u = 0; u < 4; ++u) {
                const T* row = xt + static_cast<std::int64_t>(idx[t + u]) * R;
#pragma GCC unroll 4
                for (int v = 0; v < NV; ++v) s[u][v] += load<V>(row + v * W);
            }
        for (int u = 0; t < e; ++t, ++u) {
            const T* row = xt + static_cast<std::int64_t>(idx[t]) * R;
            for (int v = 0; v < NV; ++v) s[u][v] += load<V>(row + v * W);
        }
        for (int v = 0; v < NV; ++v) out[v] = (s[0][v] + s[1][v]) + (s[2][v] + s[3][v]);
    }

    static void gather(const T* xt, std::int64_t k, const std::int64_t* bounds, const std::uint32_t* idx, T* out) {
        for (std::int64_t c = 0; c < k; ++c) {
            V plus[NV], minus[NV];
            sum_rows(xt, idx, bounds[2 * c], bounds[2 * c + 1], plus);
            sum_rows(xt, idx, bounds[2 * c + 1], bounds[2 * c + 2], minus);
            for (int v = 0; v < NV; ++v) store(out + c * R + v * W, plus[v] - minus[v]);
        }
    }
};

}  // namespace

GatherKernels<float> gather_kernels32() {
    using G = Gather<float, simd::Isa::JlGather::nv>;
    return {G::R, &G::transpose, &G::gather};
}

GatherKernels<double> gather_kernels64() {
    using G = Gather<double, simd::Isa::JlGather::nv>;
    return {G::R, &G::transpose, &G::gather};
}

}  // namespace logsketch::jl::LOGSKETCH_ISA
