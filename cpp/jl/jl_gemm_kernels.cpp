// The gaussian kind's micro-kernels: a register tile of MR rows of X times NR
// generated columns of Z^T, written once over simd/lanes.hpp's vectors and
// compiled per SIMD level (simd::Isa::JlGemm sets the tile shape).
// One explicit fma per product (the scalar level, which may not assume FMA
// hardware, rounds product and sum separately), in increasing p per element.
#include "../simd/unit.hpp"

#include <cstdint>

#include "../simd/lanes.hpp"
#include "jl_kernels.hpp"

namespace logsketch::jl::LOGSKETCH_ISA {
namespace {

using namespace logsketch::simd;

template <class T, int MR, int NV>
void gemm(std::int64_t kc, const T* x, std::int64_t ldx, const T* r, T* c, std::int64_t ldc, bool accumulate, bool last,
          T scale) {
    constexpr int W = lanes_of<T, simd::Isa::vec_bytes>();
    constexpr int NR = NV * W;
    using V = Vec<T, W>;
    V acc[MR][NV] = {};
    for (std::int64_t p = 0; p < kc; ++p, r += NR) {
        V rv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) rv[v] = load<V>(r + v * W);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
            const V xi = splat<V>(x[i * ldx + p]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[i][v] = fmadd(xi, rv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
            T* ci = c + i * ldc + v * W;
            const V sum = accumulate ? load<V>(ci) + acc[i][v] : acc[i][v];
            store(ci, last ? sum * scale : sum);
        }
}

// One row of sparse X times Z^T: the output chunk stays in registers while
// the row's nonzeros stream past, instead of an axpy per nonzero over the whole
// output row (docs/tuning.md, "Gaussian kind: sparse rows against Zᵀ").
template <class T>
void sparse_rows(std::int64_t k, std::int64_t nnz, const T* vals, const T* const* rows, T* y, bool first, bool last,
                 T scale) {
    constexpr int W = lanes_of<T, simd::Isa::vec_bytes>();
    constexpr int NV = 8;  // 8 independent fma chains cover the fma latency
    using V = Vec<T, W>;
    std::int64_t c = 0;
    for (; c + NV * W <= k; c += NV * W) {
        V acc[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[v] = first ? V{} : load<V>(y + c + v * W);
        for (std::int64_t t = 0; t < nnz; ++t) {
            const V a = splat<V>(vals[t]);
            const T* r = rows[t] + c;
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[v] = fmadd(a, load<V>(r + v * W), acc[v]);
        }
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) store(y + c + v * W, last ? acc[v] * scale : acc[v]);
    }
    for (; c < k; ++c) {
        T acc = first ? T(0) : y[c];
        for (std::int64_t t = 0; t < nnz; ++t) acc = fmadd(vals[t], rows[t][c], acc);
        y[c] = last ? acc * scale : acc;
    }
}

}  // namespace

GemmKernels<float> gemm_kernels32() {
    constexpr int W = lanes_of<float, simd::Isa::vec_bytes>();
    return {simd::Isa::JlGemm::mr32, simd::Isa::JlGemm::nv32 * W, &gemm<float, simd::Isa::JlGemm::mr32, simd::Isa::JlGemm::nv32>,
            &sparse_rows<float>};
}

GemmKernels<double> gemm_kernels64() {
    constexpr int W = lanes_of<double, simd::Isa::vec_bytes>();
    return {simd::Isa::JlGemm::mr64, simd::Isa::JlGemm::nv64 * W, &gemm<double, simd::Isa::JlGemm::mr64, simd::Isa::JlGemm::nv64>,
            &sparse_rows<double>};
}

}  // namespace logsketch::jl::LOGSKETCH_ISA
