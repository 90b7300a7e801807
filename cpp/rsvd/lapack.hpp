// BLAS (cblas) and the few LAPACK routines the randomized SVD calls, as
// overloads on float/double.  The library is scipy-openblas32: 32-bit
// integers, every symbol prefixed scipy_, gfortran's hidden string lengths at
// the end of the argument list.  Sizes past 2^31 - 1 are refused before any
// call (check_blas_size).
#pragma once

#include <cblas.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" {
void scipy_spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info, std::size_t);
void scipy_dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, std::size_t);
void scipy_sgelqf_(const int* m, const int* n, float* a, const int* lda, float* tau, float* work, const int* lwork,
                   int* info);
void scipy_dgelqf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work,
                   const int* lwork, int* info);
void scipy_sorglq_(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau, float* work,
                   const int* lwork, int* info);
void scipy_dorglq_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau,
                   double* work, const int* lwork, int* info);
void scipy_strtri_(const char* uplo, const char* diag, const int* n, float* a, const int* lda, int* info, std::size_t,
                   std::size_t);
void scipy_dtrtri_(const char* uplo, const char* diag, const int* n, double* a, const int* lda, int* info, std::size_t,
                   std::size_t);
void scipy_sgetrf_(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info);
void scipy_dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void scipy_sgesdd_(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s, float* u,
                   const int* ldu, float* vt, const int* ldvt, float* work, const int* lwork, int* iwork, int* info,
                   std::size_t);
void scipy_dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u,
                   const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork,
                   int* info, std::size_t);
}

namespace logsketch::rsvd::lapack {

inline int i32(std::int64_t x) { return static_cast<int>(x); }

// Every dimension and leading dimension handed to the library fits an int.
inline void check_blas_size(std::int64_t x, const char* what) {
    if (x > INT_MAX) throw std::length_error(std::string(what) + " exceeds the BLAS's 32-bit index range");
}

inline void fail(const char* routine, int info) {
    throw std::runtime_error(std::string("LAPACK ") + routine + " failed (info = " + std::to_string(info) + ")");
}

// C = alpha op(A) op(B) + beta C, all row-major.
inline void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
                 std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
    scipy_cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, i32(m), i32(n),
                      i32(k), alpha, a, i32(lda), b, i32(ldb), beta, c, i32(ldc));
}
inline void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const double* a,
                 std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c, std::int64_t ldc) {
    scipy_cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, i32(m), i32(n),
                      i32(k), alpha, a, i32(lda), b, i32(ldb), beta, c, i32(ldc));
}

// w = X^T v, X row-major rows x n.
inline void gemv_t(std::int64_t rows, std::int64_t n, const float* x, std::int64_t ldx, const float* v, float* w) {
    scipy_cblas_sgemv(CblasRowMajor, CblasTrans, i32(rows), i32(n), 1.0f, x, i32(ldx), v, 1, 0.0f, w, 1);
}
inline void gemv_t(std::int64_t rows, std::int64_t n, const double* x, std::int64_t ldx, const double* v, double* w) {
    scipy_cblas_dgemv(CblasRowMajor, CblasTrans, i32(rows), i32(n), 1.0, x, i32(ldx), v, 1, 0.0, w, 1);
}

// Y -= u w^T, Y row-major rows x n.
inline void sub_outer(std::int64_t rows, std::int64_t n, const float* u, const float* w, float* y, std::int64_t ldy) {
    scipy_cblas_sger(CblasRowMajor, i32(rows), i32(n), -1.0f, u, 1, w, 1, y, i32(ldy));
}
inline void sub_outer(std::int64_t rows, std::int64_t n, const double* u, const double* w, double* y,
                      std::int64_t ldy) {
    scipy_cblas_dger(CblasRowMajor, i32(rows), i32(n), -1.0, u, 1, w, 1, y, i32(ldy));
}

// Upper triangle of G = X^T X, X row-major rows x n (G row-major n x n).
inline void gram(std::int64_t rows, std::int64_t n, const float* x, std::int64_t ldx, float* g) {
    scipy_cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, i32(n), i32(rows), 1.0f, x, i32(ldx), 0.0f, g, i32(n));
}
inline void gram(std::int64_t rows, std::int64_t n, const double* x, std::int64_t ldx, double* g) {
    scipy_cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, i32(n), i32(rows), 1.0, x, i32(ldx), 0.0, g, i32(n));
}

// X <- X T, T upper triangular row-major n x n, X row-major rows x n.
inline void right_multiply_upper(std::int64_t rows, std::int64_t n, const float* t, float* x, std::int64_t ldx) {
    scipy_cblas_strmm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, i32(rows), i32(n), 1.0f, t,
                      i32(n), x, i32(ldx));
}
inline void right_multiply_upper(std::int64_t rows, std::int64_t n, const double* t, double* x, std::int64_t ldx) {
    scipy_cblas_dtrmm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, i32(rows), i32(n), 1.0, t,
                      i32(n), x, i32(ldx));
}

// The inverse of a row-major n x n upper triangle in place (column-major
// lower, hence uplo 'L').  Returns info: > 0 for an exactly zero diagonal.
inline int invert_upper(std::int64_t n, float* r) {
    int nn = i32(n), info = 0;
    scipy_strtri_("L", "N", &nn, r, &nn, &info, 1, 1);
    return info;
}
inline int invert_upper(std::int64_t n, double* r) {
    int nn = i32(n), info = 0;
    scipy_dtrtri_("L", "N", &nn, r, &nn, &info, 1, 1);
    return info;
}

// Cholesky factor of a row-major n x n upper triangle in place: G = R^T R.
// (Row-major upper is column-major lower, hence uplo 'L'.)  Returns info:
// 0, or > 0 when G is not positive definite to working precision.
inline int cholesky_upper(std::int64_t n, float* g) {
    int nn = i32(n), info = 0;
    scipy_spotrf_("L", &nn, g, &nn, &info, 1);
    return info;
}
inline int cholesky_upper(std::int64_t n, double* g) {
    int nn = i32(n), info = 0;
    scipy_dpotrf_("L", &nn, g, &nn, &info, 1);
    return info;
}

// LQ of a column-major m x n matrix (m <= n), then its Q in place (orglq).
inline void lq(int m, int n, float* a, int lda, float* tau, float* work, int lwork, int& info) {
    scipy_sgelqf_(&m, &n, a, &lda, tau, work, &lwork, &info);
}
inline void lq(int m, int n, double* a, int lda, double* tau, double* work, int lwork, int& info) {
    scipy_dgelqf_(&m, &n, a, &lda, tau, work, &lwork, &info);
}
inline void lq_q(int m, int n, float* a, int lda, const float* tau, float* work, int lwork, int& info) {
    scipy_sorglq_(&m, &n, &m, a, &lda, tau, work, &lwork, &info);
}
inline void lq_q(int m, int n, double* a, int lda, const double* tau, double* work, int lwork, int& info) {
    scipy_dorglq_(&m, &n, &m, a, &lda, tau, work, &lwork, &info);
}

inline void lu(int m, int n, float* a, int lda, int* ipiv, int& info) { scipy_sgetrf_(&m, &n, a, &lda, ipiv, &info); }
inline void lu(int m, int n, double* a, int lda, int* ipiv, int& info) { scipy_dgetrf_(&m, &n, a, &lda, ipiv, &info); }

// Thin SVD (divide and conquer) of a column-major m x n matrix.
inline void svd(int m, int n, float* a, int lda, float* s, float* u, int ldu, float* vt, int ldvt, float* work,
                int lwork, int* iwork, int& info) {
    scipy_sgesdd_("S", &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &info, 1);
}
inline void svd(int m, int n, double* a, int lda, double* s, double* u, int ldu, double* vt, int ldvt, double* work,
                int lwork, int* iwork, int& info) {
    scipy_dgesdd_("S", &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &info, 1);
}

}  // namespace logsketch::rsvd::lapack
