// Register-tiled micro-kernels of the Mitchell GEMM, one set per SIMD level.
//
// A micro-panel holds MR rows of A for kc steps ([k][MR], raw IEEE bits of the
// float32-domain value: float16 inputs are widened exactly while packing, which
// leaves the Mitchell sum unchanged: see mitchell_gemm.cpp).  A B micro-panel
// holds NR columns ([k][NR]).  Each kernel adds the products to the MR x NR
// tile (column-major, tile[j*MR + i]) one k at a time, in increasing k: every
// output element is a plain sequential sum, whatever the SIMD level, blocking
// or thread count, which makes the GEMM bit-identical to the reference.
#pragma once

#include <cstdint>

#include "../runtime/dispatch.hpp"

namespace logsketch::mitchell {

// The constants of one format's clamped sum, in the shifted domain of
// mitchell_formats.hpp: t = |A| + |B| + addend.
template <class U>
struct ClampConsts {
    U underflow;   // t below this: the product is 0
    U overflow;    // t at or above this: the product is inf
    U offset;      // t - offset is the product's magnitude
    U inf;         // inf's bit pattern in the working (wide) format
    U addend;      // t = |A| + |B| + addend
    U bias_delta;  // b_biased = bits(b) + bias_delta (the fast tier's packing)
};

// Fast tier: every product in the block is a normal number, so the product's
// bits are a wrapping add of the raw bits (the sign bits add to their xor):
// b_biased = bits(b) - bits(1.0) + compensation, tile = sum_k float(a + b_biased).
template <class U, class Acc>
using FastKernel = void (*)(std::int64_t kc, const U* a, const U* b_biased, Acc* tile);

// Fast tier with zeros in A (ReLU activations): as above, each product masked
// to +0 where a is zero; the sums are unchanged, since adding +0 or -0 to a sum
// that started at +0 gives the same bits.
// General tier: zeros, subnormals, underflow and overflow, branch-free.  Takes
// the same packed B as the fast tier and recovers |B|, its sign and its zero
// flag per broadcast (scalar work, shared by the MR/W vectors of the column).
template <class U, class Acc>
using GeneralKernel = void (*)(std::int64_t kc, const U* a, const U* b_biased, Acc* tile, const ClampConsts<U>& c);

template <class U, class Acc>
struct GemmKernels {
    int mr, nr;
    FastKernel<U, Acc> fast;
    FastKernel<U, Acc> fast_masked;
    GeneralKernel<U, Acc> general;
};

// One set per SIMD level (mitchell_gemm_kernels.cpp).
LOGSKETCH_DECLARE_PER_ISA(GemmKernels<std::uint32_t, float> gemm_kernels32();
                          GemmKernels<std::uint64_t, double> gemm_kernels64();)

}  // namespace logsketch::mitchell
