// The Walsh-Hadamard transform of the SRHT, written once over
// simd/lanes.hpp's vectors and compiled once per SIMD level.
//
// Stages run in increasing h whatever the level, and each butterfly computes
// (a + b, a - b) from the same two values, so all levels give the same bits as
// the plain loop in logsketch.reference.  Stages h < W work inside a vector
// (a lane shuffle, then an fma by +-1); stages h >= W pair whole vectors,
// three stages per pass over the data, and arrays beyond kBlock elements run
// their low stages block by block while the block is in L1.
#include "../simd/unit.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "../simd/lanes.hpp"
#include "jl_kernels.hpp"

namespace logsketch::jl::LOGSKETCH_ISA {
namespace {

using namespace logsketch::simd;

// 4096 elements: 16 KiB of float32 (32 KiB of float64) stay in a 32 KiB+ L1.
constexpr std::int64_t kBlock = 4096;

template <class T>
using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

template <class T>
struct Fwht {
    static constexpr int W = lanes_of<T, simd::Isa::vec_bytes>();
    using V = Vec<T, W>;
    using B = Vec<Bits<T>, W>;

    // Lane pairs (l, l ^ H): partner + v in the lower lane, partner - v in the
    // upper one, as one fma with +-1 (exact product, one rounding: the same
    // bits as the add or subtract; 2 instructions per stage instead of 3).
    template <int H, std::size_t... I>
    static V in_vector_stage(V v, std::index_sequence<I...>) {
        const V partner = __builtin_shufflevector(v, v, static_cast<int>(I ^ H)...);
        const V sign{((I & H) ? T(-1) : T(1))...};
        return fmadd(v, sign, partner);
    }

    template <int H>
    static void in_vector_stages(V& v) {
        if constexpr (H < W) {
            v = in_vector_stage<H>(v, std::make_index_sequence<W>{});
            in_vector_stages<2 * H>(v);
        }
    }

    // The butterflies of stages s = 1, 2, .., M/2 between the M vectors v[m]
    // and v[m | s] (M = 2^R), in increasing s.
    template <int M>
    static void butterflies(V* v) {
#pragma GCC unroll 4
        for (int s = 1; s < M; s <<= 1)
#pragma GCC unroll 16
            for (int m = 0; m < M; ++m)
                if (!(m & s)) {
                    const V x = v[m], y = v[m | s];
                    v[m] = x + y;
                    v[m | s] = x - y;
                }
    }

    // Stages h, 2h, ..., 2^(R-1) h (h >= W) over a[0, len), len % (2^R h) == 0.
    template <int R>
    static void pass(T* a, std::int64_t len, std::int64_t h) {
        constexpr int M = 1 << R;
        for (std::int64_t g = 0; g < len; g += M * h) {
            for (std::int64_t o = 0; o < h; o += W) {
                T* p = a + g + o;
                V v[M];
#pragma GCC unroll 8
                for (int m = 0; m < M; ++m) v[m] = load<V>(p + m * h);
                butterflies<M>(v);
#pragma GCC unroll 8
                for (int m = 0; m < M; ++m) store(p + m * h, v[m]);
            }
        }
    }

    // Stages h in [h0, h1) (powers of two, h0 >= W) over a[0, len).
    static void cross_stages(T* a, std::int64_t len, std::int64_t h0, std::int64_t h1) {
        std::int64_t h = h0;
        while (h < h1) {
            if (h * 8 <= h1) {
                pass<3>(a, len, h);
                h *= 8;
            } else if (h * 4 <= h1) {
                pass<2>(a, len, h);
                h *= 4;
            } else {
                pass<1>(a, len, h);
                h *= 2;
            }
        }
    }

    // Short arrays, a stage at a time: n < kGroup.
    static void run_short(T* a, std::int64_t n) {
        if (n < W) {
            for (std::int64_t h = 1; h < n; h *= 2)
                for (std::int64_t g = 0; g < n; g += 2 * h)
                    for (std::int64_t i = g; i < g + h; ++i) {
                        const T x = a[i], y = a[i + h];
                        a[i] = x + y;
                        a[i + h] = x - y;
                    }
            return;
        }
        for (std::int64_t i = 0; i < n; i += W) {
            V v = load<V>(a + i);
            in_vector_stages<1>(v);
            store(a + i, v);
        }
        cross_stages(a, n, W, n);
    }

    // Groups of 8 vectors take stages h < 8W in registers, straight from
    // load(g0, v) (the source of elements [g0, g0 + kGroup)) into out; then
    // blocks of kBlock elements take the stages up to kBlock while in L1,
    // and the whole array the rest.
    static constexpr std::int64_t kGroup = 8 * W;

    template <class Load>
    static void run_groups(T* out, std::int64_t n, Load&& load_group) {
        const std::int64_t block = std::min(n, kBlock);
        for (std::int64_t b0 = 0; b0 < n; b0 += block) {
            for (std::int64_t g0 = b0; g0 < b0 + block; g0 += kGroup) {
                V v[8];
                load_group(g0, v);
#pragma GCC unroll 8
                for (int m = 0; m < 8; ++m) in_vector_stages<1>(v[m]);
                butterflies<8>(v);
#pragma GCC unroll 8
                for (int m = 0; m < 8; ++m) store(out + g0 + m * W, v[m]);
            }
            cross_stages(out + b0, block, kGroup, block);
        }
        cross_stages(out, n, block, n);
    }

    static void run(T* a, int log2n) {
        const std::int64_t n = std::int64_t(1) << log2n;
        if (n < kGroup) return run_short(a, n);
        run_groups(a, n, [a](std::int64_t g0, V* v) {
            for (int m = 0; m < 8; ++m) v[m] = load<V>(a + g0 + m * W);
        });
    }

    static T flipped(T x, T flip) { return bit_cast<T>(bit_cast<Bits<T>>(x) ^ bit_cast<Bits<T>>(flip)); }

    // Copying with the signs is fused into the first stages (the row goes
    // straight into registers), and the next row is prefetched meanwhile:
    // reading X was most of the time (docs/tuning.md, "SRHT: fused copy and transform").
    static void signed_run(const T* x, std::int64_t cs, std::int64_t d, const T* flip, int log2n, T* buf,
                           const T* next) {
        const std::int64_t n = std::int64_t(1) << log2n;
        if (n < kGroup) {
            for (std::int64_t j = 0; j < n; ++j) buf[j] = j < d ? flipped(x[j * cs], flip[j]) : T(0);
            return run_short(buf, n);
        }
        run_groups(buf, n, [=](std::int64_t g0, V* v) {
            if (cs == 1 && g0 + kGroup <= d) {
                if (next)
                    for (std::int64_t b = 0; b < kGroup * std::int64_t(sizeof(T)); b += 64)
                        __builtin_prefetch(reinterpret_cast<const char*>(next + g0) + b);
                for (int m = 0; m < 8; ++m)
                    v[m] = bit_cast<V>(bit_cast<B>(load<V>(x + g0 + m * W)) ^ bit_cast<B>(load<V>(flip + g0 + m * W)));
                return;
            }
            T part[kGroup];
            for (std::int64_t j = 0; j < kGroup; ++j)
                part[j] = g0 + j < d ? flipped(x[(g0 + j) * cs], flip[g0 + j]) : T(0);
            for (int m = 0; m < 8; ++m) v[m] = load<V>(part + m * W);
        });
    }

    // The sampled sums for the lanes of s_lanes (SU, VT, BT: one lane or W).
    template <class SU, class VT, class BT>
    static VT signed_sum(const T* vals, const std::uint32_t* cols, std::int64_t nnz, SU s_lanes) {
        VT acc{};
        for (std::int64_t t = 0; t < nnz; ++t) {
            SU p = s_lanes & cols[t];
            p ^= p >> 16;
            p ^= p >> 8;
            p ^= p >> 4;
            p ^= p >> 2;
            p ^= p >> 1;
            BT odd;
            if constexpr (std::is_integral_v<SU>) odd = static_cast<BT>(p & 1u);
            else odd = __builtin_convertvector(p & 1u, BT);
            acc += bit_cast<VT>((BT{} + bit_cast<Bits<T>>(vals[t])) ^ (odd << (sizeof(T) * 8 - 1)));
        }
        return acc;
    }

    static void sampled_sum(const T* vals, const std::uint32_t* cols, std::int64_t nnz, const std::uint32_t* s,
                            std::int64_t k, T* y) {
        std::int64_t c = 0;
        for (; c + W <= k; c += W)
            store(y + c, signed_sum<Vec<std::uint32_t, W>, V, B>(vals, cols, nnz, load<Vec<std::uint32_t, W>>(s + c)));
        for (; c < k; ++c) y[c] = signed_sum<std::uint32_t, T, Bits<T>>(vals, cols, nnz, s[c]);
    }
};

}  // namespace

FwhtKernels<float> fwht_kernels32() {
    return {&Fwht<float>::run, &Fwht<float>::signed_run, &Fwht<float>::sampled_sum};
}
FwhtKernels<double> fwht_kernels64() {
    return {&Fwht<double>::run, &Fwht<double>::signed_run, &Fwht<double>::sampled_sum};
}

}  // namespace logsketch::jl::LOGSKETCH_ISA
