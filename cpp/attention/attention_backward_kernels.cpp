// The attention backward kernel, written once over simd/lanes.hpp's vectors
// and compiled per SIMD level.
//
// One task is one (batch entry, kv head) over a range of keys, stepped in
// groups of kKeyGroup blocks of kKeyBlock keys; each group runs over the
// task's query rows in blocks of kRowBlock, every key block of the group per
// row block.  Per (key block, row block) five small products, all
// of one shape (C += A B with B's rows contiguous, vectors along B's rows,
// one broadcast element of A per row of the register tile):
//   S = Qs K^T, P = exp2(S - lse2) masked, dV += P^T dO, dP = dO V^T,
//   dS = P o (dP - delta), dK += dS^T Qs, dQ += dS K.
// The exponentials and dS are computed in registers as the products that
// give S and dP store them (their epilogues), into one rows x keys buffer
// that holds S, then P, then dS.
// K and V are packed per key block (K^T and V^T for the scores, K's rows
// padded for dQ), so every product's columns are whole vectors.  dK and dV
// of a group stay in cache over the row blocks; dQ accumulates in the
// driver's buffer.  Row blocks whose rows see no key of the block are
// skipped (causal), and only blocks a row limit cuts are masked.
#include "../simd/unit.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "../runtime/scratch.hpp"
#include "../runtime/thread_pool.hpp"
#include "../simd/lanes.hpp"
#include "attention_backward_kernels.hpp"
#include "attention_lanes.hpp"
#include "half.hpp"

namespace logsketch::attention::LOGSKETCH_ISA {
namespace {

using namespace logsketch::simd;

constexpr int kVecBytes = simd::Isa::vec_bytes;
// Register tile of the products: kTileRows rows x kTileVecs vectors of
// accumulators (AVX-512: 24 of 32 registers; AVX2: 12 of 16).
constexpr int kTileRows = kVecBytes >= 64 ? 6 : 4;
constexpr int kTileVecs = kVecBytes >= 64 ? 4 : (kVecBytes >= 32 ? 3 : 4);
// 64 keys x 64 rows: the block's P (then dS) is 16 KiB in float32; 32 rows
// or 128 keys were slower, 128 rows the same (docs/tuning.md, "CPU attention backward").
constexpr int kKeyBlock = 64;
constexpr int kRowBlock = 64;
// Key blocks per pass over the rows: the rows' qs, dout and dq stream from
// memory once per group (docs/tuning.md).
constexpr int kKeyGroup = 4;

// What a product stores: the accumulator, or a function of it computed in
// registers (the scores' probabilities, the score gradients) so that no
// separate pass reads C back.  epi(r, x, acc): row r and column x of C.
struct Keep {
    template <class V>
    V operator()(std::int64_t, std::int64_t, V acc) const {
        return acc;
    }
};

// c[r * ldc + u * W + x] (+)= sum_k a[r * ams + k * aks] b[k * ldb + u * W + x], r < R, u < NV,
// stored through epi with C's row r0 + r and column c0 + u * W.
template <class T, int W, int R, int NV, class Epi>
inline void product_tile(std::int64_t kn, const T* a, std::int64_t ams, std::int64_t aks, const T* b,
                         std::int64_t ldb, T* c, std::int64_t ldc, bool add, const Epi& epi, std::int64_t r0,
                         std::int64_t c0) {
    using V = Vec<T, W>;
    V acc[R][NV];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int u = 0; u < NV; ++u) acc[r][u] = add ? load<V>(c + r * ldc + u * W) : V{};
    for (std::int64_t k = 0; k < kn; ++k) {
        V bv[NV];
#pragma GCC unroll 8
        for (int u = 0; u < NV; ++u) bv[u] = load<V>(b + k * ldb + u * W);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const V ar = splat<V>(a[r * ams + k * aks]);
#pragma GCC unroll 8
            for (int u = 0; u < NV; ++u) acc[r][u] = fmadd(ar, bv[u], acc[r][u]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int u = 0; u < NV; ++u) store(c + r * ldc + u * W, epi(r0 + r, c0 + u * W, acc[r][u]));
}

// C (m x n, n a multiple of the lanes) (+)= A (m x kn) B (kn x n), A's
// element (r, k) at a[r * ams + k * aks], B and C row-major, each element
// stored through epi.  Each element of C sums over k in order, whatever m and
// n: the bits do not depend on the tiling.
template <class T, class Epi = Keep>
void product(std::int64_t m, std::int64_t n, std::int64_t kn, const T* a, std::int64_t ams, std::int64_t aks,
             const T* b, std::int64_t ldb, T* c, std::int64_t ldc, bool add, const Epi& epi = Epi{}) {
    constexpr int W = lanes_of<T, kVecBytes>();
    const int nvec = static_cast<int>(n / W);
    for (int v0 = 0; v0 < nvec; v0 += kTileVecs) {
        with_count<kTileVecs>(std::min(kTileVecs, nvec - v0), [&](auto nv) {
            constexpr int NV = decltype(nv)::value;
            std::int64_t r = 0;
            for (; r + kTileRows <= m; r += kTileRows)
                product_tile<T, W, kTileRows, NV>(kn, a + r * ams, ams, aks, b + v0 * W, ldb, c + r * ldc + v0 * W,
                                                  ldc, add, epi, r, v0 * W);
            if (r < m)
                with_count<kTileRows - 1>(static_cast<int>(m - r), [&](auto rr) {
                    product_tile<T, W, decltype(rr)::value, NV>(kn, a + r * ams, ams, aks, b + v0 * W, ldb,
                                                                c + r * ldc + v0 * W, ldc, add, epi, r, v0 * W);
                });
        });
    }
}

template <class T>
inline T element(const void* base, std::int64_t at, bool half) {
    if constexpr (sizeof(T) == 4) {
        if (half) return half_to_float(static_cast<const std::uint16_t*>(base)[at]);
    }
    return static_cast<const T*>(base)[at];
}

// The key block's K rows (kKeyBlock x dp), K^T (dp x kKeyBlock) and V^T
// (dvp x kKeyBlock), zero past the block's bn keys and the head dims.
template <class T>
void pack_keys(const BackwardTask<T>& t, std::int64_t j0, int bn, T* kr, T* kt, T* vt) {
    std::fill(kr, kr + kKeyBlock * t.dp, T(0));
    std::fill(kt, kt + t.dp * kKeyBlock, T(0));
    std::fill(vt, vt + t.dvp * kKeyBlock, T(0));
    for (int jj = 0; jj < bn; ++jj) {
        const std::int64_t kj = (j0 + jj) * t.k_rs, vj = (j0 + jj) * t.v_rs;
        for (std::int64_t c = 0; c < t.d; ++c) {
            const T x = element<T>(t.k, kj + c, t.half);
            kr[jj * t.dp + c] = x;
            kt[c * kKeyBlock + jj] = x;
        }
        for (std::int64_t c = 0; c < t.dv; ++c) vt[c * kKeyBlock + jj] = element<T>(t.v, vj + c, t.half);
    }
}

// The scores' epilogue: S_rj becomes P_rj = exp2(S_rj - lse2_r) for the
// keys row r sees in this block (j0 + j < lim_r), else 0.
template <class T>
struct Probabilities {
    static constexpr int W = lanes_of<T, kVecBytes>();
    using V = Vec<T, W>;
    using IT = typename FloatBits<T>::I;
    using I = Vec<IT, W>;
    const T* lse2;       // the block's rows
    const IT* lim;       // the block's rows: keys of this block each sees, clamped to [0, kKeyBlock]

    V operator()(std::int64_t r, std::int64_t j, V s) const {
        const IT n = lim[r];
        if (n <= 0) return V{};
        const V p = exp2v<T, W>(s - splat<V>(lse2[r]));
        if (n >= j + W) return p;
        return splat<I>(static_cast<IT>(j)) + iota<I, W>() < splat<I>(n) ? p : V{};
    }
};

// The score gradients' epilogue, over the block's P (in p, kKeyBlock per
// row): dP_rj becomes dS_rj = P_rj (dP_rj - delta_r); 0 where P is 0, so a
// NaN in v_j reaches only the rows that see key j.
template <class T>
struct ScoreGrads {
    static constexpr int W = lanes_of<T, kVecBytes>();
    using V = Vec<T, W>;
    const T* delta;  // the block's rows
    const T* p;

    V operator()(std::int64_t r, std::int64_t j, V dp) const {
        const V pr = load<V>(p + r * kKeyBlock + j);
        return pr != V{} ? pr * (dp - splat<V>(delta[r])) : V{};
    }
};

// The largest n over each row block.
template <class T>
std::int64_t* block_limits(const BackwardTask<T>& t, std::int64_t blocks) {
    std::int64_t* lim = thread_scratch<std::int64_t, 20>(static_cast<std::size_t>(blocks));
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t r0 = b * kRowBlock, r1 = std::min(t.rows, r0 + kRowBlock);
        lim[b] = 0;
        for (std::int64_t r = r0; r < r1; ++r) lim[b] = std::max(lim[b], t.n[r]);
    }
    return lim;
}

// The key blocks [j0, j0 + kKeyBlock) of a group, packed: K rows, K^T, V^T.
template <class T>
struct KeyBlock {
    std::int64_t j0;
    int bn;
    T* kr;
    T* kt;
    T* vt;
};

// The five products of one (row block, key block) pair; s holds S, then P,
// then dS.  lim: scratch for the rows' key counts.
template <class T>
void block_pair(const BackwardTask<T>& t, std::int64_t r0, int bm, const KeyBlock<T>& kb, std::int64_t kend,
                T* s, typename FloatBits<T>::I* lim) {
    const std::int64_t dp = t.dp, dvp = t.dvp;
    const T* qs = t.qs + r0 * dp;
    const T* dout = t.dout + r0 * dvp;
    T* dk = t.dk + (kb.j0 - t.kb) * dp;
    T* dv = t.dv_ + (kb.j0 - t.kb) * dvp;
    using IT = typename FloatBits<T>::I;
    for (int r = 0; r < bm; ++r)
        lim[r] = static_cast<IT>(std::clamp<std::int64_t>(std::min(t.n[r0 + r], kend) - kb.j0, 0, kKeyBlock));
    product<T>(bm, kKeyBlock, t.d, qs, dp, 1, kb.kt, kKeyBlock, s, kKeyBlock, false,
               Probabilities<T>{t.lse2 + r0, lim});
    product<T>(kb.bn, dvp, bm, s, 1, kKeyBlock, dout, dvp, dv, dvp, true);
    // dP = dO V^T, stored as dS over s's P (each element read before it is written).
    product<T>(bm, kKeyBlock, t.dv, dout, dvp, 1, kb.vt, kKeyBlock, s, kKeyBlock, false,
               ScoreGrads<T>{t.delta + r0, s});
    product<T>(kb.bn, dp, bm, s, 1, kKeyBlock, qs, dp, dk, dp, true);
    product<T>(bm, dp, kb.bn, s, kKeyBlock, 1, kb.kr, dp, t.dq + r0 * dp, dp, true);
}

template <class T>
void backward_task(const BackwardTask<T>& t) {
    const std::int64_t dp = t.dp, dvp = t.dvp;
    std::fill(t.dk, t.dk + (t.ke - t.kb) * dp, T(0));
    std::fill(t.dv_, t.dv_ + (t.ke - t.kb) * dvp, T(0));
    const std::int64_t blocks = (t.rows + kRowBlock - 1) / kRowBlock;
    const std::int64_t* lim = block_limits(t, blocks);
    const std::int64_t nmax = blocks > 0 ? *std::max_element(lim, lim + blocks) : 0;
    const std::int64_t kend = std::min(t.ke, nmax);
    const std::int64_t packed = kKeyBlock * (2 * dp + dvp);
    T* pack = thread_scratch<T, 21>(static_cast<std::size_t>(kKeyGroup * packed));
    T* s = thread_scratch<T, 24>(static_cast<std::size_t>(kRowBlock * kKeyBlock));
    auto* rlim = thread_scratch<typename FloatBits<T>::I, 25>(static_cast<std::size_t>(kRowBlock));
    KeyBlock<T> group[kKeyGroup];
    for (std::int64_t g0 = t.kb; g0 < kend; g0 += kKeyGroup * kKeyBlock) {
        if (cancellation_requested()) return;  // Ctrl-C: this call's results are thrown away
        int ng = 0;
        for (std::int64_t j0 = g0; j0 < kend && ng < kKeyGroup; j0 += kKeyBlock, ++ng) {
            KeyBlock<T>& kb = group[ng];
            kb.j0 = j0;
            kb.bn = static_cast<int>(std::min<std::int64_t>(kKeyBlock, kend - j0));
            kb.kr = pack + ng * packed;
            kb.kt = kb.kr + kKeyBlock * dp;
            kb.vt = kb.kt + kKeyBlock * dp;
            pack_keys(t, j0, kb.bn, kb.kr, kb.kt, kb.vt);
        }
        // Row block outside, key blocks inside: a row block's qs, dout and dq
        // are read once per group, not once per key block.  Each dk, dv row
        // still sums over row blocks in order, each dq row over keys in order.
        for (std::int64_t blk = 0; blk < blocks; ++blk) {
            const std::int64_t r0 = blk * kRowBlock;
            const int bm = static_cast<int>(std::min<std::int64_t>(kRowBlock, t.rows - r0));
            for (int x = 0; x < ng; ++x)
                if (lim[blk] > group[x].j0) block_pair(t, r0, bm, group[x], kend, s, rlim);  // else: no row sees a key
        }
    }
}

}  // namespace

BackwardKernels<float> backward_kernels32() {
    return {lanes_of<float, kVecBytes>(), kKeyBlock, &backward_task<float>};
}

BackwardKernels<double> backward_kernels64() {
    return {lanes_of<double, kVecBytes>(), kKeyBlock, &backward_task<double>};
}

}  // namespace logsketch::attention::LOGSKETCH_ISA
