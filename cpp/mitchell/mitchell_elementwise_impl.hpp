// The 1-D elementwise loops, compiled once per SIMD level.
//
// Included by mitchell_elementwise_{scalar,avx2,avx512}.cpp, each built with
// its own target flags and defining LOGSKETCH_ISA; the loops are branch-free
// selects over integers (mitchell_scalar.hpp), which the compiler vectorises at
// the width the target allows.  The contiguous and one-side-broadcast cases get
// their own loops so they vectorise without gathers.
#pragma once

#include <cstdint>

#include "mitchell.hpp"
#include "mitchell_elementwise_kernels.hpp"
#include "mitchell_scalar.hpp"

namespace logsketch::mitchell::LOGSKETCH_ISA {
namespace {

template <class F, bool Divide>
inline typename F::Bits apply(typename F::Bits a, typename F::Bits b, typename F::Wide addend) {
    if constexpr (Divide) return div_one<F>(a, b, addend);
    else return mul_one<F>(a, b, addend);
}

template <class F, bool Divide>
void loop(std::int64_t n, const void* a_, std::int64_t sa, const void* b_, std::int64_t sb, void* o_,
          std::int64_t so, bool compensated) {
    using Bits = typename F::Bits;
    const Bits* a = static_cast<const Bits*>(a_);
    const Bits* b = static_cast<const Bits*>(b_);
    Bits* o = static_cast<Bits*>(o_);
    const auto addend = Divide ? div_addend<F>(compensated) : mul_addend<F>(compensated);
    if (so == 1 && sa == 1 && sb == 1) {
        for (std::int64_t i = 0; i < n; ++i) o[i] = apply<F, Divide>(a[i], b[i], addend);
    } else if (so == 1 && sa == 1 && sb == 0) {
        const Bits bv = *b;
        for (std::int64_t i = 0; i < n; ++i) o[i] = apply<F, Divide>(a[i], bv, addend);
    } else if (so == 1 && sa == 0 && sb == 1) {
        const Bits av = *a;
        for (std::int64_t i = 0; i < n; ++i) o[i] = apply<F, Divide>(av, b[i], addend);
    } else {
        for (std::int64_t i = 0; i < n; ++i) o[i * so] = apply<F, Divide>(a[i * sa], b[i * sb], addend);
    }
}

template <class F>
BinaryLoop pick(BinaryOp op) {
    return op == BinaryOp::divide ? &loop<F, true> : &loop<F, false>;
}

}  // namespace

BinaryLoop binary_loop(Dtype dtype, BinaryOp op) {
    switch (dtype) {
        case Dtype::float16: return pick<Float16Format>(op);
        case Dtype::float32: return pick<Float32Format>(op);
        default: return pick<Float64Format>(op);
    }
}

}  // namespace logsketch::mitchell::LOGSKETCH_ISA
