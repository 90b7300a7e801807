// Blocked Mitchell GEMM: packing, cache blocking, tier choice and threads.
//
// The structure is a classic SGEMM's (Goto/BLIS): for each NC-wide block of
// columns and KC-deep slice of k, B is packed once into NR-wide micro-panels;
// each MC-tall block of rows of A is packed into MR-tall micro-panels, and the
// micro-kernel runs over every (A panel, B panel) pair.  What differs is the
// "multiply": an integer add of bit patterns, whose edge cases (zeros,
// subnormals, under/overflow, inf, NaN) are handled per block, not per element:
// packing records each micro-panel's magnitude range and whether it holds zeros
// or specials, and each (A panel, B panel) pair then runs
//   - the fast tier (one integer add + one float add per product) when every
//     product is provably a normal number, or zero because a is (one more and),
//   - the general tier (branch-free clamping) when zeros or under/overflow are
//     possible but no inf/NaN is present,
//   - an exact scalar loop when a panel holds inf or NaN.
// All three produce the same bits, and each output element is summed in
// increasing k from +0 (the micro-kernels continue from the partial sums of the
// previous KC slice), so results equal the reference bit for bit and do not
// depend on the SIMD level, blocking or thread count.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "../runtime/precondition.hpp"
#include "../runtime/cpu_features.hpp"
#include "../runtime/scratch.hpp"
#include "../runtime/threads.hpp"
#include "mitchell.hpp"
#include "../core/mitchell_formats.hpp"
#include "mitchell_gemm_kernels.hpp"

namespace logsketch::mitchell {
namespace {

// KC = 256: an AVX-512 B micro-panel (12 x 256 x 4 B = 12 KiB) stays in L1 and
// an A block (192 x 256 x 4 B) in L2.
constexpr std::int64_t kKC = 256;
constexpr std::int64_t kMCRows = 192;
constexpr std::int64_t kNCCols = 2048;
// Below this many products per matrix, a batch is spread over threads whole.
constexpr std::int64_t kSmallGemm = 1 << 21;

// What packing learned about one micro-panel.
template <class U>
struct PanelInfo {
    bool has_zero = false;     // a zero or (flushed) subnormal
    bool has_special = false;  // an inf or NaN
    U min_mag = std::numeric_limits<U>::max();
    U max_mag = 0;

    void add(U bits, U inf) {
        const U mag = bits & (std::numeric_limits<U>::max() >> 1);
        if (mag == 0) has_zero = true;
        else if (mag >= inf) has_special = true;
        else {
            min_mag = std::min(min_mag, mag);
            max_mag = std::max(max_mag, mag);
        }
    }
};

// The working format: float16 and float32 inputs both run in float32 bit
// patterns (widening a normal float16 to float32 maps bits(x) to
// (bits(x) << 13) + 0x38000000, so A + B - bits(1.0) is the same number in
// either domain, shifted by 13 bits); only the clamping thresholds and the
// compensation differ.
template <class U>
struct Working {
    U addend;      // the shifted-domain addend: t = |A| + |B| + addend
    ClampConsts<U> clamp;
    U bias_delta;  // bits(b) + bias_delta = the packed (biased) B, wrapping
    U quiet_nan;
};

Working<std::uint32_t> working_f32(bool compensated, bool from_f16) {
    using F = Float32Format;
    const std::uint32_t comp = !compensated ? 0u : from_f16 ? (Float16Format::kMulComp << 13) : F::kMulComp;
    const std::uint32_t off = kOffset<F>;
    const std::uint32_t lo = from_f16 ? 0x38800000u : F::kMinNormal;  // 2^-14 or 2^-126
    const std::uint32_t hi = from_f16 ? 0x47800000u : F::kInf;        // 2^16 or inf
    const std::uint32_t addend = off - F::kOne + comp;
    return {addend, {off + lo, off + hi, off, F::kInf, addend, comp - F::kOne}, comp - F::kOne, F::kQuietNan};
}

Working<std::uint64_t> working_f64(bool compensated) {
    using F = Float64Format;
    const std::uint64_t comp = compensated ? F::kMulComp : 0;
    const std::uint64_t off = kOffset<F>;
    const std::uint64_t addend = off - F::kOne + comp;
    return {addend, {off + F::kMinNormal, off + F::kInf, off, F::kInf, addend, comp - F::kOne}, comp - F::kOne,
            F::kQuietNan};
}

// Element loaders: input bits -> working bits, subnormals flushed to signed zero.
struct LoadF32 {
    using In = std::uint32_t;
    static std::uint32_t get(In x) {
        return (x & 0x7FFFFFFFu) < 0x00800000u ? (x & 0x80000000u) : x;
    }
};
struct LoadF16 {
    using In = std::uint16_t;
    static std::uint32_t get(In h) {
        const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
        const std::uint32_t mag = h & 0x7FFFu;
        if (mag < 0x0400u) return sign;                                 // zero, subnormal: flushed
        if (mag >= 0x7C00u) return sign | 0x7F800000u | ((mag & 0x3FFu) << 13);  // inf, NaN
        return sign | ((mag << 13) + 0x38000000u);
    }
};
struct LoadF64 {
    using In = std::uint64_t;
    static std::uint64_t get(In x) {
        return (x & 0x7FFFFFFFFFFFFFFFull) < 0x0010000000000000ull ? (x & 0x8000000000000000ull) : x;
    }
};

// float32 -> float16, round to nearest even, as numpy's astype.
std::uint16_t to_half(float value) {
    std::uint32_t f;
    std::memcpy(&f, &value, 4);
    const std::uint32_t sign = (f >> 16) & 0x8000u;
    const std::uint32_t mag = f & 0x7FFFFFFFu;
    if (mag >= 0x7F800000u) {  // inf or NaN (keep NaN a NaN)
        if (mag == 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7C00u);
        const std::uint32_t payload = (mag & 0x7FFFFFu) >> 13;
        return static_cast<std::uint16_t>(sign | 0x7C00u | (payload ? payload : 1u));
    }
    if (mag >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // rounds to inf
    if (mag < 0x38800000u) {                                                     // float16 subnormal or 0
        if (mag < 0x33000000u) return static_cast<std::uint16_t>(sign);           // below half the min subnormal
        const std::uint32_t shift = 126 - (mag >> 23) ;                           // 14..24
        const std::uint32_t mant = (mag & 0x7FFFFFu) | 0x800000u;
        std::uint32_t h = mant >> (shift - 0);
        const std::uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        // mant >> shift counts units of 2^-24 for shift = 126 - exponent (biased).
        if (rem > half || (rem == half && (h & 1u))) ++h;
        return static_cast<std::uint16_t>(sign | h);
    }
    std::uint32_t h = ((mag - 0x38000000u) >> 13);
    const std::uint32_t rem = mag & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
    return static_cast<std::uint16_t>(sign | h);
}

// One element of the product in the working domain, every case (the special
// tier's scalar path).
template <class U>
U product_bits(U a, U b, const Working<U>& w) {
    constexpr U kSign = U(1) << (sizeof(U) * 8 - 1);
    const U A = a & (kSign - 1), B = b & (kSign - 1), inf = w.clamp.inf;
    const bool zero = A == 0 || B == 0;
    const bool is_inf = A == inf || B == inf;
    if (A > inf || B > inf || (is_inf && zero)) return w.quiet_nan;
    const U sign = (a ^ b) & kSign;
    if (is_inf) return sign | inf;
    if (zero) return sign;
    const U t = A + B + w.addend;
    if (t < w.clamp.underflow) return sign;
    if (t >= w.clamp.overflow) return sign | inf;
    return sign | (t - w.clamp.offset);
}

template <class U, class Acc, class Load>
class Gemm {
  public:
    using In = typename Load::In;

    Gemm(const MatmulParams& p, const Working<U>& w, const GemmKernels<U, Acc>& kern)
        : p_(p), w_(w), kern_(kern), mr_(kern.mr), nr_(kern.nr) {
        mc_ = std::max<std::int64_t>(mr_, kMCRows / mr_ * mr_);
        std::memcpy(&quiet_nan_, &w_.quiet_nan, sizeof quiet_nan_);
        nc_ = (kNCCols + nr_ - 1) / nr_ * nr_;
    }

    // C (m x n, strides c_rs/c_cs) = A[t] B[t], using `threads` threads.  With
    // Out = Acc the sums accumulate in C itself.  With a narrower Out (float16)
    // they accumulate in float32 in a scratch of at most (threads x MC rows) x
    // NC columns: C is computed a row chunk of one column block at a time, and
    // each task narrows the part of the chunk it summed once the last k slice
    // is in.  Each element is still summed in increasing k from +0, so the
    // chunking changes no bit.  A cancelled call stops between row blocks.
    template <class Out>
    void run(std::int64_t t, Out* c, std::int64_t c_rs, std::int64_t c_cs, int threads) {
        constexpr bool kNarrow = sizeof(Out) < sizeof(Acc);
        const In* a = static_cast<const In*>(p_.a) + p_.a_offsets[t];
        const In* b = static_cast<const In*>(p_.b) + p_.b_offsets[t];
        const std::int64_t m = p_.m, n = p_.n, k = p_.k;
        const std::int64_t chunk = kNarrow ? std::min(m, mc_ * std::max(threads, 1)) : m;
        std::vector<Acc> sums(kNarrow ? static_cast<std::size_t>(chunk * std::min(nc_, n)) : 0);
        for (std::int64_t jc = 0; jc < n; jc += nc_) {
            const std::int64_t nc = std::min(nc_, n - jc);
            const std::int64_t n_panels = (nc + nr_ - 1) / nr_;
            for (std::int64_t r0 = 0; r0 < m; r0 += chunk) {
                const std::int64_t chunk_rows = std::min(chunk, m - r0);
                const In* const a0 = a + r0 * p_.a_rs;
                // Where this chunk's sums go: C itself, or the scratch (row-major, nc wide).
                Acc* acc;
                std::int64_t acc_rs, acc_cs;
                if constexpr (kNarrow) {
                    acc = sums.data();
                    acc_rs = nc;
                    acc_cs = 1;
                } else {
                    acc = c + r0 * c_rs + jc * c_cs;
                    acc_rs = c_rs;
                    acc_cs = c_cs;
                }
                for (std::int64_t pc = 0; pc < k; pc += kKC) {
                    const std::int64_t kc = std::min(kKC, k - pc);
                    const bool last = pc + kc == k;
                    pack_b(b, pc, kc, jc, nc, threads);
                    // Each thread takes an equal share of the A micro-panels (within one)
                    // and walks it in MC-row blocks; with fewer panels than threads the
                    // columns are split too (why not whole MC blocks:
                    // docs/tuning.md, "GEMM: work split over threads").
                    const std::int64_t m_panels = (chunk_rows + mr_ - 1) / mr_;
                    const std::int64_t row_parts = std::min<std::int64_t>(threads, m_panels);
                    const std::int64_t n_parts = std::clamp<std::int64_t>(threads / row_parts, 1, n_panels);
                    const std::int64_t block_panels = mc_ / mr_;
                    parallel_for(row_parts * n_parts, [&](std::int64_t task) {
                        const std::int64_t r = task / n_parts, part = task % n_parts;
                        const std::int64_t p0 = m_panels * r / row_parts, p1 = m_panels * (r + 1) / row_parts;
                        const std::int64_t jp0 = n_panels * part / n_parts, jp1 = n_panels * (part + 1) / n_parts;
                        for (std::int64_t ps = p0; ps < p1 && !cancellation_requested(); ps += block_panels) {
                            const std::int64_t ic = ps * mr_;
                            const std::int64_t rows = std::min(std::min(p1, ps + block_panels) * mr_, chunk_rows) - ic;
                            block(a0, ic, rows, pc, kc, nc, jp0, jp1, acc, acc_rs, acc_cs);
                        }
                        if constexpr (kNarrow) {
                            if (last) {
                                const std::int64_t i1 = std::min(p1 * mr_, chunk_rows);
                                const std::int64_t j0 = jp0 * nr_, j1 = std::min(jp1 * nr_, nc);
                                for (std::int64_t i = p0 * mr_; i < i1; ++i) {
                                    Out* row = c + (r0 + i) * c_rs + jc * c_cs;
                                    const Acc* src = acc + i * acc_rs;
                                    for (std::int64_t j = j0; j < j1; ++j) row[j * c_cs] = to_half(src[j]);
                                }
                            }
                        } else {
                            (void)last;
                        }
                    }, threads);
                }
            }
        }
    }

  private:
    void pack_b(const In* b, std::int64_t pc, std::int64_t kc, std::int64_t jc, std::int64_t nc, int threads) {
        const std::int64_t n_panels = (nc + nr_ - 1) / nr_;
        U* const packed = b_biased_ = thread_scratch<U, 0>(static_cast<std::size_t>(n_panels * nr_ * kc));
        b_info_.assign(n_panels, PanelInfo<U>{});
        const std::int64_t nr = nr_, rs = p_.b_rs, cs = p_.b_cs;
        const U delta = w_.bias_delta, inf = w_.clamp.inf;
        const In* const b0 = b + pc * rs + jc * cs;
        parallel_for(n_panels, [&, b0, packed, nr, rs, cs, delta, inf](std::int64_t jp) {
            PanelInfo<U> info;
            U* dst = packed + jp * nr * kc;
            const std::int64_t cols = std::min(nr, nc - jp * nr);
            for (std::int64_t kk = 0; kk < kc; ++kk, dst += nr) {
                const In* src = b0 + kk * rs + jp * nr * cs;
                for (std::int64_t j = 0; j < cols; ++j) {
                    const U x = Load::get(src[j * cs]);
                    info.add(x, inf);
                    dst[j] = x + delta;
                }
                for (std::int64_t j = cols; j < nr; ++j) dst[j] = delta;  // +0 padding, never stored
            }
            b_info_[jp] = info;
        }, threads);
    }

    // Rows [ic, ic + mc) of a, times the packed B block, into c (whose origin is
    // row 0 of `a` and column 0 of the block).
    void block(const In* a, std::int64_t ic, std::int64_t mc, std::int64_t pc, std::int64_t kc, std::int64_t nc, std::int64_t jp0, std::int64_t jp1, Acc* c, std::int64_t c_rs,
               std::int64_t c_cs) const {
        const std::int64_t m_panels = (mc + mr_ - 1) / mr_;
        U* const a_pack = thread_scratch<U, 1>(static_cast<std::size_t>(m_panels * mr_ * kc));
        std::vector<PanelInfo<U>> a_info(m_panels);
        for (std::int64_t ip = 0; ip < m_panels; ++ip) {
            U* dst = a_pack + ip * mr_ * kc;
            for (std::int64_t i = 0; i < mr_; ++i) {  // rows outer: row-major A reads contiguously
                const std::int64_t row = ip * mr_ + i;
                for (std::int64_t kk = 0; kk < kc; ++kk) {
                    const U x = row < mc ? Load::get(a[(ic + row) * p_.a_rs + (pc + kk) * p_.a_cs]) : U(0);
                    if (row < mc) a_info[ip].add(x, w_.clamp.inf);
                    dst[kk * mr_ + i] = x;
                }
            }
        }
        Acc* const tile = thread_scratch<Acc, 2>(static_cast<std::size_t>(mr_ * nr_));
        for (std::int64_t jp = jp0; jp < jp1; ++jp) {
            const std::size_t b_at = static_cast<std::size_t>(jp * nr_ * kc);
            const std::int64_t cols = std::min<std::int64_t>(nr_, nc - jp * nr_);
            for (std::int64_t ip = 0; ip < m_panels; ++ip) {
                const std::int64_t rows = std::min<std::int64_t>(mr_, mc - ip * mr_);
                Acc* c0 = c + (ic + ip * mr_) * c_rs + (jp * nr_) * c_cs;
                // Continue each element's sequential sum from the previous k slice.
                // Rows outer, columns inner: C is row-major in the common case.
                for (std::int64_t i = 0; i < mr_; ++i)
                    for (std::int64_t j = 0; j < nr_; ++j)
                        tile[j * mr_ + i] = (pc == 0 || i >= rows || j >= cols) ? Acc(0) : c0[i * c_rs + j * c_cs];
                const U* ap = a_pack + ip * mr_ * kc;
                const PanelInfo<U>& ai = a_info[ip];
                const PanelInfo<U>& bi = b_info_[jp];
                if (ai.has_special || bi.has_special) {
                    special(kc, ap, b_biased_ + b_at, tile);
                } else if (!bi.has_zero && in_range(ai, bi)) {
                    const auto kernel = ai.has_zero ? kern_.fast_masked : kern_.fast;
                    kernel(kc, ap, b_biased_ + b_at, tile);
                } else {
                    kern_.general(kc, ap, b_biased_ + b_at, tile, w_.clamp);
                }
                // NaN sums leave as the quiet NaN (their sign would depend on the
                // order the hardware met the NaNs in).
                for (std::int64_t i = 0; i < rows; ++i)
                    for (std::int64_t j = 0; j < cols; ++j) {
                        const Acc v = tile[j * mr_ + i];
                        c0[i * c_rs + j * c_cs] = v != v ? quiet_nan_ : v;
                    }
            }
        }
    }

    // True when no product of nonzero finite entries of the two panels can
    // underflow or overflow (their extreme magnitudes do not).
    bool in_range(const PanelInfo<U>& ai, const PanelInfo<U>& bi) const {
        if (ai.max_mag == 0 || bi.max_mag == 0) return true;  // all zeros: nothing to clamp
        // No wrap: the largest normal sum stays below 2^w (mitchell_formats.hpp).
        const U lo = ai.min_mag + bi.min_mag + w_.addend;
        const U hi = ai.max_mag + bi.max_mag + w_.addend;
        return lo >= w_.clamp.underflow && hi < w_.clamp.overflow;
    }

    void special(std::int64_t kc, const U* a, const U* b_biased, Acc* tile) const {
        for (std::int64_t j = 0; j < nr_; ++j) {
            for (std::int64_t i = 0; i < mr_; ++i) {
                Acc acc = tile[j * mr_ + i];
                for (std::int64_t kk = 0; kk < kc; ++kk) {
                    const U bits = product_bits<U>(a[kk * mr_ + i], b_biased[kk * nr_ + j] - w_.bias_delta, w_);
                    Acc v;
                    std::memcpy(&v, &bits, sizeof v);
                    acc += v;
                }
                tile[j * mr_ + i] = acc;
            }
        }
    }

    const MatmulParams& p_;
    Working<U> w_;
    GemmKernels<U, Acc> kern_;
    std::int64_t mr_, nr_, mc_, nc_;
    Acc quiet_nan_;
    U* b_biased_ = nullptr;  // packed B, in the calling thread's scratch
    std::vector<PanelInfo<U>> b_info_;
};

template <class U, class Acc, class Load>
void run_all(const MatmulParams& p, const Working<U>& w, const GemmKernels<U, Acc>& kern) {
    // float16 outputs are summed in float32 (Gemm::run); the others in place.
    using Out = std::conditional_t<(sizeof(typename Load::In) < sizeof(Acc)), typename Load::In, Acc>;
    const int threads = get_num_threads();
    const bool per_matrix = p.batch >= threads && p.m * p.n * p.k < kSmallGemm;
    auto one = [&](std::int64_t t, int inner_threads) {
        Gemm<U, Acc, Load> gemm(p, w, kern);
        Out* c = static_cast<Out*>(p.c) + p.c_offsets[t];
        gemm.run(t, c, p.c_rs, p.c_cs, inner_threads);
    };
    if (per_matrix) {
        parallel_for(p.batch, [&](std::int64_t t) { one(t, 1); }, threads);
    } else {
        for (std::int64_t t = 0; t < p.batch; ++t) one(t, threads);
    }
}

template <class Acc>
void zero_fill(const MatmulParams& p) {
    for (std::int64_t t = 0; t < p.batch; ++t) {
        Acc* c = static_cast<Acc*>(p.c) + p.c_offsets[t];
        for (std::int64_t i = 0; i < p.m; ++i)
            for (std::int64_t j = 0; j < p.n; ++j) c[i * p.c_rs + j * p.c_cs] = Acc(0);
    }
}

GemmKernels<std::uint32_t, float> kernels32() { return LOGSKETCH_ACTIVE(gemm_kernels32)(); }
GemmKernels<std::uint64_t, double> kernels64() { return LOGSKETCH_ACTIVE(gemm_kernels64)(); }

}  // namespace

void matmul(const MatmulParams& p) {
    LOGSKETCH_REQUIRE(p.dtype == Dtype::float16 || p.dtype == Dtype::float32 || p.dtype == Dtype::float64);
    if (p.batch == 0 || p.m == 0 || p.n == 0) return;
    switch (p.dtype) {
        case Dtype::float16:
            if (p.k == 0) return zero_fill<std::uint16_t>(p);  // +0.0 is all zero bits
            return run_all<std::uint32_t, float, LoadF16>(p, working_f32(p.compensated, true), kernels32());
        case Dtype::float32:
            if (p.k == 0) return zero_fill<float>(p);
            return run_all<std::uint32_t, float, LoadF32>(p, working_f32(p.compensated, false), kernels32());
        default:
            if (p.k == 0) return zero_fill<double>(p);
            return run_all<std::uint64_t, double, LoadF64>(p, working_f64(p.compensated), kernels64());
    }
}

}  // namespace logsketch::mitchell
