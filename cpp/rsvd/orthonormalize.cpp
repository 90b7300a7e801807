#include "orthonormalize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "lapack.hpp"
#include "parallel_blas.hpp"

namespace logsketch::rsvd {
namespace {

// Q of X = QR by Householder.  The row-major X is the column-major X^T, whose
// LQ factorization X^T = L Q^T gives that Q^T, again column-major: Q in place.
template <class T>
void householder(T* x, std::int64_t rows, std::int64_t l, std::int64_t ld) {
    const int m = lapack::i32(l), n = lapack::i32(rows), lda = lapack::i32(ld);
    std::vector<T> tau(l);
    int info = 0;
    T query = 0;
    lapack::lq(m, n, x, lda, tau.data(), &query, -1, info);
    std::vector<T> work(static_cast<std::size_t>(query) + 1);
    lapack::lq(m, n, x, lda, tau.data(), work.data(), static_cast<int>(work.size()), info);
    if (info != 0) lapack::fail("gelqf", info);
    lapack::lq_q(m, n, x, lda, tau.data(), &query, -1, info);
    work.resize(std::max(work.size(), static_cast<std::size_t>(query) + 1));
    lapack::lq_q(m, n, x, lda, tau.data(), work.data(), static_cast<int>(work.size()), info);
    if (info != 0) lapack::fail("orglq", info);
}

// X = P L U; X <- P L (unit lower trapezoidal L with the row interchanges
// applied back), as scipy.linalg.lu(X, permute_l=True)[0].
template <class T>
void lu_pl(T* x, std::int64_t rows, std::int64_t l, std::int64_t ld) {
    std::vector<T> w(static_cast<std::size_t>(rows) * l);  // column-major copy for getrf
    for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t c = 0; c < l; ++c) w[i + c * rows] = x[i * ld + c];
    std::vector<int> ipiv(l);
    int info = 0;
    lapack::lu(lapack::i32(rows), lapack::i32(l), w.data(), lapack::i32(rows), ipiv.data(), info);
    if (info < 0) lapack::fail("getrf", info);  // info > 0: U singular, L still valid
    for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t c = 0; c < l; ++c) x[i * ld + c] = i > c ? w[i + c * rows] : T(i == c ? 1 : 0);
    // P = P_0 P_1 ... P_{l-1}, P_c swapping rows c and ipiv[c] - 1.
    for (std::int64_t c = l - 1; c >= 0; --c) {
        const std::int64_t r = ipiv[c] - 1;
        if (r != c) std::swap_ranges(x + c * ld, x + c * ld + l, x + r * ld);
    }
}

// X <- X 2^-e, 2^e about max |X|: "none" keeps X as it is (a power of two
// scales without rounding) but for the range, so the products do not grow
// like |A|^(2 n_iter + 1) into overflow or underflow.
template <class T>
void rescale(T* x, std::int64_t rows, std::int64_t l, std::int64_t ld) {
    T most = 0;
    for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t c = 0; c < l; ++c) most = std::max(most, std::abs(x[i * ld + c]));
    if (!(most > 0) || !std::isfinite(most)) return;
    int e = 0;
    std::frexp(most, &e);
    for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t c = 0; c < l; ++c) x[i * ld + c] = std::ldexp(x[i * ld + c], -e);
}

enum class CholQr { ok, shifted, failed };

// X <- X R^-1, G = X^T X = R^T R.  When G is not positive definite to working
// precision, R is taken from G + s I (shifted Cholesky QR, Fukaya et al.
// 2020): the span is kept, but directions of X below about sqrt(s) come out
// damped rather than unit length, for the caller's next, unshifted pass.
// Their s = 11 (rows l + l (l + 1)) eps tr(G) guarantees success but in float32
// exceeds tr(G) itself from rows ~ 700 000 / l (it would damp everything), so
// s starts at (l + 1) eps tr(G) and grows tenfold until the factorization
// succeeds, at most to their bound.  failed: X untouched.
// With r_total: r_total <- R r_total (upper triangular, row-major l x l).
template <class T>
CholQr cholqr_step(T* x, std::int64_t rows, std::int64_t l, std::int64_t ld, T* r_total = nullptr) {
    std::vector<T> g(static_cast<std::size_t>(l) * l, T(0));
    par::gram(rows, l, x, ld, g.data());
    // X's entries beyond sqrt(max / rows) overflow G: Householder (whose
    // norms are scaled) takes X as it is.
    if (!std::all_of(g.begin(), g.end(), [](T v) { return std::isfinite(v); })) return CholQr::failed;
    CholQr result = CholQr::ok;
    const std::vector<T> g0 = g;
    if (lapack::cholesky_upper(l, g.data()) != 0) {
        T trace = 0;
        for (std::int64_t c = 0; c < l; ++c) trace += g0[c * l + c];
        const T eps = std::numeric_limits<T>::epsilon();
        const T most = T(11) * T(rows * l + l * (l + 1)) * eps * trace;
        if (!(most > 0) || !std::isfinite(most)) return CholQr::failed;
        for (T shift = T(l + 1) * eps * trace;; shift *= 10) {
            shift = std::min(shift, most);
            g = g0;
            for (std::int64_t c = 0; c < l; ++c) g[c * l + c] += shift;
            if (lapack::cholesky_upper(l, g.data()) == 0) break;
            if (shift >= most) return CholQr::failed;
        }
        result = CholQr::shifted;
    }
    std::vector<T> inverse = g;
    if (lapack::invert_upper(l, inverse.data()) != 0) return CholQr::failed;  // a zero pivot: not after potrf
    par::right_multiply_upper(rows, l, inverse.data(), x, ld);
    if (r_total) {  // g's lower triangle still holds G: read the upper one only
        std::vector<T> product(static_cast<std::size_t>(l) * l, T(0));
        for (std::int64_t i = 0; i < l; ++i)
            for (std::int64_t m = i; m < l; ++m)
                for (std::int64_t j = m; j < l; ++j) product[i * l + j] += g[i * l + m] * r_total[m * l + j];
        std::copy(product.begin(), product.end(), r_total);
    }
    return result;
}

// Cholesky QR until a pass needs no shift, at most `passes` passes: true if
// the last one did (X then spans the same space, conditioned to working
// precision).  A shifted pass leaves X with condition number about
// 1/sqrt(11 rows l eps), which the next pass handles unshifted.
template <class T>
bool cholqr(T* x, std::int64_t rows, std::int64_t l, std::int64_t ld, int passes, T* r_total = nullptr) {
    for (int pass = 0; pass < passes; ++pass) {
        const CholQr r = cholqr_step(x, rows, l, ld, r_total);
        if (r == CholQr::failed) return false;
        if (r == CholQr::ok) return true;
    }
    return false;
}

// max |X^T X - I| <= 100 l eps.
template <class T>
bool orthonormal(const T* x, std::int64_t rows, std::int64_t l, std::int64_t ld) {
    std::vector<T> g(static_cast<std::size_t>(l) * l, T(0));
    par::gram(rows, l, x, ld, g.data());
    const T tol = T(100) * T(l) * std::numeric_limits<T>::epsilon();
    for (std::int64_t i = 0; i < l; ++i)
        for (std::int64_t j = i; j < l; ++j)
            if (!(std::abs(g[i * l + j] - T(i == j)) <= tol)) return false;
    return true;
}

}  // namespace

template <class T>
void normalize(Normalizer how, T* x, std::int64_t rows, std::int64_t l, std::int64_t ld) {
    switch (how) {
        case Normalizer::none: return rescale(x, rows, l, ld);
        case Normalizer::lu: return lu_pl(x, rows, l, ld);
        case Normalizer::qr: return householder(x, rows, l, ld);
        case Normalizer::cholqr:
            // Between products one well-conditioned basis is enough: one
            // pass, or two when the first needed a shift (shifted CholQR2).
            // Every pass keeps the span, so Householder may take over from
            // whatever a failed pass left.
            if (!cholqr(x, rows, l, ld, 2)) householder(x, rows, l, ld);
            return;
    }
}

template <class T>
void orthonormalize(Normalizer how, T* x, std::int64_t rows, std::int64_t l, std::int64_t ld) {
    if (how == Normalizer::cholqr) {
        std::vector<T> saved(x, x + (rows - 1) * ld + l);
        // Orthonormal to working precision: the passes up to an unshifted
        // one, then one more (CholQR2, or shifted CholQR3).
        if (cholqr(x, rows, l, ld, 2) && cholqr(x, rows, l, ld, 1) && orthonormal(x, rows, l, ld)) return;
        std::copy(saved.begin(), saved.end(), x);
    }
    householder(x, rows, l, ld);
}

template <class T>
bool cholqr_factor(T* x, std::int64_t rows, std::int64_t l, std::int64_t ld, T* r) {
    std::fill(r, r + l * l, T(0));
    for (std::int64_t i = 0; i < l; ++i) r[i * l + i] = T(1);
    return cholqr(x, rows, l, ld, 2, r) && cholqr(x, rows, l, ld, 1, r) && orthonormal(x, rows, l, ld);
}

template void normalize<float>(Normalizer, float*, std::int64_t, std::int64_t, std::int64_t);
template void normalize<double>(Normalizer, double*, std::int64_t, std::int64_t, std::int64_t);
template void orthonormalize<float>(Normalizer, float*, std::int64_t, std::int64_t, std::int64_t);
template void orthonormalize<double>(Normalizer, double*, std::int64_t, std::int64_t, std::int64_t);
template bool cholqr_factor<float>(float*, std::int64_t, std::int64_t, std::int64_t, float*);
template bool cholqr_factor<double>(double*, std::int64_t, std::int64_t, std::int64_t, double*);

}  // namespace logsketch::rsvd
