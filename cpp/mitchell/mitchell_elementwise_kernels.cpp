// The 1-D elementwise loops, compiled once per SIMD level.
//
// Each copy is built with its level's target flags and LOGSKETCH_ISA set; the
// loops are branch-free
// selects over integers (mitchell_scalar.hpp), which the compiler vectorises at
// the width the target allows.  The contiguous and one-side-broadcast cases get
// their own loops so they vectorise without gathers.
#include "../simd/unit.hpp"

#include <cstdint>
#include <cstring>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "mitchell.hpp"
#include "mitchell_elementwise_kernels.hpp"
#include "../core/mitchell_scalar.hpp"

namespace logsketch::mitchell::LOGSKETCH_ISA {
namespace {

template <class F, bool Divide>
inline typename F::Bits apply(typename F::Bits a, typename F::Bits b, typename F::Wide addend) {
    if constexpr (Divide) return div_one<F>(a, b, addend);
    else return mul_one<F>(a, b, addend);
}

// A block of unit-stride (or, with stride 0, broadcast) operands.  Most data
// is normal numbers whose results are normal: then the result's bits are a
// plain wrapping add (the sign bits add to their xor), so each block first
// reduces its operands' magnitude range (4 min/max per element) and, when that
// range proves every result normal, writes a +- b + delta; otherwise it runs the
// full branch-free definition (the gain: docs/tuning.md, "Elementwise: fast path for all-normal blocks").
constexpr std::int64_t kBlockBytes = 4096;

template <class F, bool Divide, int SA, int SB>
void block(std::int64_t n, const typename F::Bits* a, const typename F::Bits* b, typename F::Bits* o,
           typename F::Wide addend) {
    using Bits = typename F::Bits;
    using W = typename F::Wide;
    Bits amin = static_cast<Bits>(F::kMag), amax = 0, bmin = static_cast<Bits>(F::kMag), bmax = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const Bits A = a[i * SA] & static_cast<Bits>(F::kMag), B = b[i * SB] & static_cast<Bits>(F::kMag);
        amin = A < amin ? A : amin;
        amax = A > amax ? A : amax;
        bmin = B < bmin ? B : bmin;
        bmax = B > bmax ? B : bmax;
    }
    const bool normal_in = amin >= F::kMinNormal && bmin >= F::kMinNormal && amax < F::kInf && bmax < F::kInf;
    // Extreme shifted sums (no wrap for normal operands: mitchell_formats.hpp).
    const W lo = Divide ? W(amin) - bmax + addend : W(amin) + bmin + addend;
    const W hi = Divide ? W(amax) - bmin + addend : W(amax) + bmax + addend;
    if (normal_in && lo >= kOffset<F> + F::kMinNormal && hi < kOffset<F> + F::kInf) {
        const Bits delta = static_cast<Bits>(addend - kOffset<F>);
        for (std::int64_t i = 0; i < n; ++i) {
            o[i] = Divide ? Bits(a[i * SA] - b[i * SB] + delta) : Bits(a[i * SA] + b[i * SB] + delta);
        }
        return;
    }
    for (std::int64_t i = 0; i < n; ++i) o[i] = apply<F, Divide>(a[i * SA], b[i * SB], addend);
}

template <class F, bool Divide, int SA, int SB>
void blocked(std::int64_t n, const typename F::Bits* a, const typename F::Bits* b, typename F::Bits* o,
             typename F::Wide addend) {
    constexpr std::int64_t kBlock = kBlockBytes / sizeof(typename F::Bits);
    for (std::int64_t i = 0; i < n; i += kBlock) {
        block<F, Divide, SA, SB>(n - i < kBlock ? n - i : kBlock, a + i * SA, b + i * SB, o + i, addend);
    }
}

#if defined(__AVX2__)
// Large contiguous outputs are written with non-temporal stores: each block is
// computed into an L1-resident buffer and streamed out, which skips the read
// for ownership of every output line (a quarter of the memory traffic; see
// docs/tuning.md, "Elementwise: non-temporal stores").
constexpr std::int64_t kStreamMinBytes = 1 << 18;

inline void stream_block(void* dst, const void* src, std::int64_t bytes) {
    auto* d = static_cast<__m256i*>(dst);
    const auto* s = static_cast<const __m256i*>(src);
    for (std::int64_t i = 0; i < bytes / 32; ++i) _mm256_stream_si256(d + i, _mm256_load_si256(s + i));
}

template <class F, bool Divide, int SA, int SB>
void blocked_streaming(std::int64_t n, const typename F::Bits* a, const typename F::Bits* b, typename F::Bits* o,
                       typename F::Wide addend) {
    using Bits = typename F::Bits;
    constexpr std::int64_t kBlock = kBlockBytes / sizeof(Bits);
    // Ordinary stores up to the first 64-byte boundary of the output.
    std::int64_t i = static_cast<std::int64_t>((64 - reinterpret_cast<std::uintptr_t>(o) % 64) % 64 / sizeof(Bits));
    i = i < n ? i : n;
    block<F, Divide, SA, SB>(i, a, b, o, addend);
    alignas(64) Bits buf[kBlock];
    for (; i + kBlock <= n; i += kBlock) {
        block<F, Divide, SA, SB>(kBlock, a + i * SA, b + i * SB, buf, addend);
        stream_block(o + i, buf, kBlockBytes);
    }
    blocked<F, Divide, SA, SB>(n - i, a + i * SA, b + i * SB, o + i, addend);
    _mm_sfence();
}
#endif

template <class F, bool Divide, int SA, int SB>
void unit_stride_out(std::int64_t n, const typename F::Bits* a, const typename F::Bits* b, typename F::Bits* o,
                     typename F::Wide addend) {
#if defined(__AVX2__)
    const bool disjoint = o != a && o != b;  // in place: the lines are in cache already
    // Only an item-aligned output can reach a 64-byte boundary in whole elements.
    const bool aligned = reinterpret_cast<std::uintptr_t>(o) % sizeof(*o) == 0;
    if (disjoint && aligned && n * std::int64_t(sizeof(*o)) >= kStreamMinBytes) {
        return blocked_streaming<F, Divide, SA, SB>(n, a, b, o, addend);
    }
#endif
    blocked<F, Divide, SA, SB>(n, a, b, o, addend);
}

template <class F, bool Divide>
void loop(std::int64_t n, const void* a_, std::int64_t sa, const void* b_, std::int64_t sb, void* o_,
          std::int64_t so, bool compensated) {
    using Bits = typename F::Bits;
    const Bits* a = static_cast<const Bits*>(a_);
    const Bits* b = static_cast<const Bits*>(b_);
    Bits* o = static_cast<Bits*>(o_);
    const auto addend = Divide ? div_addend<F>(compensated) : mul_addend<F>(compensated);
    if (so == 1 && sa == 1 && sb == 1) return unit_stride_out<F, Divide, 1, 1>(n, a, b, o, addend);
    if (so == 1 && sa == 1 && sb == 0) return unit_stride_out<F, Divide, 1, 0>(n, a, b, o, addend);
    if (so == 1 && sa == 0 && sb == 1) return unit_stride_out<F, Divide, 0, 1>(n, a, b, o, addend);
    for (std::int64_t i = 0; i < n; ++i) o[i * so] = apply<F, Divide>(a[i * sa], b[i * sb], addend);
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
