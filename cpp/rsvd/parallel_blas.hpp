// The randomized SVD's BLAS-3 calls, split over logsketch's threads with
// OpenBLAS itself single-threaded (blas::single_threaded): two thread pools
// taking turns on the same cores cost more than the work between them
// (docs/tuning.md, "One thread pool").  Splitting here also fixes the bits:
// every call covers a fixed chunk of output rows, and the reductions run over
// fixed row chunks summed in order, so results do not depend on the thread
// count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../runtime/scratch.hpp"
#include "../runtime/threads.hpp"
#include "lapack.hpp"

namespace logsketch::rsvd::par {

// Threads for `work` multiply-adds: about 2^18 or more each.
inline int threads_for(double work, std::int64_t rows) {
    const double by_work = std::max(1.0, work / double(1 << 18));
    return static_cast<int>(std::min<double>({double(get_num_threads()), by_work, double(std::max<std::int64_t>(rows, 1))}));
}

// Rows per BLAS call.  Fixed, whatever the thread count: OpenBLAS's bits
// depend on the sizes it is called with (a 9000-row product differs in the
// last bits from its two 4500-row halves), so only a fixed split keeps the
// results independent of the threads.  512: the fastest size (docs/tuning.md,
// "Rows per BLAS call").
constexpr std::int64_t kRows = 512;

// Runs body(r0, r1) on every kRows-row chunk of [0, rows), the chunks spread
// over the threads `work` (multiply-adds) deserves.
template <class Body>
void row_chunks(std::int64_t rows, double work, Body&& body) {
    const std::int64_t chunks = std::max<std::int64_t>(1, (rows + kRows - 1) / kRows);
    const int threads = threads_for(work, chunks);
    parallel_for(threads, [&](std::int64_t t) {
        // A cancelled call (Ctrl-C) stops between chunks; the pool then throws.
        for (std::int64_t c = chunks * t / threads; c < chunks * (t + 1) / threads && !cancellation_requested(); ++c)
            body(c * kRows, std::min(rows, (c + 1) * kRows));
    }, threads);
}

// C = op(A) op(B) (row-major, beta = 0), split by rows of C.
template <class T>
void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda, const T* b,
          std::int64_t ldb, T* c, std::int64_t ldc) {
    row_chunks(m, double(m) * n * k, [&](std::int64_t r0, std::int64_t r1) {
        // Row r of op(A) is row r of A, or column r of A when transposed.
        const T* a0 = ta ? a + r0 : a + r0 * lda;
        lapack::gemm(ta, tb, r1 - r0, n, k, T(1), a0, lda, b, ldb, T(0), c + r0 * ldc, ldc);
    });
}

// Y = op(A) X (row-major, Y m x l, X k x l) for a large A and a thin X: the
// power iteration's products.  OpenBLAS runs them faster as Y^T = X^T op(A)^T,
// the thin operand on the left (docs/tuning.md, "Product orientation").  Each chunk of Y is
// made transposed in a per-thread buffer, then transposed into place.
template <class T>
void thin_product(bool ta, std::int64_t m, std::int64_t l, std::int64_t k, const T* a, std::int64_t lda, const T* x,
                  std::int64_t ldx, T* y, std::int64_t ldy) {
    row_chunks(m, double(m) * l * k, [&](std::int64_t r0, std::int64_t r1) {
        const std::int64_t rows = r1 - r0;
        T* yt = thread_scratch<T, 0>(static_cast<std::size_t>(l * rows));
        const T* a0 = ta ? a + r0 : a + r0 * lda;  // op(A)'s rows r0 .. r1
        lapack::gemm(true, !ta, l, rows, k, T(1), x, ldx, a0, lda, T(0), yt, rows);
        for (std::int64_t i = 0; i < rows; ++i)
            for (std::int64_t c = 0; c < l; ++c) y[(r0 + i) * ldy + c] = yt[c * rows + i];
    });
}

// Rows per chunk of the reductions: fixed, so the sum order is too.
constexpr std::int64_t kChunkRows = 4096;

// For each fixed chunk of rows of X (rows x n), partial(r0, r1, out) writes an
// m-entry partial result; their sum, in chunk order, goes to `out`.
template <class T, class Partial>
void chunked_sum(std::int64_t rows, std::int64_t m, double work, T* out, Partial&& partial) {
    const std::int64_t chunks = std::max<std::int64_t>(1, (rows + kChunkRows - 1) / kChunkRows);
    std::vector<T> parts(static_cast<std::size_t>(chunks) * m, T(0));
    const int threads = threads_for(work, chunks);
    parallel_for(threads, [&](std::int64_t t) {
        for (std::int64_t c = chunks * t / threads; c < chunks * (t + 1) / threads && !cancellation_requested(); ++c)
            partial(c * kChunkRows, std::min(rows, (c + 1) * kChunkRows), parts.data() + c * m);
    }, threads);
    std::copy(parts.begin(), parts.begin() + m, out);
    for (std::int64_t c = 1; c < chunks; ++c)
        for (std::int64_t i = 0; i < m; ++i) out[i] += parts[c * m + i];
}

// Upper triangle of G = X^T X (n x n row-major), X rows x n.
template <class T>
void gram(std::int64_t rows, std::int64_t n, const T* x, std::int64_t ldx, T* g) {
    chunked_sum(rows, n * n, double(rows) * n * n / 2, g, [&](std::int64_t r0, std::int64_t r1, T* part) {
        lapack::gram(r1 - r0, n, x + r0 * ldx, ldx, part);
    });
}

// w = X^T v (n entries), X rows x n.
template <class T>
void gemv_t(std::int64_t rows, std::int64_t n, const T* x, std::int64_t ldx, const T* v, T* w) {
    chunked_sum(rows, n, double(rows) * n, w, [&](std::int64_t r0, std::int64_t r1, T* part) {
        lapack::gemv_t(r1 - r0, n, x + r0 * ldx, ldx, v + r0, part);
    });
}

// Y -= u w^T, Y rows x n.
template <class T>
void sub_outer(std::int64_t rows, std::int64_t n, const T* u, const T* w, T* y, std::int64_t ldy) {
    row_chunks(rows, double(rows) * n, [&](std::int64_t r0, std::int64_t r1) {
        lapack::sub_outer(r1 - r0, n, u + r0, w, y + r0 * ldy, ldy);
    });
}

// X <- X T (T upper triangular n x n), X rows x n.  Cholesky QR multiplies
// by R^-1 formed once (trtri) rather than solving with R: OpenBLAS's trmm ran
// about twice as fast as its trsm on 200000 x 110 float32 panels.
template <class T>
void right_multiply_upper(std::int64_t rows, std::int64_t n, const T* t, T* x, std::int64_t ldx) {
    row_chunks(rows, double(rows) * n * n / 2, [&](std::int64_t r0, std::int64_t r1) {
        lapack::right_multiply_upper(r1 - r0, n, t, x + r0 * ldx, ldx);
    });
}

// C = op(A) op(B) (row-major, beta = 0), split by columns of C: for a C with
// few rows and many columns.
template <class T>
void gemm_by_columns(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda,
                     const T* b, std::int64_t ldb, T* c, std::int64_t ldc) {
    row_chunks(n, double(m) * n * k, [&](std::int64_t c0, std::int64_t c1) {
        // Column j of op(B) is column j of B, or row j of B when transposed.
        const T* b0 = tb ? b + c0 * ldb : b + c0;
        lapack::gemm(ta, tb, m, c1 - c0, k, T(1), a, lda, b0, ldb, T(0), c + c0, ldc);
    });
}

}  // namespace logsketch::rsvd::par
