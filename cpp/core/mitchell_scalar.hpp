// One element of Mitchell multiply/divide, branch-free, exactly as defined.
//
// Written with selects only, so the same source vectorises in every per-ISA
// translation unit that includes it (mitchell_elementwise_kernels.cpp) and serves
// as the reference-exact definition in C++, on the host and in the CUDA
// kernels (cuda/mitchell/mitchell_device.cuh).  Internal linkage (static): each
// per-ISA translation unit keeps its own copy, so the linker can never hand an
// AVX-512 build of it to the baseline path.
#pragma once

#include "host_device.hpp"
#include "mitchell_formats.hpp"

namespace logsketch::mitchell {

// Clamp a shifted Mitchell sum (see kOffset) to a magnitude: 0 on underflow,
// inf on overflow, the sum itself otherwise.
template <class F>
LOGSKETCH_HD static inline typename F::Wide clamp_shifted(typename F::Wide t) {
    using W = typename F::Wide;
    const W mag = t - kOffset<F>;
    const W capped = mag < F::kInf ? mag : F::kInf;
    return t < kOffset<F> + F::kMinNormal ? W(0) : capped;
}

template <class F>
LOGSKETCH_HD static inline typename F::Bits mul_one(typename F::Bits a, typename F::Bits b, typename F::Wide addend) {
    using W = typename F::Wide;
    const W ua = a, ub = b;
    const W sign = (ua ^ ub) & F::kSign;
    const W A = ua & F::kMag, B = ub & F::kMag;
    const bool zero = (A < F::kMinNormal) | (B < F::kMinNormal);
    const bool inf = (A == F::kInf) | (B == F::kInf);
    const bool nan = (A > F::kInf) | (B > F::kInf) | (inf & zero);
    W mag = clamp_shifted<F>(A + B + addend);
    mag = zero ? W(0) : mag;
    mag = inf ? F::kInf : mag;
    const W bits = nan ? F::kQuietNan : (sign | mag);
    return static_cast<typename F::Bits>(bits);
}

template <class F>
LOGSKETCH_HD static inline typename F::Bits div_one(typename F::Bits a, typename F::Bits b, typename F::Wide addend) {
    using W = typename F::Wide;
    const W ua = a, ub = b;
    const W sign = (ua ^ ub) & F::kSign;
    const W A = ua & F::kMag, B = ub & F::kMag;
    const bool a_zero = A < F::kMinNormal, b_zero = B < F::kMinNormal;
    const bool a_inf = A == F::kInf, b_inf = B == F::kInf;
    const bool nan = (A > F::kInf) | (B > F::kInf) | (a_zero & b_zero) | (a_inf & b_inf);
    W mag = clamp_shifted<F>(A - B + addend);
    mag = (a_zero | b_inf) ? W(0) : mag;
    mag = (a_inf | b_zero) ? F::kInf : mag;
    const W bits = nan ? F::kQuietNan : (sign | mag);
    return static_cast<typename F::Bits>(bits);
}

}  // namespace logsketch::mitchell
