// The gaussian kind: Y = scale * (X Z^T), Z the k x d standard normals of
// jl_random.hpp and scale = sqrt(1/k), without ever holding Z whole.
//
// Dense X: a GEMM whose B operand is generated, not read: for each KC-deep
// slice of the d columns and each NC-wide block of outputs, the threads
// generate Z's block straight into micro-panel order (KC x NR, in L2), then
// run the micro-kernels over their rows of X.  Each output element is a sum
// of per-slice fma chains (increasing j within a slice, slices added in
// order); KC is fixed, so the bits do not depend on the thread count or on
// which rows of X come together.
//
// CSR X: Z^T is generated in column tiles (up to 16 MiB, in L3), and each row
// of X sums x_ij * Z[:, j] over its nonzeros in the tile, in increasing j, an
// output chunk at a time in registers.
#include <algorithm>
#include <cstdint>
#include <cstring>
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

// A deeper KC means fewer passes over Y; a 1024 x 256 block of Z and 4
// micro-panels of rows stay in L2 (docs/tuning.md, "Gaussian kind: dense blocking").
constexpr std::int64_t kKC = 1024;
constexpr std::int64_t kNC = 256;
constexpr std::int64_t kMCBlocks = 4;  // micro-panels of rows per step of a thread
// CSR X: Z^T tiles of at most 16 MiB, so a tile stays in the 32 MiB L3 while
// every row of X visits it; each tile costs a pass over Y (docs/tuning.md,
// "Gaussian kind: CSR tiles").
constexpr std::int64_t kTileBytes = 16 << 20;

template <class T>
void generate(const RandomKernels& rk, std::uint64_t seed, std::int64_t c0, std::int64_t nc, std::int64_t c_end,
              std::int64_t j0, std::int64_t nj, T* out, std::int64_t ld) {
    if constexpr (sizeof(T) == 4) rk.gaussian_block32(seed, c0, nc, c_end, j0, nj, out, ld);
    else rk.gaussian_block64(seed, c0, nc, c_end, j0, nj, out, ld);
}

template <class T>
void dense(const Matrix& m, const DenseX& in, T* y) {
    const std::int64_t n = in.n, d = m.d, k = m.k;
    const T* x = static_cast<const T*>(in.x);
    const GemmKernels<T> gk = active_gemm_kernels<T>();
    const RandomKernels rk = active_random_kernels();
    const std::int64_t mr = gk.mr, nr = gk.nr;
    const T scale = static_cast<T>(random::gaussian_scale(k));
    const std::int64_t nc_max = (std::min(kNC, k) + nr - 1) / nr * nr;
    std::vector<T> z(static_cast<std::size_t>(nc_max * kKC));
    const int threads = get_num_threads();
    const std::int64_t row_blocks = (n + mr - 1) / mr;

    for (std::int64_t jc = 0; jc < d; jc += kKC) {
        const std::int64_t kc = std::min(kKC, d - jc);
        const bool first = jc == 0, last = jc + kc == d;
        for (std::int64_t c0 = 0; c0 < k; c0 += nc_max) {
            const std::int64_t nc = std::min(nc_max, k - c0);
            const std::int64_t panels = (nc + nr - 1) / nr;
            parallel_for(panels, [&](std::int64_t p) {
                generate(rk, m.seed, c0 + p * nr, nr, k, jc, kc, z.data() + p * nr * kc, nr);
            }, threads);
            // Threads take equal shares of the row micro-panels; with fewer
            // micro-panels than threads they split the output panels too.
            const std::int64_t row_parts = std::min<std::int64_t>(threads, row_blocks);
            const std::int64_t col_parts = std::clamp<std::int64_t>(threads / row_parts, 1, panels);
            parallel_for(row_parts * col_parts, [&](std::int64_t task) {
                const std::int64_t rpart = task / col_parts, cpart = task % col_parts;
                const std::int64_t b0 = row_blocks * rpart / row_parts, b1 = row_blocks * (rpart + 1) / row_parts;
                const std::int64_t q0 = panels * cpart / col_parts, q1 = panels * (cpart + 1) / col_parts;
                // Copies pad their rows so that rows a power of two apart do not alias in L1.
                const std::int64_t ldc = kc + 64 / static_cast<std::int64_t>(sizeof(T));
                T* xcopy = thread_scratch<T, 0>(static_cast<std::size_t>(kMCBlocks * mr * ldc));
                T* tile = thread_scratch<T, 1>(static_cast<std::size_t>(mr * nr));
                const T* src[kMCBlocks];
                std::int64_t ld[kMCBlocks];
                for (std::int64_t bs = b0; bs < b1 && !cancellation_requested(); bs += kMCBlocks) {
                    const std::int64_t be = std::min(b1, bs + kMCBlocks);
                    // Full blocks of row-major X are read in place (no packing:
                    // the micro-kernel broadcasts along its rows); the rest is
                    // copied once per step, zero-padded.
                    for (std::int64_t b = bs; b < be; ++b) {
                        const std::int64_t rows = std::min(mr, n - b * mr);
                        if (rows == mr && in.cs == 1) {
                            src[b - bs] = x + b * mr * in.rs + jc;
                            ld[b - bs] = in.rs;
                        } else {
                            T* dst = xcopy + (b - bs) * mr * ldc;
                            copy_rows(x, in.rs, in.cs, b * mr, rows, jc, kc, mr, ldc, dst);
                            src[b - bs] = dst;
                            ld[b - bs] = ldc;
                        }
                    }
                    for (std::int64_t q = q0; q < q1; ++q) {
                        const std::int64_t cols = std::min(nr, nc - q * nr);
                        const T* zp = z.data() + q * nr * kc;
                        for (std::int64_t b = bs; b < be; ++b) {
                            const std::int64_t rows = std::min(mr, n - b * mr);
                            T* yt = y + b * mr * k + c0 + q * nr;
                            if (rows == mr && cols == nr) {
                                gk.gemm(kc, src[b - bs], ld[b - bs], zp, yt, k, !first, last, scale);
                                continue;
                            }
                            for (std::int64_t i = 0; i < rows; ++i)  // edge tile: through a buffer
                                std::memcpy(tile + i * nr, yt + i * k, static_cast<std::size_t>(cols) * sizeof(T));
                            gk.gemm(kc, src[b - bs], ld[b - bs], zp, tile, nr, !first, last, scale);
                            for (std::int64_t i = 0; i < rows; ++i)
                                std::memcpy(yt + i * k, tile + i * nr, static_cast<std::size_t>(cols) * sizeof(T));
                        }
                    }
                }
            }, threads);
        }
    }
}

template <class T, class I>
void csr(const Matrix& m, const CsrX& in, T* y) {
    const std::int64_t n = in.n, d = m.d, k = m.k;
    const CsrView<T, I> x(in);
    const GemmKernels<T> gk = active_gemm_kernels<T>();
    const RandomKernels rk = active_random_kernels();
    const T scale = static_cast<T>(random::gaussian_scale(k));
    const std::int64_t ld = (k + rk.lanes - 1) / rk.lanes * rk.lanes;
    const std::int64_t tile_cols = std::max<std::int64_t>(4, kTileBytes / static_cast<std::int64_t>(ld * sizeof(T)) / 4 * 4);
    const std::int64_t tj = std::min(tile_cols, (d + 3) / 4 * 4);
    std::vector<T> zt(static_cast<std::size_t>(tj * ld));
    std::vector<std::int64_t> pos(x.indptr, x.indptr + n);  // each row's first nonzero not yet added
    const int threads = get_num_threads();
    constexpr std::int64_t kGenCols = 64;

    for (std::int64_t j0 = 0; j0 < d; j0 += tj) {
        const std::int64_t j1 = std::min(d, j0 + tj);
        parallel_for((j1 - j0 + kGenCols - 1) / kGenCols, [&](std::int64_t t) {
            const std::int64_t a = j0 + t * kGenCols, cols = std::min(kGenCols, j1 - a);
            generate(rk, m.seed, 0, ld, k, a, cols, zt.data() + (a - j0) * ld, ld);
        }, threads);
        const bool first = j0 == 0, last = j1 == d;
        parallel_for(n, [&](std::int64_t i) {
            const std::int64_t b = pos[i];
            std::int64_t e = b;
            for (const std::int64_t end = x.indptr[i + 1]; e < end && x.indices[e] < j1; ++e) {}
            const T** rows = thread_scratch<const T*, 0>(static_cast<std::size_t>(e - b));
            for (std::int64_t t = b; t < e; ++t) rows[t - b] = zt.data() + (x.indices[t] - j0) * ld;
            gk.sparse_rows(k, e - b, x.data + b, rows, y + i * k, first, last, scale);
            pos[i] = e;
        }, threads);
    }
}

// Row-major R = scale * Z, through blocks of `lanes` rows generated column-major.
template <class T>
void components(const Matrix& m, T* out) {
    const RandomKernels rk = active_random_kernels();
    const std::int64_t lanes = rk.lanes, d = m.d, k = m.k;
    const T scale = static_cast<T>(random::gaussian_scale(k));
    constexpr std::int64_t kCols = 1024;
    parallel_for((k + lanes - 1) / lanes, [&](std::int64_t b) {
        const std::int64_t c0 = b * lanes, rows = std::min(lanes, k - c0);
        T* buf = thread_scratch<T, 0>(static_cast<std::size_t>(kCols * lanes));
        for (std::int64_t j0 = 0; j0 < d; j0 += kCols) {
            const std::int64_t nj = std::min(kCols, d - j0);
            generate(rk, m.seed, c0, lanes, k, j0, nj, buf, lanes);
            for (std::int64_t i = 0; i < rows; ++i)
                for (std::int64_t p = 0; p < nj; ++p) out[(c0 + i) * d + j0 + p] = buf[p * lanes + i] * scale;
        }
    });
}

}  // namespace

void gaussian_components(const Matrix& m, Dtype dtype, void* out) {
    dispatch_dtype(dtype, out, [&](auto* t) { components(m, t); });
}

void gaussian_dense(const Matrix& m, const DenseX& x, void* y) {
    dispatch_dtype(x.dtype, y, [&](auto* t) { dense(m, x, t); });
}

void gaussian_csr(const Matrix& m, const CsrX& x, void* y) {
    dispatch_csr(x, y, [&](auto tag_t, auto tag_i, auto* yt) {
        csr<decltype(tag_t), decltype(tag_i)>(m, x, yt);
    });
}

}  // namespace logsketch::jl
