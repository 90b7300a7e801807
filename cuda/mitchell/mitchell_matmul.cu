// Mitchell matmul on CUDA devices: a tiled GEMM whose multiply is an integer add.
//
// Structure: each 256-thread block computes a 128 x 128 tile of C, each thread
// an 8 x 8 register micro-tile (rows ty*4+{0..3} and 64+ty*4+{0..3}, columns
// likewise with tx, so the 16-byte shared-memory reads are conflict-free).  K
// advances in slices of 8: the next slice is fetched from global memory into
// registers while the current one is multiplied out of shared memory (double
// buffering, one barrier per slice).  Every output element is one thread's
// sequential float32 sum over k in increasing order from +0, as in the
// reference, so the result is bit-identical to logsketch.reference (NaN
// results included: they are stored as the positive quiet NaN, as there).
//
// All formats run on float32 bit patterns: float16 and bfloat16 widen exactly
// (float16 subnormals flushed first), and their Mitchell sums equal the
// narrow-format sums shifted into the float32 domain, provided the clamping
// uses the narrow format's thresholds and the compensation is scaled (<< 13,
// << 16).  See MatmulConsts below and cpp/mitchell/mitchell_gemm.cpp.
//
// Two tiers, chosen per K slice for the whole block (a uniform branch, no
// per-element branches inside):
//   - fast: when the slice's A and B hold no zero, subnormal, inf or NaN and
//     the extreme magnitudes prove every product normal, a product is
//     bits(a) + (bits(b) + comp - bits(1.0)) (the sign bits add as an xor):
//     one integer add and one float add.
//   - general: anything else.  Each operand is stored as a magnitude (zeros
//     replaced by 0.5, inf and NaN by 1.0, so the integer part stays finite
//     and positive) and a float factor: +-1 for a normal number, +-0, +-inf
//     or NaN.  The product of the two factors reproduces exactly Mitchell's
//     rules for signs, zeros, inf and NaN (inf x 0 = NaN, inf x nonzero = inf,
//     ...), and multiplies the clamped magnitude: float32 clamps with an
//     unsigned min (overflow -> inf), a signed max (underflow -> 0) and a
//     flush-to-zero multiply (the subnormal band); float16 clamps with an
//     unsigned min at inf after shifting the magnitude up by 2^112 (overflow
//     at 2^16 lands on inf) and flushes below 2^-14 with a flush-to-zero
//     multiply by 2^-112.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "../runtime/cuda_check.cuh"
#include "mitchell_cuda.hpp"
#include "mitchell_device.cuh"

namespace logsketch::mitchell::gpu {
namespace {

constexpr int kBM = 128;  // rows of C per block
constexpr int kBN = 128;  // columns of C per block
constexpr int kBK = 8;    // k per shared-memory slice
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kPad = 4;  // row padding of the shared tiles: conflict-free transposed stores
constexpr int kLoads = kBM * kBK / kThreads;  // elements of A (and of B) each thread loads per slice
constexpr int kGroupM = 8;                    // row tiles per group of the block order (L2 reuse)
constexpr int kMaxGridY = 65535;

static_assert(kBM == kBN && kBM * kBK % kThreads == 0, "tile loader assumes square tiles");

constexpr std::uint32_t kF32Sign = 0x80000000u;
constexpr std::uint32_t kF32Mag = 0x7FFFFFFFu;
constexpr std::uint32_t kF32Inf = 0x7F800000u;
constexpr std::uint32_t kF32One = Float32Format::kOne;
constexpr std::uint32_t kHalfBits = 0x3F000000u;  // 0.5: stands in for a zero's magnitude
constexpr std::uint32_t kF32Offset = kOffset<Float32Format>;

// Everything that depends on the dtype and the compensation.
struct MatmulConsts {
    std::uint32_t fast_addend;     // bits(b) + fast_addend: b biased for the fast tier (wrapping)
    std::uint32_t gen_addend;      // |B| + gen_addend: b's magnitude for the general tier
    std::int64_t comp_minus_one;   // Mitchell sum s = |A| + |B| + comp_minus_one
    std::int64_t lo, hi;           // s is a normal result iff lo <= s < hi
    std::uint32_t unit_bits;       // the factor of a positive normal operand
};

struct GemmArgs {
    const void* a;
    const void* b;
    void* c;
    std::int64_t m, n, k;
    std::int64_t a_rs, a_cs, b_rs, b_cs, c_rs, c_cs;
    std::int64_t batch;
    int batch_ndim;
    std::int64_t batch_shape[kMaxDims];
    std::int64_t a_bs[kMaxDims], b_bs[kMaxDims], c_bs[kMaxDims];
    std::int64_t m_tiles, n_tiles;
    bool a_kfast;  // load A slices with k fastest (A's k stride is the small one)
    bool b_nfast;  // load B slices with n fastest
    MatmulConsts mc;
};

// Input formats: raw storage, widening to float32 bits (subnormals flushed to
// signed zero), the working domain, and the final rounding of a float32 sum.
// A NaN sum is stored as the format's quiet NaN: its sign and payload would
// otherwise depend on the order the hardware met the NaNs in.
struct InF32 {
    using T = std::uint32_t;
    static constexpr bool kHalfDomain = false;
    __device__ static std::uint32_t widen(std::uint32_t x) {
        return (x & kF32Mag) < 0x00800000u ? (x & kF32Sign) : x;
    }
    __device__ static void store(T* p, float v) { *p = v != v ? Float32Format::kQuietNan : __float_as_uint(v); }
};

struct InBF16 {
    using T = std::uint16_t;
    static constexpr bool kHalfDomain = false;  // bfloat16 has float32's exponent range
    __device__ static std::uint32_t widen(std::uint32_t x) { return InF32::widen(x << 16); }
    __device__ static void store(T* p, float v) {
        *p = v != v ? T(BFloat16Format::kQuietNan) : __bfloat16_as_ushort(__float2bfloat16_rn(v));
    }
};

struct InF16 {
    using T = std::uint16_t;
    static constexpr bool kHalfDomain = true;
    __device__ static std::uint32_t widen(std::uint32_t h) {
        const std::uint32_t sign = (h & 0x8000u) << 16;
        const std::uint32_t mag = h & 0x7FFFu;
        const std::uint32_t special = sign | kF32Inf | ((mag & 0x3FFu) << 13);  // inf, NaN (payload kept nonzero)
        const std::uint32_t normal = sign | ((mag << 13) + 0x38000000u);
        return mag < 0x0400u ? sign : (mag >= 0x7C00u ? special : normal);
    }
    __device__ static void store(T* p, float v) {
        *p = v != v ? T(Float16Format::kQuietNan) : __half_as_ushort(__float2half_rn(v));
    }
};

__device__ __forceinline__ float mul_ftz(float x, float y) {
    float r;
    asm("mul.ftz.f32 %0, %1, %2;" : "=f"(r) : "f"(x), "f"(y));
    return r;
}

// The sums are IEEE float32 adds whatever the build flags: -ftz=true or
// --use_fast_math would flush subnormal partial sums and lose bit-exactness.
__device__ __forceinline__ float add_rn(float a, float b) {
    float r;
    asm("add.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
    return r;
}

__device__ __forceinline__ float fma_rn(float a, float b, float c) {
    float r;
    asm("fma.rn.f32 %0, %1, %2, %3;" : "=f"(r) : "f"(a), "f"(b), "f"(c));
    return r;
}

// One widened operand as the tiers store it.
struct Operand {
    std::uint32_t bits;  // sign | magnitude, zero -> 0.5, inf/NaN -> 1.0
    std::uint32_t fac;   // bits of the float factor: +-unit, +-0, +-inf, NaN
    std::uint32_t mag;   // |x| as loaded (0 for zeros): what the tier check sees
};

__device__ __forceinline__ Operand represent(std::uint32_t w, std::uint32_t unit_bits) {
    const std::uint32_t sign = w & kF32Sign, mag = w & kF32Mag;
    const bool zero = mag == 0, inf = mag == kF32Inf, nan = mag > kF32Inf;
    const std::uint32_t stand_in = zero ? kHalfBits : (mag >= kF32Inf ? kF32One : mag);
    const std::uint32_t fac = nan ? 0x7FC00000u : (sign | (inf ? kF32Inf : (zero ? 0u : unit_bits)));
    return {sign | stand_in, fac, mag};
}

__device__ __forceinline__ float to_f(std::uint32_t x) { return __uint_as_float(x); }

constexpr unsigned kAll = 0xFFFFFFFFu;

// The double-buffered K slices in shared memory, in both tiers' forms, and
// each warp's magnitude range of the slice: min|A|, max|A|, min|B|, max|B|.
struct Slices {
    __align__(16) std::uint32_t abits[2][kBK][kBM + kPad];
    __align__(16) std::uint32_t afac[2][kBK][kBM + kPad];
    __align__(16) std::uint32_t bfast[2][kBK][kBN + kPad];
    __align__(16) std::uint32_t bgen[2][kBK][kBN + kPad];
    __align__(16) std::uint32_t bfac[2][kBK][kBN + kPad];
    std::uint32_t range[2][kWarps][4];
};

// One thread's place in one matrix product of the batch: the block's tile
// origin (m0, n0) and the product's A and B.
template <class In>
struct TileView {
    const typename In::T* A;
    const typename In::T* B;
    std::int64_t m0, n0;
    int tid;
};

// Grouped block order: kGroupM row tiles share each column tile in turn.
__device__ __forceinline__ void block_origin(const GemmArgs& g, std::int64_t& m0, std::int64_t& n0) {
    const std::int64_t pid = blockIdx.x;
    const std::int64_t per_group = kGroupM * g.n_tiles;
    const std::int64_t first_m = pid / per_group * kGroupM;
    const std::int64_t group_m = min(g.m_tiles - first_m, std::int64_t(kGroupM));
    const std::int64_t tile_m = first_m + pid % per_group % group_m;
    const std::int64_t tile_n = pid % per_group / group_m;
    m0 = tile_m * kBM, n0 = tile_n * kBN;
}

// Element offsets of batch entry t in A, B and C.
__device__ __forceinline__ void batch_offsets(const GemmArgs& g, std::int64_t t, std::int64_t& oa, std::int64_t& ob,
                                              std::int64_t& oc) {
    std::int64_t rest = t;
    oa = 0, ob = 0, oc = 0;
    for (int d = g.batch_ndim - 1; d >= 0; --d) {
        const std::int64_t idx = rest % g.batch_shape[d];
        rest /= g.batch_shape[d];
        oa += idx * g.a_bs[d];
        ob += idx * g.b_bs[d];
        oc += idx * g.c_bs[d];
    }
}

// Where element e of this thread's share of a slice lies in the tile.
__device__ __forceinline__ void a_coord(const GemmArgs& g, int tid, int e, int& r, int& kk) {
    const int idx = tid + e * kThreads;
    if (g.a_kfast) { kk = idx % kBK; r = idx / kBK; }
    else { r = idx % kBM; kk = idx / kBM; }
}

__device__ __forceinline__ void b_coord(const GemmArgs& g, int tid, int e, int& c, int& kk) {
    const int idx = tid + e * kThreads;
    if (g.b_nfast) { c = idx % kBN; kk = idx / kBN; }
    else { kk = idx % kBK; c = idx / kBK; }
}

// The slice at k0, global memory -> registers (zeros outside m, n or k).
template <class In>
__device__ __forceinline__ void load_slice(const GemmArgs& g, const TileView<In>& v, std::int64_t k0,
                                           std::uint32_t (&ra)[kLoads], std::uint32_t (&rb)[kLoads]) {
#pragma unroll
    for (int e = 0; e < kLoads; ++e) {
        int r, kk, c;
        a_coord(g, v.tid, e, r, kk);
        const bool a_ok = v.m0 + r < g.m && k0 + kk < g.k;
        ra[e] = a_ok ? std::uint32_t(v.A[(v.m0 + r) * g.a_rs + (k0 + kk) * g.a_cs]) : 0u;
        b_coord(g, v.tid, e, c, kk);
        const bool b_ok = v.n0 + c < g.n && k0 + kk < g.k;
        rb[e] = b_ok ? std::uint32_t(v.B[(k0 + kk) * g.b_rs + (v.n0 + c) * g.b_cs]) : 0u;
    }
}

// Registers -> shared memory in both tiers' forms, plus the slice's
// magnitude range.  Padding (outside m, n or k) is stored as zeros and
// left out of the range: its products land in accumulators that are
// never written back, or in k steps that are never run.
template <class In>
__device__ __forceinline__ void store_slice(Slices& sm, const GemmArgs& g, const TileView<In>& v, int buf,
                                            std::int64_t k0, const std::uint32_t (&ra)[kLoads],
                                            const std::uint32_t (&rb)[kLoads]) {
    const MatmulConsts& mc = g.mc;
    const int lane = v.tid & 31, warp = v.tid >> 5;
    std::uint32_t amin = ~0u, amax = 0u, bmin = ~0u, bmax = 0u;
#pragma unroll
    for (int e = 0; e < kLoads; ++e) {
        int r, kk, c;
        a_coord(g, v.tid, e, r, kk);
        const bool a_ok = v.m0 + r < g.m && k0 + kk < g.k;
        const Operand x = represent(In::widen(ra[e]), mc.unit_bits);
        sm.abits[buf][kk][r] = a_ok ? x.bits : 0u;
        sm.afac[buf][kk][r] = a_ok ? x.fac : 0u;
        amin = a_ok ? min(amin, x.mag) : amin;
        amax = a_ok ? max(amax, x.mag) : amax;

        b_coord(g, v.tid, e, c, kk);
        const bool b_ok = v.n0 + c < g.n && k0 + kk < g.k;
        const Operand y = represent(In::widen(rb[e]), mc.unit_bits);
        sm.bfast[buf][kk][c] = b_ok ? y.bits + mc.fast_addend : 0u;
        sm.bgen[buf][kk][c] = b_ok ? (y.bits & kF32Mag) + mc.gen_addend : 0u;
        sm.bfac[buf][kk][c] = b_ok ? y.fac : 0u;
        bmin = b_ok ? min(bmin, y.mag) : bmin;
        bmax = b_ok ? max(bmax, y.mag) : bmax;
    }
    amin = __reduce_min_sync(kAll, amin);
    amax = __reduce_max_sync(kAll, amax);
    bmin = __reduce_min_sync(kAll, bmin);
    bmax = __reduce_max_sync(kAll, bmax);
    if (lane == 0) {
        sm.range[buf][warp][0] = amin;
        sm.range[buf][warp][1] = amax;
        sm.range[buf][warp][2] = bmin;
        sm.range[buf][warp][3] = bmax;
    }
}

// True when every product of the slice is provably a normal number
// (the same test as fast_ok in cpp/mitchell/mitchell_gemm.cpp).  Every
// thread computes the same answer: the branch is block-uniform.
__device__ __forceinline__ bool fast_slice(const Slices& sm, const MatmulConsts& mc, int lane, int buf) {
    const bool mine = lane < kWarps;
    std::uint32_t amin = __reduce_min_sync(kAll, mine ? sm.range[buf][lane][0] : ~0u);
    std::uint32_t amax = __reduce_max_sync(kAll, mine ? sm.range[buf][lane][1] : 0u);
    std::uint32_t bmin = __reduce_min_sync(kAll, mine ? sm.range[buf][lane][2] : ~0u);
    std::uint32_t bmax = __reduce_max_sync(kAll, mine ? sm.range[buf][lane][3] : 0u);
    if (amin == 0 || bmin == 0 || amax >= kF32Inf || bmax >= kF32Inf) return false;
    const std::int64_t s_min = std::int64_t(amin) + bmin + mc.comp_minus_one;
    const std::int64_t s_max = std::int64_t(amax) + bmax + mc.comp_minus_one;
    return s_min >= mc.lo && s_max < mc.hi;
}

__device__ __forceinline__ void load4(const std::uint32_t* p, std::uint32_t (&v)[8], int at) {
    const uint4 q = *reinterpret_cast<const uint4*>(p);
    v[at] = q.x; v[at + 1] = q.y; v[at + 2] = q.z; v[at + 3] = q.w;
}

// The fast tier on the slice's first kvalid k: one integer add and one float add per product.
__device__ __forceinline__ void compute_fast(float (&acc)[8][8], const Slices& sm, int buf, int kvalid, int tx,
                                             int ty) {
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
        if (kk < kvalid) {
            std::uint32_t av[8], bv[8];
            load4(&sm.abits[buf][kk][ty * 4], av, 0);
            load4(&sm.abits[buf][kk][64 + ty * 4], av, 4);
            load4(&sm.bfast[buf][kk][tx * 4], bv, 0);
            load4(&sm.bfast[buf][kk][64 + tx * 4], bv, 4);
#pragma unroll
            for (int i = 0; i < 8; ++i)
#pragma unroll
                for (int j = 0; j < 8; ++j) acc[i][j] = add_rn(acc[i][j], to_f(av[i] + bv[j]));
        }
    }
}

// The general tier: magnitudes clamped as the format requires, times the factors.
template <class In>
__device__ __forceinline__ void compute_general(float (&acc)[8][8], const Slices& sm, int buf, int kvalid, int tx,
                                                int ty) {
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
        if (kk < kvalid) {
            std::uint32_t av[8], af[8], bg[8], bf[8];
            load4(&sm.abits[buf][kk][ty * 4], av, 0);
            load4(&sm.abits[buf][kk][64 + ty * 4], av, 4);
            load4(&sm.afac[buf][kk][ty * 4], af, 0);
            load4(&sm.afac[buf][kk][64 + ty * 4], af, 4);
            load4(&sm.bgen[buf][kk][tx * 4], bg, 0);
            load4(&sm.bgen[buf][kk][64 + tx * 4], bg, 4);
            load4(&sm.bfac[buf][kk][tx * 4], bf, 0);
            load4(&sm.bfac[buf][kk][64 + tx * 4], bf, 4);
#pragma unroll
            for (int i = 0; i < 8; ++i) {
                const std::uint32_t am = av[i] & kF32Mag;
#pragma unroll
                for (int j = 0; j < 8; ++j) {
                    const float factor = to_f(af[i]) * to_f(bf[j]);  // exact: powers of two, 0, inf, NaN
                    if constexpr (In::kHalfDomain) {
                        // bits(x) + 112 exponents, overflow (x >= 2^16) capped at inf's pattern.
                        const std::uint32_t z = __viaddmin_u32(am, bg[j], kF32Inf);
                        const float x = to_f(z) * factor;          // +-x, factor = +-2^-112
                        const float y = mul_ftz(x, 0x1p-112f);     // |x| < 2^-14 -> 0
                        acc[i][j] = fma_rn(y, 0x1p112f, acc[i][j]);  // y * 2^112 is exact: acc + x
                    } else {
                        // Shifted sum capped at inf, then shifted back with underflow -> 0.
                        const std::uint32_t r = __viaddmin_u32(am, bg[j], kF32Offset + kF32Inf);
                        const int mag = max(static_cast<int>(r - kF32Offset), 0);
                        // mul_ftz: the subnormal band [1, 2^23) of mag is an underflow -> 0
                        acc[i][j] = add_rn(acc[i][j], mul_ftz(__int_as_float(mag), factor));
                    }
                }
            }
        }
    }
}

// This thread's 8 x 8 outputs inside m and n, rounded to the format.
template <class In>
__device__ __forceinline__ void store_tile(const GemmArgs& g, typename In::T* C, std::int64_t m0, std::int64_t n0,
                                           int tx, int ty, const float (&acc)[8][8]) {
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        const std::int64_t row = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
        if (row >= g.m) continue;
#pragma unroll
        for (int j = 0; j < 8; ++j) {
            const std::int64_t col = n0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + (j - 4));
            if (col < g.n) In::store(C + row * g.c_rs + col * g.c_cs, acc[i][j]);
        }
    }
}

template <class In>
__global__ void __launch_bounds__(kThreads) mitchell_gemm(const GemmArgs g) {
    using T = typename In::T;
    __shared__ Slices sm;

    const int tid = threadIdx.x, lane = tid & 31;
    const int tx = tid & 15, ty = tid >> 4;
    std::int64_t m0, n0;
    block_origin(g, m0, n0);
    const std::int64_t nkt = (g.k + kBK - 1) / kBK;

    for (std::int64_t t = blockIdx.y; t < g.batch; t += gridDim.y) {
        std::int64_t oa, ob, oc;
        batch_offsets(g, t, oa, ob, oc);
        const TileView<In> v{static_cast<const T*>(g.a) + oa, static_cast<const T*>(g.b) + ob, m0, n0, tid};
        T* C = static_cast<T*>(g.c) + oc;

        float acc[8][8];
#pragma unroll
        for (int i = 0; i < 8; ++i)
#pragma unroll
            for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;

        if (nkt > 0) {
            std::uint32_t ra[kLoads], rb[kLoads];
            load_slice(g, v, 0, ra, rb);
            store_slice(sm, g, v, 0, 0, ra, rb);
            __syncthreads();
            for (std::int64_t kt = 0; kt < nkt; ++kt) {
                const int buf = static_cast<int>(kt & 1);
                const bool more = kt + 1 < nkt;
                if (more) load_slice(g, v, (kt + 1) * kBK, ra, rb);  // in flight while this slice is multiplied
                const int kvalid = static_cast<int>(min(std::int64_t(kBK), g.k - kt * kBK));
                if (fast_slice(sm, g.mc, lane, buf)) {
                    compute_fast(acc, sm, buf, kvalid, tx, ty);
                } else {
                    compute_general<In>(acc, sm, buf, kvalid, tx, ty);
                }
                if (more) store_slice(sm, g, v, buf ^ 1, (kt + 1) * kBK, ra, rb);
                __syncthreads();
            }
        }
        store_tile<In>(g, C, m0, n0, tx, ty, acc);
    }
}

MatmulConsts consts_for(Dtype dtype, bool compensated) {
    // Compensation in float32-domain units: float16's mantissa sits 13 bits
    // higher, bfloat16's 16 bits higher.
    std::uint32_t comp = 0;
    if (compensated) {
        comp = dtype == Dtype::float16    ? Float16Format::kMulComp << 13
               : dtype == Dtype::bfloat16 ? BFloat16Format::kMulComp << 16
                                          : Float32Format::kMulComp;
    }
    MatmulConsts mc{};
    mc.fast_addend = comp - kF32One;
    mc.comp_minus_one = std::int64_t(comp) - std::int64_t(kF32One);
    if (dtype == Dtype::float16) {
        mc.gen_addend = comp - kF32One + 0x38000000u;  // + 112 exponents
        mc.lo = 0x38800000;                            // 2^-14, float16's smallest normal
        mc.hi = 0x47800000;                            // 2^16, float16's overflow
        mc.unit_bits = 0x23800000u;                    // 2^-56: two of them undo the 2^112
    } else {
        mc.gen_addend = kF32Offset + comp - kF32One;
        mc.lo = Float32Format::kMinNormal;
        mc.hi = Float32Format::kInf;
        mc.unit_bits = kF32One;
    }
    return mc;
}

// Batch dimensions of p into g: unit ones dropped, neighbours contiguous in
// A, B and C merged, at most kMaxDims left.
void merge_batch_dims(const MatmulParams& p, GemmArgs& g) {
    for (std::int64_t d = 0; d < p.batch_ndim; ++d) {
        const std::int64_t size = p.batch_shape[d];
        if (size == 1) continue;
        const int nd = g.batch_ndim;
        if (nd > 0 && g.a_bs[nd - 1] == p.a_batch_strides[d] * size && g.b_bs[nd - 1] == p.b_batch_strides[d] * size &&
            g.c_bs[nd - 1] == p.c_batch_strides[d] * size) {
            g.batch_shape[nd - 1] *= size;
            g.a_bs[nd - 1] = p.a_batch_strides[d];
            g.b_bs[nd - 1] = p.b_batch_strides[d];
            g.c_bs[nd - 1] = p.c_batch_strides[d];
            continue;
        }
        if (nd == kMaxDims) {
            throw std::invalid_argument("a, b and out have more than " + std::to_string(kMaxDims) +
                                        " batch dimensions that cannot be merged; make them contiguous first");
        }
        g.batch_shape[nd] = size;
        g.a_bs[nd] = p.a_batch_strides[d];
        g.b_bs[nd] = p.b_batch_strides[d];
        g.c_bs[nd] = p.c_batch_strides[d];
        g.batch_ndim = nd + 1;
    }
}

// The kernel's arguments for p and its `batch` matrix products.
GemmArgs make_gemm_args(const MatmulParams& p, std::int64_t batch) {
    GemmArgs g{};
    g.a = p.a;
    g.b = p.b;
    g.c = p.c;
    g.m = p.m;
    g.n = p.n;
    g.k = p.k;
    g.a_rs = p.a_rs;
    g.a_cs = p.a_cs;
    g.b_rs = p.b_rs;
    g.b_cs = p.b_cs;
    g.c_rs = p.c_rs;
    g.c_cs = p.c_cs;
    g.batch = batch;
    merge_batch_dims(p, g);
    g.m_tiles = (p.m + kBM - 1) / kBM;
    g.n_tiles = (p.n + kBN - 1) / kBN;
    if (g.m_tiles * g.n_tiles > INT_MAX) {
        throw std::invalid_argument("matrices too large for one launch: " + std::to_string(p.m) + " x " +
                                    std::to_string(p.n) + " outputs per batch entry");
    }
    // Load along whichever dimension is contiguous (coalesced global reads).
    g.a_kfast = std::llabs(p.a_cs) <= std::llabs(p.a_rs);
    g.b_nfast = std::llabs(p.b_cs) <= std::llabs(p.b_rs);
    g.mc = consts_for(p.dtype, p.compensated);
    return g;
}

void launch(const GemmArgs& g, Dtype dtype, cudaStream_t stream) {
    const dim3 grid(static_cast<unsigned>(g.m_tiles * g.n_tiles),
                    static_cast<unsigned>(std::min<std::int64_t>(g.batch, kMaxGridY)));
    switch (dtype) {
        case Dtype::float16:
            mitchell_gemm<InF16><<<grid, kThreads, 0, stream>>>(g);
            LOGSKETCH_CUDA_CHECK_LAUNCH("mitchell_gemm<float16>");
            return;
        case Dtype::bfloat16:
            mitchell_gemm<InBF16><<<grid, kThreads, 0, stream>>>(g);
            LOGSKETCH_CUDA_CHECK_LAUNCH("mitchell_gemm<bfloat16>");
            return;
        case Dtype::float32:
            mitchell_gemm<InF32><<<grid, kThreads, 0, stream>>>(g);
            LOGSKETCH_CUDA_CHECK_LAUNCH("mitchell_gemm<float32>");
            return;
    }
    throw std::invalid_argument("dtype must be float16, bfloat16 or float32");
}

}  // namespace

void matmul(const MatmulParams& p, cudaStream_t stream) {
    if (p.m == 0 || p.n == 0) return;
    std::int64_t batch = 1;
    for (std::int64_t d = 0; d < p.batch_ndim; ++d) batch *= p.batch_shape[d];
    if (batch == 0) return;
    launch(make_gemm_args(p, batch), p.dtype, stream);
}

}  // namespace logsketch::mitchell::gpu
