// The micro-kernels, written once with GCC/Clang vector extensions and
// compiled per SIMD level (LOGSKETCH_ISA names the level; simd::Isa gives
// the vector width in bytes and the tile shape).  The
// accumulators are MV x NR vectors kept in registers; unrolled loops let the
// compiler allocate them and fold the broadcasts of B into the adds.
#include "../simd/unit.hpp"

#include <cstdint>
#include <cstring>

#include "mitchell_gemm_kernels.hpp"

namespace logsketch::mitchell::LOGSKETCH_ISA {
namespace {

template <class U, class Acc>
struct Vec;

template <>
struct Vec<std::uint32_t, float> {
    static constexpr int kBytes = simd::Isa::vec_bytes < 4 ? 4 : simd::Isa::vec_bytes;
    typedef std::uint32_t U __attribute__((vector_size(kBytes)));
    typedef float F __attribute__((vector_size(kBytes)));
    static constexpr int kLanes = kBytes / 4;
};

template <>
struct Vec<std::uint64_t, double> {
    static constexpr int kBytes = simd::Isa::vec_bytes < 8 ? 8 : simd::Isa::vec_bytes;
    typedef std::uint64_t U __attribute__((vector_size(kBytes)));
    typedef double F __attribute__((vector_size(kBytes)));
    static constexpr int kLanes = kBytes / 8;
};

template <class V>
inline V load(const void* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
}

template <class U, class Acc, int MV, int NR>
void fast_kernel(std::int64_t kc, const U* a, const U* b, Acc* tile) {
    using VU = typename Vec<U, Acc>::U;
    using VF = typename Vec<U, Acc>::F;
    constexpr int W = Vec<U, Acc>::kLanes, MR = MV * W;
    VF acc[MV][NR];
    for (int j = 0; j < NR; ++j)
        for (int v = 0; v < MV; ++v) acc[v][j] = load<VF>(tile + j * MR + v * W);
    for (std::int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
        VU av[MV];
#pragma GCC unroll 8
        for (int v = 0; v < MV; ++v) av[v] = load<VU>(a + v * W);
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) {
            const U bj = b[j];
#pragma GCC unroll 8
            for (int v = 0; v < MV; ++v) acc[v][j] += (VF)(av[v] + bj);
        }
    }
    for (int j = 0; j < NR; ++j)
        for (int v = 0; v < MV; ++v) std::memcpy(tile + j * MR + v * W, &acc[v][j], sizeof(VF));
}

template <class U, class Acc, int MV, int NR>
void fast_masked_kernel(std::int64_t kc, const U* a, const U* b, Acc* tile) {
    using VU = typename Vec<U, Acc>::U;
    using VF = typename Vec<U, Acc>::F;
    constexpr int W = Vec<U, Acc>::kLanes, MR = MV * W;
    constexpr U kMag = ~U(0) >> 1;
    VF acc[MV][NR];
    for (int j = 0; j < NR; ++j)
        for (int v = 0; v < MV; ++v) acc[v][j] = load<VF>(tile + j * MR + v * W);
    for (std::int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
        VU av[MV], nonzero[MV];
#pragma GCC unroll 8
        for (int v = 0; v < MV; ++v) {
            av[v] = load<VU>(a + v * W);
            nonzero[v] = (VU)((av[v] & kMag) != 0);  // packing flushed subnormals to zero
        }
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) {
            const U bj = b[j];
#pragma GCC unroll 8
            for (int v = 0; v < MV; ++v) acc[v][j] += (VF)((av[v] + bj) & nonzero[v]);
        }
    }
    for (int j = 0; j < NR; ++j)
        for (int v = 0; v < MV; ++v) std::memcpy(tile + j * MR + v * W, &acc[v][j], sizeof(VF));
}

template <class U, class Acc, int MV, int NR>
void general_kernel(std::int64_t kc, const U* a, const U* b, Acc* tile, const ClampConsts<U>& c) {
    using VU = typename Vec<U, Acc>::U;
    using VF = typename Vec<U, Acc>::F;
    constexpr int W = Vec<U, Acc>::kLanes, MR = MV * W;
    constexpr U kSign = U(1) << (sizeof(U) * 8 - 1);
    VF acc[MV][NR];
    for (int j = 0; j < NR; ++j)
        for (int v = 0; v < MV; ++v) acc[v][j] = load<VF>(tile + j * MR + v * W);
    for (std::int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
        VU amag[MV], asign[MV], anz[MV];
#pragma GCC unroll 8
        for (int v = 0; v < MV; ++v) {
            const VU raw = load<VU>(a + v * W);
            amag[v] = raw & (kSign - 1);
            asign[v] = raw & kSign;
            // Packing flushed subnormals to zero, so "nonzero" is a test against 0.
            anz[v] = (VU)(amag[v] != 0);
        }
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) {
            const U braw = b[j] - c.bias_delta, bmag = braw & (kSign - 1);
            const U bm = bmag + c.addend, bs = braw & kSign, bnz = bmag != 0 ? ~U(0) : U(0);
#pragma GCC unroll 8
            for (int v = 0; v < MV; ++v) {
                const VU t = amag[v] + bm;
                VU mag = t >= c.overflow ? VU{} + c.inf : t - c.offset;
                mag = t >= c.underflow ? mag : VU{};
                const VU bits = (mag & anz[v] & bnz) | (asign[v] ^ bs);
                acc[v][j] += (VF)bits;
            }
        }
    }
    for (int j = 0; j < NR; ++j)
        for (int v = 0; v < MV; ++v) std::memcpy(tile + j * MR + v * W, &acc[v][j], sizeof(VF));
}

}  // namespace

GemmKernels<std::uint32_t, float> gemm_kernels32() {
    constexpr int W = Vec<std::uint32_t, float>::kLanes;
    return {simd::Isa::MitchellGemm::mv32 * W, simd::Isa::MitchellGemm::nr32, &fast_kernel<std::uint32_t, float, simd::Isa::MitchellGemm::mv32, simd::Isa::MitchellGemm::nr32>,
            &fast_masked_kernel<std::uint32_t, float, simd::Isa::MitchellGemm::mv32, simd::Isa::MitchellGemm::nr32>,
            &general_kernel<std::uint32_t, float, simd::Isa::MitchellGemm::mv32, simd::Isa::MitchellGemm::nr32>};
}

GemmKernels<std::uint64_t, double> gemm_kernels64() {
    constexpr int W = Vec<std::uint64_t, double>::kLanes;
    return {simd::Isa::MitchellGemm::mv64 * W, simd::Isa::MitchellGemm::nr64, &fast_kernel<std::uint64_t, double, simd::Isa::MitchellGemm::mv64, simd::Isa::MitchellGemm::nr64>,
            &fast_masked_kernel<std::uint64_t, double, simd::Isa::MitchellGemm::mv64, simd::Isa::MitchellGemm::nr64>,
            &general_kernel<std::uint64_t, double, simd::Isa::MitchellGemm::mv64, simd::Isa::MitchellGemm::nr64>};
}

}  // namespace logsketch::mitchell::LOGSKETCH_ISA
