// The SRHT: y = sqrt(1/k) * (H D x)[s_0 .. s_{k-1}], H the unnormalized n x n
// Walsh-Hadamard matrix (n = d rounded up to a power of two), D the random
// signs and s the sampled rows (jl_random.hpp).  sqrt(1/k) H is the issue's
// sqrt(n/k) times the orthonormal H / sqrt(n).
//
// Dense rows: copy with the signs applied (a sign-bit xor), zero-pad to n,
// transform in place (fwht_kernels_*), pick the k sampled entries.  Sparse
// rows with few nonzeros skip the transform: y_c = sum over the nonzeros of
// +-x_j with the sign of D_j H[s_c, j], whichever costs fewer operations
// (decided per row from that row alone, so chunking X never changes it).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "../runtime/scratch.hpp"
#include "../runtime/threads.hpp"
#include "jl.hpp"
#include "jl_drivers.hpp"
#include "jl_kernels.hpp"
#include "../core/jl_random.hpp"
#include "jl_rows.hpp"

namespace logsketch::jl {
namespace {

constexpr std::int64_t kRowBlock = 16;
constexpr std::int64_t kBlockBytes = 8 << 20;

// What every SRHT call needs: the padded order n = 2^log2n, the sign flips
// (flip[j] = -0.0 where D_j = -1, +0.0 elsewhere), the sampled rows, the scale.
template <class T>
struct Srht {
    int log2n = 0;
    std::int64_t n = 1;
    FwhtKernels<T> fk = active_fwht_kernels<T>();
    std::vector<T> flip;
    std::vector<std::int64_t> s;
    T scale;

    explicit Srht(const Matrix& m) : scale(static_cast<T>(random::srht_scale(m.k))) {
        while (n < m.d) n *= 2, ++log2n;
        const RandomKernels rk = active_random_kernels();
        const std::int64_t nq = (m.d + 3) / 4;
        std::vector<std::uint32_t> words(static_cast<std::size_t>(4 * nq));
        rk.words_row(m.seed, random::kTagSrhtSign, 0, 0, nq, words.data());
        flip.resize(static_cast<std::size_t>(m.d));
        for (std::int64_t j = 0; j < m.d; ++j) flip[j] = (words[j] >> 31) ? T(-0.0) : T(0.0);
        s = srht_sample(m.seed, m.k, n);
    }

    // y_i = scale * buf[s], for the transformed row buf.
    void pick(const T* buf, T* yi) const {
        for (std::size_t c = 0; c < s.size(); ++c) yi[c] = buf[s[c]] * scale;
    }
};

template <class T>
void dense(const Matrix& m, const DenseX& in, T* y) {
    const Srht<T> h(m);
    const T* x = static_cast<const T*>(in.x);
    if (in.cs == 1) {
        parallel_for(in.n, [&](std::int64_t i) {
            T* buf = thread_scratch<T, 0>(static_cast<std::size_t>(h.n));
            const T* next = i + 1 < in.n ? x + (i + 1) * in.rs : nullptr;
            h.fk.signed_fwht(x + i * in.rs, 1, m.d, h.flip.data(), h.log2n, buf, next);
            h.pick(buf, y + i * m.k);
        });
        return;
    }
    // Other layouts: blocks of rows copied row-major first (kRowBlock rows:
    // one 64-byte line of a column-major float32 X; capped at kBlockBytes:
    // docs/tuning.md, "SRHT: other layouts in row blocks").
    const std::int64_t block = std::clamp<std::int64_t>(kBlockBytes / (m.d * std::int64_t(sizeof(T))), 1, kRowBlock);
    const std::int64_t ld = m.d + 64 / std::int64_t(sizeof(T));  // rows a power of two apart alias in L1
    parallel_for((in.n + block - 1) / block, [&](std::int64_t b) {
        const std::int64_t i0 = b * block, rows = std::min(block, in.n - i0);
        T* buf = thread_scratch<T, 0>(static_cast<std::size_t>(h.n));
        T* copy = thread_scratch<T, 1>(static_cast<std::size_t>(block * ld));
        copy_rows(x, in.rs, in.cs, i0, rows, 0, m.d, rows, ld, copy);
        for (std::int64_t i = 0; i < rows; ++i) {
            h.fk.signed_fwht(copy + i * ld, 1, m.d, h.flip.data(), h.log2n, buf, nullptr);
            h.pick(buf, y + (i0 + i) * m.k);
        }
    });
}

template <class T>
void components(const Matrix& m, T* out) {
    const Srht<T> h(m);
    parallel_for(m.k, [&](std::int64_t c) {
        const auto row = static_cast<std::uint64_t>(h.s[c]);
        T* out_c = out + c * m.d;
        for (std::int64_t j = 0; j < m.d; ++j) {
            const bool negative = __builtin_parityll(row & static_cast<std::uint64_t>(j)) != std::signbit(h.flip[j]);
            out_c[j] = negative ? -h.scale : h.scale;
        }
    });
}

template <class T, class I>
void csr(const Matrix& m, const CsrX& in, T* y) {
    const Srht<T> h(m);
    const CsrView<T, I> x(in);
    const std::vector<std::uint32_t> s32(h.s.begin(), h.s.end());
    // Operations per row: the transform's n log2 n + n against nnz * k.
    const std::int64_t transform_cost = h.n * (h.log2n + 1);
    parallel_for(in.n, [&](std::int64_t i) {
        const std::int64_t a = x.indptr[i], nnz = x.indptr[i + 1] - a;
        T* yi = y + i * m.k;
        if (nnz * m.k <= transform_cost) {
            std::uint32_t* cols = thread_scratch<std::uint32_t, 1>(static_cast<std::size_t>(nnz));
            T* vals = thread_scratch<T, 2>(static_cast<std::size_t>(nnz));
            for (std::int64_t t = 0; t < nnz; ++t) {
                const std::int64_t j = x.indices[a + t];
                cols[t] = static_cast<std::uint32_t>(j);
                vals[t] = std::signbit(h.flip[j]) ? -x.data[a + t] : x.data[a + t];
            }
            h.fk.sampled_sum(vals, cols, nnz, s32.data(), m.k, yi);
            for (std::int64_t c = 0; c < m.k; ++c) yi[c] *= h.scale;
        } else {
            T* buf = thread_scratch<T, 0>(static_cast<std::size_t>(h.n));
            std::fill(buf, buf + h.n, T(0));
            for (std::int64_t t = a; t < a + nnz; ++t) {
                const std::int64_t j = x.indices[t];
                buf[j] = std::signbit(h.flip[j]) ? -x.data[t] : x.data[t];
            }
            h.fk.fwht(buf, h.log2n);
            h.pick(buf, yi);
        }
    });
}

}  // namespace

std::vector<std::int64_t> srht_sample(std::uint64_t seed, std::int64_t k, std::int64_t n) {
    const philox::Key key = philox::key_from_seed(seed);
    std::unordered_map<std::int64_t, std::int64_t> moved;  // positions whose value is not their index
    auto value_at = [&](std::int64_t pos) {
        const auto it = moved.find(pos);
        return it == moved.end() ? pos : it->second;
    };
    std::vector<std::int64_t> s(static_cast<std::size_t>(k));
    for (std::int64_t t = 0; t < k; ++t) {
        const auto q = static_cast<std::uint64_t>(t);
        const auto b = philox::block<philox::ScalarLanes>(key, static_cast<std::uint32_t>(q),
                                                          static_cast<std::uint32_t>(q >> 32), 0,
                                                          random::kTagSrhtSample);
        const std::uint64_t w = b.x0 | (static_cast<std::uint64_t>(b.x1) << 32);
        const auto span = static_cast<std::uint64_t>(n - t);
        const std::int64_t pick = t + static_cast<std::int64_t>((static_cast<unsigned __int128>(w) * span) >> 64);
        const std::int64_t vt = value_at(t), vp = value_at(pick);
        moved[pick] = vt;
        moved[t] = vp;
        s[static_cast<std::size_t>(t)] = vp;
    }
    return s;
}

void srht_dense(const Matrix& m, const DenseX& x, void* y) {
    dispatch_dtype(x.dtype, y, [&](auto* t) { dense(m, x, t); });
}

void srht_components(const Matrix& m, Dtype dtype, void* out) {
    dispatch_dtype(dtype, out, [&](auto* t) { components(m, t); });
}

void srht_csr(const Matrix& m, const CsrX& x, void* y) {
    dispatch_csr(x, y, [&](auto tag_t, auto tag_i, auto* yt) {
        csr<decltype(tag_t), decltype(tag_i)>(m, x, yt);
    });
}

}  // namespace logsketch::jl
