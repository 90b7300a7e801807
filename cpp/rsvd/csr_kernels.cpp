// CSR x row-major panel, written once over simd/lanes.hpp's vectors and
// compiled per SIMD level.  Each output row keeps up to kChunk vectors of
// accumulators in registers while it walks its nonzeros, gathering one panel
// row per nonzero; wider panels take several passes over the row's nonzeros.
#include "../simd/unit.hpp"

#include <cstdint>

#include "../simd/lanes.hpp"
#include "csr_kernels.hpp"

namespace logsketch::rsvd::LOGSKETCH_ISA {
namespace {

using namespace logsketch::simd;

template <class T, class I>
struct Csr {
    static constexpr int W = lanes_of<T, simd::Isa::vec_bytes>();
    static constexpr int kChunk = 8;  // accumulators: half the registers at AVX2, a quarter at AVX-512
    using V = Vec<T, W>;

    template <int NV>
    static void row_chunk(const T* data, const I* indices, std::int64_t b, std::int64_t e, const T* x, T* y,
                          std::int64_t ld, bool accumulate) {
        V acc[NV] = {};
        if (accumulate) {
#pragma GCC unroll 16
            for (int v = 0; v < NV; ++v) acc[v] = load<V>(y + v * W);
        }
        for (std::int64_t t = b; t < e; ++t) {
            const V a = splat<V>(data[t]);
            const T* row = x + static_cast<std::int64_t>(indices[t]) * ld;
#pragma GCC unroll 16
            for (int v = 0; v < NV; ++v) acc[v] = fmadd(a, load<V>(row + v * W), acc[v]);
        }
#pragma GCC unroll 16
        for (int v = 0; v < NV; ++v) store(y + v * W, acc[v]);
    }

    // The last, narrower chunk of a row: NV picked at run time.
    template <int NV = kChunk>
    static void row_tail(int nv, const T* data, const I* indices, std::int64_t b, std::int64_t e, const T* x, T* y,
                         std::int64_t ld, bool accumulate) {
        if constexpr (NV >= 1) {
            if (nv == NV) return row_chunk<NV>(data, indices, b, e, x, y, ld, accumulate);
            return row_tail<NV - 1>(nv, data, indices, b, e, x, y, ld, accumulate);
        }
    }

    static void rows(const T* data, const I* indices, const std::int64_t* bounds, std::int64_t stride,
                     std::int64_t r0, std::int64_t r1, const T* x, T* y, std::int64_t ld, bool accumulate) {
        const std::int64_t vectors = ld / W;
        for (std::int64_t i = r0; i < r1; ++i) {
            const std::int64_t b = bounds[i * stride], e = bounds[i * stride + 1];
            std::int64_t v = 0;
            for (; v + kChunk <= vectors; v += kChunk)
                row_chunk<kChunk>(data, indices, b, e, x + v * W, y + i * ld + v * W, ld, accumulate);
            if (v < vectors)
                row_tail(static_cast<int>(vectors - v), data, indices, b, e, x + v * W, y + i * ld + v * W, ld,
                         accumulate);
        }
    }
};

}  // namespace

CsrKernels<float> csr_kernels32() { return {&Csr<float, std::int32_t>::rows, &Csr<float, std::int64_t>::rows}; }
CsrKernels<double> csr_kernels64() { return {&Csr<double, std::int32_t>::rows, &Csr<double, std::int64_t>::rows}; }

}  // namespace logsketch::rsvd::LOGSKETCH_ISA
