// The sparse kind: R[c, j] in {+scale, 0, -scale} (jl_random.hpp), applied
// with additions and subtractions only.  Each entry of X is multiplied by the
// scale as it is read (the terms are x_ij * scale, as in X R^T), so a sum
// whose scaled value is representable does not overflow on the way.
//
// Dense X: per column tile, the lists of R's nonzero columns of every row
// (plus first, then minus); blocks of rows of X are transposed so that one
// vector holds one column of a block, and each output is a sum of such
// vectors (jl_gather_kernels_*).  CSR X: per column tile, the lists of R's
// nonzero rows of every column; each x_ij is added to or subtracted from the
// outputs of column j's rows, in increasing j.  Tiles bound the lists' memory,
// so nothing grows with k x d.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../runtime/precondition.hpp"
#include "../runtime/scratch.hpp"
#include "../runtime/threads.hpp"
#include "jl.hpp"
#include "jl_drivers.hpp"
#include "jl_kernels.hpp"
#include "../core/jl_random.hpp"

namespace logsketch::jl {
namespace {

constexpr std::int64_t kListBytes = 16 << 20;  // nonzero lists of one tile
constexpr std::int64_t kXtBytes = 512 << 10;   // one thread's transposed block of X: in L2
constexpr std::int64_t kLinesPerTask = 64;     // rows (or column blocks of 4) of R per generation task

// Per line l (a row or a column of R): idx[bounds[2l], bounds[2l+1]) hold the
// positions of +scale, idx[bounds[2l+1], bounds[2l+2]) those of -scale, both
// increasing.  Interleaved, a line's bounds share a cache line.
struct Lists {
    std::vector<std::int64_t> bounds{0};
    std::vector<std::uint32_t> idx;

    // Appends one line from its words: word t belongs to position t.
    void add_line(const std::uint32_t* words, std::int64_t count, std::uint32_t half, std::uint32_t* minus) {
        const std::size_t start = idx.size();
        idx.resize(start + static_cast<std::size_t>(count));
        std::uint32_t* plus = idx.data() + start;
        std::int64_t np = 0, nm = 0;
        for (std::int64_t t = 0; t < count; ++t) {  // branch-free: densities near 1/2 mispredict
            const std::uint32_t x = words[t];
            plus[np] = minus[nm] = static_cast<std::uint32_t>(t);
            np += x < half;
            nm += x >= half && x - half < half;
        }
        std::copy(minus, minus + nm, plus + np);
        idx.resize(start + static_cast<std::size_t>(np + nm));
        bounds.push_back(static_cast<std::int64_t>(start) + np);
        bounds.push_back(static_cast<std::int64_t>(idx.size()));
    }

    void append(const Lists& part) {
        const std::int64_t base = static_cast<std::int64_t>(idx.size());
        idx.insert(idx.end(), part.idx.begin(), part.idx.end());
        for (std::size_t b = 1; b < part.bounds.size(); ++b) bounds.push_back(base + part.bounds[b]);
    }
};

// Builds `lines` lines in tasks of kLinesPerTask, in parallel, joined in order.
template <class Fill>
Lists build(std::int64_t lines, Fill&& fill) {
    const std::int64_t tasks = (lines + kLinesPerTask - 1) / kLinesPerTask;
    std::vector<Lists> parts(static_cast<std::size_t>(tasks));
    parallel_for(tasks, [&](std::int64_t t) {
        fill(parts[static_cast<std::size_t>(t)], t * kLinesPerTask, std::min(lines, (t + 1) * kLinesPerTask));
    });
    Lists all;
    for (const Lists& part : parts) all.append(part);
    return all;
}

// Rows [0, k) of R over columns [j0, j1), j0 % 4 == 0; positions relative to j0.
Lists row_lists(const Matrix& m, std::uint32_t half, std::int64_t j0, std::int64_t j1) {
    const RandomKernels rk = active_random_kernels();
    const std::int64_t cols = j1 - j0, nq = (cols + 3) / 4;
    return build(m.k, [&](Lists& out, std::int64_t c0, std::int64_t c1) {
        std::uint32_t* words = thread_scratch<std::uint32_t, 0>(static_cast<std::size_t>(4 * nq));
        std::uint32_t* minus = thread_scratch<std::uint32_t, 1>(static_cast<std::size_t>(cols));
        for (std::int64_t c = c0; c < c1; ++c) {
            rk.words_row(m.seed, random::kTagSparse, static_cast<std::uint32_t>(c), j0 / 4, nq, words);
            out.add_line(words, cols, half, minus);
        }
    });
}

// Columns [j0, j1) of R (j0 % 4 == 0), each listing its rows c.
Lists column_lists(const Matrix& m, std::uint32_t half, std::int64_t j0, std::int64_t j1) {
    const RandomKernels rk = active_random_kernels();
    const std::int64_t ld = (m.k + rk.lanes - 1) / rk.lanes * rk.lanes;
    const std::int64_t q0 = j0 / 4, nq = (j1 - j0 + 3) / 4;
    return build(nq, [&](Lists& out, std::int64_t b0, std::int64_t b1) {
        std::uint32_t* words = thread_scratch<std::uint32_t, 0>(static_cast<std::size_t>(4 * ld));
        std::uint32_t* minus = thread_scratch<std::uint32_t, 1>(static_cast<std::size_t>(ld));
        for (std::int64_t b = b0; b < b1; ++b) {
            rk.words_col(m.seed, random::kTagSparse, q0 + b, 0, ld, words);
            const std::int64_t cols = std::min<std::int64_t>(4, j1 - j0 - 4 * b);
            for (std::int64_t w = 0; w < cols; ++w) out.add_line(words + w * ld, m.k, half, minus);
        }
    });
}

// Columns per tile: the lists (about 4 bytes per nonzero) within kListBytes.
std::int64_t list_tile(const Matrix& m, std::int64_t cap) {
    const double per_column = 4.0 * static_cast<double>(m.k) * m.density + 16.0;
    const auto cols = static_cast<std::int64_t>(static_cast<double>(kListBytes) / per_column);
    return std::clamp<std::int64_t>(cols / 4 * 4, 4, std::max<std::int64_t>(4, cap));
}

template <class T>
void dense(const Matrix& m, const DenseX& in, T* y) {
    const std::int64_t n = in.n, d = m.d, k = m.k;
    const T* x = static_cast<const T*>(in.x);
    const GatherKernels<T> gk = active_gather_kernels<T>();
    const std::int64_t rows = gk.rows;
    const std::uint32_t half = random::sparse_half(m.density);
    const T scale = static_cast<T>(random::sparse_scale(k, m.density));
    const std::int64_t xt_cols = kXtBytes / static_cast<std::int64_t>(rows * sizeof(T));
    const std::int64_t tj = list_tile(m, std::min((d + 3) / 4 * 4, xt_cols));
    const std::int64_t blocks = (n + rows - 1) / rows;
    for (std::int64_t j0 = 0; j0 < d; j0 += tj) {
        const std::int64_t j1 = std::min(d, j0 + tj);
        const bool first = j0 == 0;
        const Lists lists = row_lists(m, half, j0, j1);
        parallel_for(blocks, [&](std::int64_t b) {
            const std::int64_t r = std::min(rows, n - b * rows);
            T* xt = thread_scratch<T, 2>(static_cast<std::size_t>(tj * rows));
            T* out = thread_scratch<T, 3>(static_cast<std::size_t>(k * rows));
            gk.transpose(x + b * rows * in.rs + j0 * in.cs, in.rs, in.cs, r, j1 - j0, xt);
            for (std::int64_t e = 0, ne = (j1 - j0) * rows; e < ne; ++e) xt[e] *= scale;
            gk.gather(xt, k, lists.bounds.data(), lists.idx.data(), out);
            for (std::int64_t i = 0; i < r; ++i) {
                T* yi = y + (b * rows + i) * k;
                for (std::int64_t c = 0; c < k; ++c) {
                    const T v = out[c * rows + i];
                    yi[c] = first ? v : yi[c] + v;
                }
            }
        });
    }
}

template <class T, class I>
void csr(const Matrix& m, const CsrX& in, T* y) {
    const std::int64_t n = in.n, d = m.d, k = m.k;
    const CsrView<T, I> x(in);
    const std::uint32_t half = random::sparse_half(m.density);
    const T scale = static_cast<T>(random::sparse_scale(k, m.density));
    const std::int64_t tj = list_tile(m, (d + 3) / 4 * 4);
    std::vector<std::int64_t> pos(x.indptr, x.indptr + n);  // each row's first nonzero not yet added
    for (std::int64_t j0 = 0; j0 < d; j0 += tj) {
        const std::int64_t j1 = std::min(d, j0 + tj);
        const bool first = j0 == 0;
        const Lists lists = column_lists(m, half, j0, j1);
        const std::int64_t* bounds = lists.bounds.data();
        const std::uint32_t* rows = lists.idx.data();
        parallel_for(n, [&](std::int64_t i) {
            T* yi = y + i * k;
            if (first) std::fill(yi, yi + k, T(0));
            std::int64_t t = pos[i];
            for (const std::int64_t end = x.indptr[i + 1]; t < end && x.indices[t] < j1; ++t) {
                const T v = x.data[t] * scale;
                const std::int64_t* b = bounds + 2 * (x.indices[t] - j0);
                for (std::int64_t u = b[0]; u < b[1]; ++u) yi[rows[u]] += v;
                for (std::int64_t u = b[1]; u < b[2]; ++u) yi[rows[u]] -= v;
            }
            pos[i] = t;
        });
    }
}

// Calls row(c, words) for each row c of R with all its words, in parallel.
template <class Row>
void each_row(const Matrix& m, Row&& row) {
    const RandomKernels rk = active_random_kernels();
    const std::int64_t nq = (m.d + 3) / 4;
    parallel_for(m.k, [&](std::int64_t c) {
        std::uint32_t* words = thread_scratch<std::uint32_t, 0>(static_cast<std::size_t>(4 * nq));
        rk.words_row(m.seed, random::kTagSparse, static_cast<std::uint32_t>(c), 0, nq, words);
        row(c, words);
    });
}

template <class T>
void fill(const Matrix& m, const std::int64_t* indptr, std::int64_t* indices, T* data) {
    const std::uint32_t half = random::sparse_half(m.density);
    const T scale = static_cast<T>(random::sparse_scale(m.k, m.density));
    each_row(m, [&](std::int64_t c, const std::uint32_t* words) {
        std::int64_t at = indptr[c];
        for (std::int64_t j = 0; j < m.d; ++j) {
            const int s = random::sparse_sign(words[j], half);
            if (s == 0) continue;
            indices[at] = j;
            data[at++] = s > 0 ? scale : -scale;
        }
    });
}

}  // namespace

void sparse_dense(const Matrix& m, const DenseX& x, void* y) {
    dispatch_dtype(x.dtype, y, [&](auto* t) { dense(m, x, t); });
}

void sparse_csr(const Matrix& m, const CsrX& x, void* y) {
    dispatch_csr(x, y, [&](auto tag_t, auto tag_i, auto* yt) {
        csr<decltype(tag_t), decltype(tag_i)>(m, x, yt);
    });
}

void sparse_row_counts(const Matrix& m, std::int64_t* counts) {
    LOGSKETCH_REQUIRE(m.kind == Kind::sparse && well_formed(m));
    const std::uint32_t half = random::sparse_half(m.density);
    each_row(m, [&](std::int64_t c, const std::uint32_t* words) {
        std::int64_t count = 0;
        for (std::int64_t j = 0; j < m.d; ++j) count += random::sparse_sign(words[j], half) != 0;
        counts[c] = count;
    });
}

void sparse_fill(const Matrix& m, Dtype dtype, const std::int64_t* indptr, std::int64_t* indices, void* data) {
    LOGSKETCH_REQUIRE(m.kind == Kind::sparse && well_formed(m));
    dispatch_dtype(dtype, data, [&](auto* t) { fill(m, indptr, indices, t); });
}

}  // namespace logsketch::jl
