// The randomized SVD, scikit-learn's randomized_svd step for step:
//
//   M = A^T if transpose else A (p x q); l = k + oversamples (<= min(p, q))
//   Y = M Omega, Omega = R^T with R the JL matrix (sketch kind, l x q, seed)
//   n_iter times:  Y <- normalize(Y);  Z = M^T Y;  Z <- normalize(Z);  Y = M Z
//   Q = orthonormalize(Y);  B = Q^T M (l x q);  B = Ub S Vb^T (thin SVD)
//   M ~ (Q Ub[:, :k]) S[:k] Vb^T[:k];  swap the factors back if transposed;
//   flip signs so each column of U has its largest |entry| positive.
//
// Every panel is row-major p x l or q x l, so BLAS and LAPACK take them
// through transpose flags and A is never copied or transposed (dense); a CSR A
// is transposed once (csr_transpose.hpp).  Intermediates stay in A's dtype.
#include "rsvd.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "../runtime/blas.hpp"
#include "../runtime/precondition.hpp"
#include "../runtime/threads.hpp"
#include "lapack.hpp"
#include "operators.hpp"
#include "orthonormalize.hpp"
#include "parallel_blas.hpp"

namespace logsketch::rsvd {
namespace {

// Between the power iterations' products: a cancelled call (Ctrl-C) stops here
// as well as inside the products' parallel loops.
void stop_if_cancelled() {
    if (cancellation_requested()) throw Cancelled();
}


// True if any of x[0 .. n) is NaN or infinite: its exponent bits all ones.
// Integer tests, so the loop vectorizes (docs/tuning.md, "NaN/inf scan:
// integer tests"); parallel, stops early.
template <class T>
bool any_nonfinite(const T* x, std::int64_t n) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    constexpr Bits exponent = sizeof(T) == 4 ? Bits(0x7F800000u) : Bits(0x7FF0000000000000ull);
    const int threads = static_cast<int>(std::min<std::int64_t>(get_num_threads(), std::max<std::int64_t>(1, n >> 16)));
    std::vector<char> bad(threads, 0);
    parallel_for(threads, [&](std::int64_t t) {
        const std::int64_t b = n * t / threads, e = n * (t + 1) / threads;
        for (std::int64_t i = b; i < e && !bad[t]; i += 4096) {
            Bits found = 0;
            const std::int64_t stop = std::min(e, i + 4096);
            for (std::int64_t j = i; j < stop; ++j) {
                Bits bits;
                std::memcpy(&bits, x + j, sizeof bits);
                found |= Bits((bits & exponent) == exponent);
            }
            bad[t] = found != 0;
        }
    }, threads);
    return std::any_of(bad.begin(), bad.end(), [](char c) { return c != 0; });
}

// A finite A whose products do not fit T: a clear error rather than NaN
// factors or a LAPACK argument error further on.
template <class T>
[[noreturn]] void overflowed() {
    throw std::overflow_error(std::string("the factorization overflowed ") + (sizeof(T) == 4 ? "float32" : "float64") +
                              ": A's entries are too large; scale A down" + (sizeof(T) == 4 ? " or pass float64" : ""));
}

template <class T>
void check_finite(const Matrix& a) {
    bool bad;
    if (a.sparse) bad = any_nonfinite(static_cast<const T*>(a.data), a.nnz);
    else bad = any_nonfinite(static_cast<const T*>(a.a), a.m * a.n);  // C or F order: contiguous
    if (bad) throw std::domain_error("A must not contain NaN or infinity");
}

// svd_flip, U-based: for each component j, the largest |U[i, j]| (first on
// ties) made positive, negating V's row j with it.  One pass over U's rows.
template <class T>
void flip_signs(T* u, T* vt, std::int64_t m, std::int64_t n, std::int64_t k) {
    std::vector<T> best(u, u + k);  // the entry of largest magnitude so far, per column
    for (std::int64_t i = 1; i < m; ++i)
        for (std::int64_t j = 0; j < k; ++j)
            if (std::abs(u[i * k + j]) > std::abs(best[j])) best[j] = u[i * k + j];
    std::vector<T> sign(k);
    for (std::int64_t j = 0; j < k; ++j) sign[j] = best[j] < 0 ? T(-1) : T(1);
    const int threads = get_num_threads();  // once: set_num_threads may run concurrently
    parallel_for(threads, [&](std::int64_t t) {
        for (std::int64_t i = m * t / threads; i < m * (t + 1) / threads; ++i)
            for (std::int64_t j = 0; j < k; ++j) u[i * k + j] *= sign[j];
        for (std::int64_t j = k * t / threads; j < k * (t + 1) / threads; ++j)
            if (sign[j] < 0)
                for (std::int64_t c = 0; c < n; ++c) vt[j * n + c] = -vt[j * n + c];
    }, threads);
}

// LAPACK gesdd of the column-major m x n matrix b (m <= n): u (m x m) and
// vt (m x n, leading dimension m), column-major; b is destroyed.  vt may be b
// when m == n.
template <class T>
void thin_svd(std::int64_t m, std::int64_t n, T* b, std::int64_t ldb, T* s, T* u, T* vt) {
    const int mm = lapack::i32(m), nn = lapack::i32(n), lda = lapack::i32(ldb);
    std::vector<int> iwork(8 * m);
    std::vector<T> out(vt == b ? static_cast<std::size_t>(m) * n : 0);
    T* v = vt == b ? out.data() : vt;
    int info = 0;
    T query = 0;
    lapack::svd(mm, nn, b, lda, s, u, mm, v, mm, &query, -1, iwork.data(), info);
    std::vector<T> work(static_cast<std::size_t>(query) + 1);
    lapack::svd(mm, nn, b, lda, s, u, mm, v, mm, work.data(), static_cast<int>(work.size()), iwork.data(), info);
    if (info != 0) lapack::fail("gesdd", info);
    if (vt == b) std::copy(out.begin(), out.end(), vt);
}

template <class T>
void run(const Matrix& a, const Options& o, T* u, T* s, T* vt) {
    blas::single_threaded();
    // A Gaussian or SRHT sketch multiplies every entry of A into its whole row
    // of Y, so a NaN or infinity in A leaves Y non-finite (NaN * g, inf * 0
    // and inf - inf are NaN): the p x l sketch is scanned instead of A, which is
    // cheaper (docs/tuning.md, "NaN/inf scan: the sketch instead of A").
    // A itself is scanned first only for the sparse sketch, which skips
    // entries, and after a non-finite sketch to tell NaN in A from overflow.
    const bool sketch_sees_every_entry = o.sketch != jl::Kind::sparse;
    if (!sketch_sees_every_entry) check_finite<T>(a);
    const std::unique_ptr<LinearOp<T>> op = make_operator<T>(a, o.transpose);
    const std::int64_t p = op->rows(), q = op->cols(), l = o.l, k = o.k, ld = op->panel_ld(l);
    for (const std::int64_t x : {p, q, ld}) lapack::check_blas_size(x, "a dimension of A");

    std::vector<T> y(static_cast<std::size_t>(p) * ld, T(0)), z(static_cast<std::size_t>(q) * ld, T(0));
    op->sketch(jl::Matrix{o.sketch, l, q, o.seed, o.density}, y.data(), ld);
    if (any_nonfinite(y.data(), p * ld)) {
        if (sketch_sees_every_entry) check_finite<T>(a);
        overflowed<T>();
    }
    for (int it = 0; it < o.n_iter; ++it) {
        stop_if_cancelled();
        normalize(o.normalizer, y.data(), p, l, ld);
        op->apply_t(y.data(), z.data(), l, ld);
        stop_if_cancelled();
        normalize(o.normalizer, z.data(), q, l, ld);
        op->apply(z.data(), y.data(), l, ld);
    }
    stop_if_cancelled();
    orthonormalize(o.normalizer, y.data(), p, l, ld);  // Q, p x l
    // B^T = M^T Q (q x l, row-major) is B column-major (l x q, leading dimension ld).
    op->apply_t(y.data(), z.data(), l, ld);

    // The thin SVD of B: through B^T = Q2 R (Cholesky QR: parallel BLAS-3)
    // and the SVD of the l x l R, B = V2 S (Q2 U2)^T for R = U2 S V2^T.  Only
    // when Cholesky QR cannot make Q2 orthonormal (B numerically rank
    // deficient) does LAPACK's gesdd take B itself: single-threaded, it took
    // most of a 200000 x 50000 sparse factorization's time (B 110 x 50000).
    std::vector<T> sv(l), ub(static_cast<std::size_t>(l) * l), r(static_cast<std::size_t>(l) * l);
    if (cholqr_factor(z.data(), q, l, ld, r.data())) {
        // r (row-major R) is column-major R^T = V2 S U2^T: ub gets V2 and r
        // gets U2^T, both column-major (U2 row-major in r).
        if (any_nonfinite(r.data(), l * l)) overflowed<T>();
        thin_svd(l, l, r.data(), l, sv.data(), ub.data(), r.data());
        std::copy(sv.begin(), sv.begin() + k, s);
        if (!o.transpose) {
            par::gemm(false, true, p, k, l, y.data(), ld, ub.data(), l, u, k);  // U = Q V2[:, :k]
            par::gemm_by_columns(true, true, k, q, l, r.data(), l, z.data(), ld, vt, q);  // Vt = (Q2 U2[:, :k])^T
        } else {
            par::gemm(false, false, q, k, l, z.data(), ld, r.data(), l, u, k);  // A's U = Q2 U2[:, :k]
            par::gemm(false, true, k, p, l, ub.data(), l, y.data(), ld, vt, p);  // A's Vt = (Q V2[:, :k])^T
        }
    } else {
        // Cholesky QR overwrote B^T: multiply again (rare: B rank-deficient)
        // rather than copy it on every call.  B^T (q x l, row-major) is B
        // column-major (l x q, leading dimension ld).
        op->apply_t(y.data(), z.data(), l, ld);
        std::vector<T> vb(static_cast<std::size_t>(l) * q);
        if (any_nonfinite(z.data(), q * ld)) overflowed<T>();
        thin_svd(l, q, z.data(), ld, sv.data(), ub.data(), vb.data());
        // ub is Ub column-major (= Ub^T row-major); vb is Vb^T column-major (l x q).
        std::copy(sv.begin(), sv.begin() + k, s);
        if (!o.transpose) {
            // U = Q Ub[:, :k] (m x k); Vt[c, j] = Vb^T[c, j].
            par::gemm(false, true, p, k, l, y.data(), ld, ub.data(), l, u, k);
            for (std::int64_t c = 0; c < k; ++c)
                for (std::int64_t j = 0; j < q; ++j) vt[c * q + j] = vb[c + j * l];
        } else {
            // A's U is M's V: row i of U is column i of Vb^T; A's Vt = (Q Ub[:, :k])^T.
            for (std::int64_t i = 0; i < q; ++i) std::memcpy(u + i * k, vb.data() + i * l, sizeof(T) * k);
            par::gemm(false, true, k, p, l, ub.data(), l, y.data(), ld, vt, p);
        }
    }
    if (o.flip_sign) flip_signs(u, vt, a.m, a.n, k);
}

}  // namespace

void randomized_svd(const Matrix& a, const Options& opt, void* u, void* s, void* vt) {
    LOGSKETCH_REQUIRE(a.dtype == Dtype::float32 || a.dtype == Dtype::float64);
    LOGSKETCH_REQUIRE(opt.k >= 1 && opt.k <= opt.l && opt.l <= std::min(a.m, a.n) && opt.n_iter >= 0);
    if (a.dtype == Dtype::float32)
        run(a, opt, static_cast<float*>(u), static_cast<float*>(s), static_cast<float*>(vt));
    else
        run(a, opt, static_cast<double*>(u), static_cast<double*>(s), static_cast<double*>(vt));
}

}  // namespace logsketch::rsvd
