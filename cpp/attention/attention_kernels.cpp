// The attention kernels, written once over simd/lanes.hpp's vectors and
// compiled per SIMD level (the tile shapes: simd/isa_<level>.hpp).
//
// `tile` (prefill: many query rows per kv head) keeps the query rows in the
// vector lanes: it transposes the tile's scaled rows once into Q^T (d x BM)
// and computes a block of scores S^T (keys x BM) with one broadcast key
// element times BM query lanes per fma, reading K and V rows where they lie
// (any row stride, no packing).  The online softmax then runs down the
// columns (max, exp2, sum: lane-wise, no horizontal reductions), and O^T
// (dv x BM) accumulates broadcast V elements times the probability lanes.
// Causal masking touches only blocks that cross a row's limit, and the keys
// past the tile's last visible key are never read.
//
// `decode` (a few query rows per kv head) keeps the head dimension in the
// lanes instead: q.k_j as vector fmas over d with one horizontal sum, the
// softmax vectorized over a block of keys, o += p_j v_j over dv.
#include "../simd/unit.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "../runtime/scratch.hpp"
#include "../simd/lanes.hpp"
#include "attention_kernels.hpp"
#include "attention_lanes.hpp"
#include "half.hpp"

namespace logsketch::attention::LOGSKETCH_ISA {
namespace {

using namespace logsketch::simd;

// Sum and maximum of a vector's lanes, as a tree of halves (a fixed order).
template <class T, int W>
inline T hsum(Vec<T, W> v) {
    if constexpr (W == 1) {
        return v;
    } else {
        Vec<T, W / 2> a, b;
        std::memcpy(&a, &v, sizeof a);
        std::memcpy(&b, reinterpret_cast<const char*>(&v) + sizeof a, sizeof b);
        return hsum<T, W / 2>(a + b);
    }
}

template <class T, int W>
inline T hmax(Vec<T, W> v) {
    if constexpr (W == 1) {
        return v;
    } else {
        Vec<T, W / 2> a, b;
        std::memcpy(&a, &v, sizeof a);
        std::memcpy(&b, reinterpret_cast<const char*>(&v) + sizeof a, sizeof b);
        return hmax<T, W / 2>(vmax(a, b));
    }
}

// Rows j0 .. j0 + bn of K or V (width elements each) as T: in place, or
// widened from float16 into buf.
template <class T>
inline const T* block_rows(const void* base, std::int64_t rs, std::int64_t j0, int bn, std::int64_t width, bool half,
                           T* buf, std::int64_t& out_rs) {
    if (!half) {
        out_rs = rs;
        return static_cast<const T*>(base) + j0 * rs;
    }
    const auto* src = static_cast<const std::uint16_t*>(base) + j0 * rs;
    for (int jj = 0; jj < bn; ++jj) {
        const std::uint16_t* s = src + jj * rs;
        T* dst = buf + jj * width;
        std::int64_t c = 0;
#ifdef __F16C__
        if constexpr (sizeof(T) == 4) {
            for (; c + 8 <= width; c += 8) {
                const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + c));
                _mm256_storeu_ps(dst + c, _mm256_cvtph_ps(h));
            }
        }
#endif
        for (; c < width; ++c) dst[c] = static_cast<T>(half_to_float(s[c]));
    }
    out_rs = width;
    return buf;
}

// ---------------------------------------------------------------- online softmax (shared)
//
// One step of the online softmax over a block of n score vectors per state
// vector: s[j * stride + u * W] is key j's scores for the lanes of state u.
// `tile` runs N = QV states of query lanes; `decode` runs one state per row
// over the key lanes and reduces it (hmax, hsum) to the row's scalar state.

// mb[u] = lane-wise max over j < n of s[j * stride + u * W], in key order.
template <class T, int W, int N>
inline void block_max(const T* s, int n, std::int64_t stride, Vec<T, W> (&mb)[N]) {
    using V = Vec<T, W>;
    for (int u = 0; u < N; ++u) mb[u] = load<V>(s + u * W);
    for (int j = 1; j < n; ++j)
#pragma GCC unroll 8
        for (int u = 0; u < N; ++u) mb[u] = vmax(mb[u], load<V>(s + j * stride + u * W));
}

// Raise the running maximum m to max(m, mb); returns the shift the block's
// scores take (the new maximum, 0 while no key was seen: exp2(-inf - 0) = 0,
// not NaN) and sets alpha = exp2(m_old - shift), the rescale of the old state.
template <class T, int W, class S>
inline S raise_max(S& m, S mb, S& alpha) {
    const S ninf = S{} - std::numeric_limits<T>::infinity();
    const S mnew = vmax(m, mb);
    const S shift = mnew == ninf ? S{} : mnew;
    alpha = exp2v<T, W>(m - shift);
    m = mnew;
    return shift;
}

// s <- exp2(s - shift[u]) in place over the block; sum[u] = the column sums, in key order.
template <class T, int W, int N>
inline void exp2_block(T* s, int n, std::int64_t stride, const Vec<T, W> (&shift)[N], Vec<T, W> (&sum)[N]) {
    using V = Vec<T, W>;
    for (int u = 0; u < N; ++u) sum[u] = V{};
    for (int j = 0; j < n; ++j)
#pragma GCC unroll 8
        for (int u = 0; u < N; ++u) {
            T* p = s + j * stride + u * W;
            const V pr = exp2v<T, W>(load<V>(p) - shift[u]);
            store(p, pr);
            sum[u] += pr;
        }
}

// The running sum of exp2(score - m) after a block: the old sum rescaled, plus the block's.
template <class S>
inline S rescaled_sum(S l, S alpha, S block_sum) {
    return l * alpha + block_sum;
}

// Rows [0, rows) of a tile: the keys up to the largest n (the block loop's
// end) and whether the smallest n cuts a block (masking needed from there).
struct KeyLimits {
    std::int64_t nmax = 0, nmin = std::numeric_limits<std::int64_t>::max();
};
inline KeyLimits key_limits(const std::int64_t* n, int rows) {
    KeyLimits k;
    for (int r = 0; r < rows; ++r) k.nmax = std::max(k.nmax, n[r]), k.nmin = std::min(k.nmin, n[r]);
    return k;
}

// ---------------------------------------------------------------- tile (queries in lanes)

// st[i * BM + lane] = sum_p k[i * k_rs + p] qt[p * BM + lane], i < R.
template <class T, int W, int QV, int R>
inline void qk_block(const T* k, std::int64_t k_rs, std::int64_t d, const T* qt, T* st) {
    using V = Vec<T, W>;
    constexpr int BM = QV * W;
    V acc[R][QV];
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
        for (int u = 0; u < QV; ++u) acc[i][u] = V{};
    for (std::int64_t p = 0; p < d; ++p) {
        V qv[QV];
#pragma GCC unroll 8
        for (int u = 0; u < QV; ++u) qv[u] = load<V>(qt + p * BM + u * W);
#pragma GCC unroll 16
        for (int i = 0; i < R; ++i) {
            const V ki = splat<V>(k[i * k_rs + p]);
#pragma GCC unroll 8
            for (int u = 0; u < QV; ++u) acc[i][u] = fmadd(ki, qv[u], acc[i][u]);
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
        for (int u = 0; u < QV; ++u) store(st + i * BM + u * W, acc[i][u]);
}

// ot[c * BM + lane] = alpha[lane] ot[c * BM + lane] + sum_jj v[jj * v_rs + c] pt[jj * BM + lane], c < C.
template <class T, int W, int QV, int C>
inline void pv_block(const T* v, std::int64_t v_rs, int bn, const T* pt, T* ot, const Vec<T, W>* alpha) {
    using V = Vec<T, W>;
    constexpr int BM = QV * W;
    V acc[C][QV];
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c)
#pragma GCC unroll 8
        for (int u = 0; u < QV; ++u) acc[c][u] = load<V>(ot + c * BM + u * W) * alpha[u];
    for (int jj = 0; jj < bn; ++jj) {
        V pv[QV];
#pragma GCC unroll 8
        for (int u = 0; u < QV; ++u) pv[u] = load<V>(pt + jj * BM + u * W);
#pragma GCC unroll 16
        for (int c = 0; c < C; ++c) {
            const V vc = splat<V>(v[jj * v_rs + c]);
#pragma GCC unroll 8
            for (int u = 0; u < QV; ++u) acc[c][u] = fmadd(vc, pv[u], acc[c][u]);
        }
    }
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c)
#pragma GCC unroll 8
        for (int u = 0; u < QV; ++u) store(ot + c * BM + u * W, acc[c][u]);
}

// The state of one tile: Q^T (d x BM), the block's scores S^T (BN x BM), O^T
// (dv x BM), per-lane key limits and the online-softmax state per lane.
template <class T, int QV, int BN>
struct TileState {
    static constexpr int W = lanes_of<T, simd::Isa::vec_bytes>();
    static constexpr int BM = QV * W;
    using V = Vec<T, W>;
    using IT = typename FloatBits<T>::I;
    using I = Vec<IT, W>;
    T* qt;
    T* st;
    T* ot;
    I nv[QV];
    V m[QV], l[QV];
};

// Q^T with zero lanes past the tile's rows, O^T = 0, the lanes' key limits, m = -inf, l = 0.
template <class T, int QV, int BN>
void tile_start(const Tile<T>& t, TileState<T, QV, BN>& s) {
    using S = TileState<T, QV, BN>;
    constexpr int W = S::W, BM = S::BM;
    using V = typename S::V;
    using IT = typename S::IT;
    s.qt = thread_scratch<T, 0>(static_cast<std::size_t>(t.d * BM));
    s.st = thread_scratch<T, 1>(static_cast<std::size_t>(BN * BM));
    s.ot = thread_scratch<T, 2>(static_cast<std::size_t>(t.dv * BM));
    for (std::int64_t p = 0; p < t.d; ++p)
        for (int r = 0; r < BM; ++r) s.qt[p * BM + r] = r < t.rows ? t.q[r * t.d + p] : T(0);
    std::fill(s.ot, s.ot + t.dv * BM, T(0));
    IT lane_n[BM];
    for (int r = 0; r < BM; ++r) lane_n[r] = r < t.rows ? static_cast<IT>(t.n[r]) : IT(0);
    for (int u = 0; u < QV; ++u) s.nv[u] = load<typename S::I>(lane_n + u * W);
    for (int u = 0; u < QV; ++u) s.m[u] = splat<V>(-std::numeric_limits<T>::infinity()), s.l[u] = V{};
}

// S^T for keys j0 .. j0 + bn, MR keys at a time.
template <class T, int QV, int MR, int BN>
void tile_scores(const TileState<T, QV, BN>& s, const T* kp, std::int64_t krs, std::int64_t d, int bn) {
    constexpr int W = TileState<T, QV, BN>::W, BM = TileState<T, QV, BN>::BM;
    int jj = 0;
    for (; jj + MR <= bn; jj += MR) qk_block<T, W, QV, MR>(kp + jj * krs, krs, d, s.qt, s.st + jj * BM);
    if (jj < bn)
        with_count<MR - 1>(bn - jj, [&](auto r) {
            qk_block<T, W, QV, decltype(r)::value>(kp + jj * krs, krs, d, s.qt, s.st + jj * BM);
        });
}

// Scores of keys at or past a lane's limit become -inf.
template <class T, int QV, int BN>
void tile_mask(const TileState<T, QV, BN>& s, std::int64_t j0, int bn) {
    using S = TileState<T, QV, BN>;
    constexpr int W = S::W, BM = S::BM;
    using V = typename S::V;
    using I = typename S::I;
    const V ninf = splat<V>(-std::numeric_limits<T>::infinity());
    for (int jj = 0; jj < bn; ++jj) {
        const I j = splat<I>(static_cast<typename S::IT>(j0 + jj));
        for (int u = 0; u < QV; ++u) {
            T* p = s.st + jj * BM + u * W;
            store(p, j < s.nv[u] ? load<V>(p) : ninf);
        }
    }
}

// One online-softmax step over the block, lane-wise: S^T becomes P^T; alpha rescales O^T.
template <class T, int QV, int BN>
void tile_softmax(TileState<T, QV, BN>& s, int bn, typename TileState<T, QV, BN>::V (&alpha)[QV]) {
    using S = TileState<T, QV, BN>;
    constexpr int W = S::W, BM = S::BM;
    using V = typename S::V;
    V mb[QV], shift[QV], sum[QV];
    block_max<T, W, QV>(s.st, bn, BM, mb);
    for (int u = 0; u < QV; ++u) shift[u] = raise_max<T, W>(s.m[u], mb[u], alpha[u]);
    exp2_block<T, W, QV>(s.st, bn, BM, shift, sum);
    for (int u = 0; u < QV; ++u) s.l[u] = rescaled_sum(s.l[u], alpha[u], sum[u]);
}

// O^T = alpha O^T + V^T P^T over the block, MC output columns at a time.
template <class T, int QV, int MC, int BN>
void tile_accumulate(const TileState<T, QV, BN>& s, const T* vp, std::int64_t vrs, std::int64_t dv, int bn,
                     const typename TileState<T, QV, BN>::V (&alpha)[QV]) {
    constexpr int W = TileState<T, QV, BN>::W, BM = TileState<T, QV, BN>::BM;
    std::int64_t c = 0;
    for (; c + MC <= dv; c += MC) pv_block<T, W, QV, MC>(vp + c, vrs, bn, s.st, s.ot + c * BM, alpha);
    if (c < dv)
        with_count<MC - 1>(static_cast<int>(dv - c), [&](auto cc) {
            pv_block<T, W, QV, decltype(cc)::value>(vp + c, vrs, bn, s.st, s.ot + c * BM, alpha);
        });
}

// m, l and O of the tile's rows, back from lanes to rows.
template <class T, int QV, int BN>
void tile_finish(const Tile<T>& t, const TileState<T, QV, BN>& s) {
    constexpr int W = TileState<T, QV, BN>::W, BM = TileState<T, QV, BN>::BM;
    T ml[2][BM];
    for (int u = 0; u < QV; ++u) store(ml[0] + u * W, s.m[u]), store(ml[1] + u * W, s.l[u]);
    for (int r = 0; r < t.rows; ++r) {
        t.m[r] = ml[0][r];
        t.l[r] = ml[1][r];
        T* o = t.o + r * t.dv;
        for (std::int64_t c = 0; c < t.dv; ++c) o[c] = s.ot[c * BM + r];
    }
}

template <class T, int QV, int MR, int MC, int BN>
void tile_kernel(const Tile<T>& t) {
    using S = TileState<T, QV, BN>;
    S s;
    T* kbuf = t.half ? thread_scratch<T, 3>(static_cast<std::size_t>(BN * t.d)) : nullptr;
    T* vbuf = t.half ? thread_scratch<T, 4>(static_cast<std::size_t>(BN * t.dv)) : nullptr;
    tile_start(t, s);
    const KeyLimits lim = key_limits(t.n, t.rows);
    const std::int64_t kend = std::min(t.ke, lim.nmax);
    for (std::int64_t j0 = t.kb; j0 < kend; j0 += BN) {
        const int bn = static_cast<int>(std::min<std::int64_t>(BN, kend - j0));
        std::int64_t krs, vrs;
        const T* kp = block_rows<T>(t.k, t.k_rs, j0, bn, t.d, t.half, kbuf, krs);
        const T* vp = block_rows<T>(t.v, t.v_rs, j0, bn, t.dv, t.half, vbuf, vrs);
        tile_scores<T, QV, MR>(s, kp, krs, t.d, bn);
        if (j0 + bn > lim.nmin) tile_mask(s, j0, bn);  // some row's limit falls inside this block
        typename S::V alpha[QV];
        tile_softmax(s, bn, alpha);
        tile_accumulate<T, QV, MC>(s, vp, vrs, t.dv, bn, alpha);
    }
    tile_finish(t, s);
}

// ---------------------------------------------------------------- decode (head dim in lanes)

// sc[r][jj] = q_r . k_jj for the block's keys, 4 keys at a time sharing each q load.
template <class T, int R, int BN>
void decode_scores(const Tile<T>& t, const T* kp, std::int64_t krs, int bn, T (&sc)[R][BN]) {
    constexpr int W = lanes_of<T, simd::Isa::vec_bytes>();
    using V = Vec<T, W>;
    const std::int64_t d = t.d, dvec = d / W * W;
    for (int jj = 0; jj < bn; jj += 4) {
        const int nk = std::min(4, bn - jj);
        V acc[R][4];
        for (int r = 0; r < R; ++r)
            for (int u = 0; u < 4; ++u) acc[r][u] = V{};
        const T* kr[4];
        for (int u = 0; u < 4; ++u) kr[u] = kp + (jj + std::min(u, nk - 1)) * krs;
        for (std::int64_t p = 0; p < dvec; p += W) {
            V kv[4];
#pragma GCC unroll 4
            for (int u = 0; u < 4; ++u) kv[u] = load<V>(kr[u] + p);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                const V qv = load<V>(t.q + r * d + p);
#pragma GCC unroll 4
                for (int u = 0; u < 4; ++u) acc[r][u] = fmadd(qv, kv[u], acc[r][u]);
            }
        }
        for (int r = 0; r < R; ++r)
            for (int u = 0; u < nk; ++u) {
                T s = hsum<T, W>(acc[r][u]);
                for (std::int64_t p = dvec; p < d; ++p) s = fmadd(t.q[r * d + p], kr[u][p], s);
                sc[r][jj + u] = s;
            }
    }
}

// -inf for the padding up to whole vectors, and (when `cut`) for keys at or past a row's limit.
template <class T, int R, int BN>
void decode_mask(const Tile<T>& t, std::int64_t j0, int bn, int bnv, bool cut, T (&sc)[R][BN]) {
    constexpr T ninf = -std::numeric_limits<T>::infinity();
    for (int r = 0; r < R; ++r) {
        for (int jj = bn; jj < bnv; ++jj) sc[r][jj] = ninf;
        if (cut)
            for (int jj = static_cast<int>(std::clamp<std::int64_t>(t.n[r] - j0, 0, bn)); jj < bn; ++jj) sc[r][jj] = ninf;
    }
}

// One online-softmax step per row, vectorized over the block's keys: scores become probabilities.
template <class T, int R, int BN>
void decode_softmax(int bnv, T (&sc)[R][BN], T (&m)[R], T (&l)[R], T (&alpha)[R]) {
    constexpr int W = lanes_of<T, simd::Isa::vec_bytes>();
    using V = Vec<T, W>;
    for (int r = 0; r < R; ++r) {
        V mb[1], shift[1], sum[1];
        block_max<T, W, 1>(sc[r], bnv / W, W, mb);
        const T s = raise_max<T, 1>(m[r], hmax<T, W>(mb[0]), alpha[r]);
        shift[0] = splat<V>(s);
        exp2_block<T, W, 1>(sc[r], bnv / W, W, shift, sum);
        l[r] = rescaled_sum(l[r], alpha[r], hsum<T, W>(sum[0]));
    }
}

// o_r = alpha_r o_r + sum_j p_rj v_j over the block: CV vectors of each row
// at a time, then single vectors, then the scalar tail.
template <class T, int R, int BN>
void decode_accumulate(const Tile<T>& t, const T* vp, std::int64_t vrs, int bn, const T (&sc)[R][BN],
                       const T (&alpha)[R]) {
    constexpr int W = lanes_of<T, simd::Isa::vec_bytes>();
    using V = Vec<T, W>;
    constexpr int CV = R >= 8 ? 1 : 8 / R;  // output vectors per row held in registers
    const std::int64_t dv = t.dv, dvvec = dv / W * W;
    std::int64_t c = 0;
    for (; c + CV * W <= dvvec; c += CV * W) {
        V acc[R][CV];
        for (int r = 0; r < R; ++r)
            for (int u = 0; u < CV; ++u) acc[r][u] = load<V>(t.o + r * dv + c + u * W) * alpha[r];
        for (int jj = 0; jj < bn; ++jj) {
            V vv[CV];
#pragma GCC unroll 8
            for (int u = 0; u < CV; ++u) vv[u] = load<V>(vp + jj * vrs + c + u * W);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                const V pr = splat<V>(sc[r][jj]);
#pragma GCC unroll 8
                for (int u = 0; u < CV; ++u) acc[r][u] = fmadd(pr, vv[u], acc[r][u]);
            }
        }
        for (int r = 0; r < R; ++r)
            for (int u = 0; u < CV; ++u) store(t.o + r * dv + c + u * W, acc[r][u]);
    }
    for (; c < dvvec; c += W) {
        V acc[R];
        for (int r = 0; r < R; ++r) acc[r] = load<V>(t.o + r * dv + c) * alpha[r];
        for (int jj = 0; jj < bn; ++jj) {
            const V vv = load<V>(vp + jj * vrs + c);
            for (int r = 0; r < R; ++r) acc[r] = fmadd(splat<V>(sc[r][jj]), vv, acc[r]);
        }
        for (int r = 0; r < R; ++r) store(t.o + r * dv + c, acc[r]);
    }
    for (; c < dv; ++c)
        for (int r = 0; r < R; ++r) {
            T acc = t.o[r * dv + c] * alpha[r];
            for (int jj = 0; jj < bn; ++jj) acc = fmadd(sc[r][jj], vp[jj * vrs + c], acc);
            t.o[r * dv + c] = acc;
        }
}

template <class T, int R, int BN>
void decode_rows(const Tile<T>& t) {
    constexpr int W = lanes_of<T, simd::Isa::vec_bytes>();
    static_assert(BN % W == 0);
    T* kbuf = t.half ? thread_scratch<T, 3>(static_cast<std::size_t>(BN * t.d)) : nullptr;
    T* vbuf = t.half ? thread_scratch<T, 4>(static_cast<std::size_t>(BN * t.dv)) : nullptr;
    alignas(64) T sc[R][BN];
    T m[R], l[R], alpha[R];
    for (int r = 0; r < R; ++r) m[r] = -std::numeric_limits<T>::infinity(), l[r] = 0;
    const KeyLimits lim = key_limits(t.n, R);
    std::fill(t.o, t.o + R * t.dv, T(0));
    const std::int64_t kend = std::min(t.ke, lim.nmax);
    for (std::int64_t j0 = t.kb; j0 < kend; j0 += BN) {
        const int bn = static_cast<int>(std::min<std::int64_t>(BN, kend - j0));
        const int bnv = (bn + W - 1) / W * W;
        std::int64_t krs, vrs;
        const T* kp = block_rows<T>(t.k, t.k_rs, j0, bn, t.d, t.half, kbuf, krs);
        const T* vp = block_rows<T>(t.v, t.v_rs, j0, bn, t.dv, t.half, vbuf, vrs);
        decode_scores<T, R, BN>(t, kp, krs, bn, sc);
        decode_mask<T, R, BN>(t, j0, bn, bnv, j0 + bn > lim.nmin, sc);
        decode_softmax<T, R, BN>(bnv, sc, m, l, alpha);
        decode_accumulate<T, R, BN>(t, vp, vrs, bn, sc, alpha);
    }
    for (int r = 0; r < R; ++r) t.m[r] = m[r], t.l[r] = l[r];
}

template <class T, int RMAX, int BN>
void decode_kernel(const Tile<T>& t) {
    with_count<RMAX>(t.rows, [&](auto r) { decode_rows<T, decltype(r)::value, BN>(t); });
}

}  // namespace

Kernels<float> kernels32() {
    constexpr int W = lanes_of<float, simd::Isa::vec_bytes>();
    return {simd::Isa::Attention::qv32 * W, simd::Isa::Attention::decode_rows, simd::Isa::Attention::bn,
            &tile_kernel<float, simd::Isa::Attention::qv32, simd::Isa::Attention::mr32, simd::Isa::Attention::mc32, simd::Isa::Attention::bn>,
            &decode_kernel<float, simd::Isa::Attention::decode_rows, simd::Isa::Attention::decode_bn>};
}

Kernels<double> kernels64() {
    constexpr int W = lanes_of<double, simd::Isa::vec_bytes>();
    return {simd::Isa::Attention::qv64 * W, simd::Isa::Attention::decode_rows, simd::Isa::Attention::bn,
            &tile_kernel<double, simd::Isa::Attention::qv64, simd::Isa::Attention::mr64, simd::Isa::Attention::mc64, simd::Isa::Attention::bn>,
            &decode_kernel<double, simd::Isa::Attention::decode_rows, simd::Isa::Attention::decode_bn>};
}

}  // namespace logsketch::attention::LOGSKETCH_ISA
