// float/double overloads of the cuBLAS and cuSOLVER routines the randomized
// SVD calls, so its driver is written once as a template.  Thin forwards:
// the statuses are checked by the caller (LOGSKETCH_CUBLAS_CHECK /
// LOGSKETCH_CUSOLVER_CHECK), cuSOLVER's info values by the driver.
#pragma once

#include <cublas_v2.h>
#include <cusolverDn.h>

namespace logsketch::rsvd::gpu::la {

// C = alpha op(A) op(B) + beta C
inline cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           float alpha, const float* a, int lda, const float* b, int ldb, float beta, float* c,
                           int ldc) {
    return cublasSgemm(h, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}
inline cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           double alpha, const double* a, int lda, const double* b, int ldb, double beta, double* c,
                           int ldc) {
    return cublasDgemm(h, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}

// C = alpha op(A) op(A)^T + beta C, the `uplo` triangle of C only
inline cublasStatus_t syrk(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t, int n, int k, float alpha,
                           const float* a, int lda, float beta, float* c, int ldc) {
    return cublasSsyrk(h, uplo, t, n, k, &alpha, a, lda, &beta, c, ldc);
}
inline cublasStatus_t syrk(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t t, int n, int k, double alpha,
                           const double* a, int lda, double beta, double* c, int ldc) {
    return cublasDsyrk(h, uplo, t, n, k, &alpha, a, lda, &beta, c, ldc);
}

// B = alpha B op(A)^-1 (side right) with A triangular
inline cublasStatus_t trsm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, cublasOperation_t t,
                           cublasDiagType_t diag, int m, int n, float alpha, const float* a, int lda, float* b,
                           int ldb) {
    return cublasStrsm(h, side, uplo, t, diag, m, n, &alpha, a, lda, b, ldb);
}
inline cublasStatus_t trsm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, cublasOperation_t t,
                           cublasDiagType_t diag, int m, int n, double alpha, const double* a, int lda, double* b,
                           int ldb) {
    return cublasDtrsm(h, side, uplo, t, diag, m, n, &alpha, a, lda, b, ldb);
}

// ---- workspace sizes, in elements ------------------------------------------

inline cusolverStatus_t geqrf_size(cusolverDnHandle_t h, int m, int n, float* a, int lda, int* lwork) {
    return cusolverDnSgeqrf_bufferSize(h, m, n, a, lda, lwork);
}
inline cusolverStatus_t geqrf_size(cusolverDnHandle_t h, int m, int n, double* a, int lda, int* lwork) {
    return cusolverDnDgeqrf_bufferSize(h, m, n, a, lda, lwork);
}
inline cusolverStatus_t orgqr_size(cusolverDnHandle_t h, int m, int n, int k, const float* a, int lda,
                                   const float* tau, int* lwork) {
    return cusolverDnSorgqr_bufferSize(h, m, n, k, a, lda, tau, lwork);
}
inline cusolverStatus_t orgqr_size(cusolverDnHandle_t h, int m, int n, int k, const double* a, int lda,
                                   const double* tau, int* lwork) {
    return cusolverDnDorgqr_bufferSize(h, m, n, k, a, lda, tau, lwork);
}
inline cusolverStatus_t getrf_size(cusolverDnHandle_t h, int m, int n, float* a, int lda, int* lwork) {
    return cusolverDnSgetrf_bufferSize(h, m, n, a, lda, lwork);
}
inline cusolverStatus_t getrf_size(cusolverDnHandle_t h, int m, int n, double* a, int lda, int* lwork) {
    return cusolverDnDgetrf_bufferSize(h, m, n, a, lda, lwork);
}
inline cusolverStatus_t potrf_size(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, float* a, int lda,
                                   int* lwork) {
    return cusolverDnSpotrf_bufferSize(h, uplo, n, a, lda, lwork);
}
inline cusolverStatus_t potrf_size(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, double* a, int lda,
                                   int* lwork) {
    return cusolverDnDpotrf_bufferSize(h, uplo, n, a, lda, lwork);
}
template <class T>
cusolverStatus_t gesvd_size(cusolverDnHandle_t h, int m, int n, int* lwork);
template <>
inline cusolverStatus_t gesvd_size<float>(cusolverDnHandle_t h, int m, int n, int* lwork) {
    return cusolverDnSgesvd_bufferSize(h, m, n, lwork);
}
template <>
inline cusolverStatus_t gesvd_size<double>(cusolverDnHandle_t h, int m, int n, int* lwork) {
    return cusolverDnDgesvd_bufferSize(h, m, n, lwork);
}

// ---- factorizations ----------------------------------------------------------

inline cusolverStatus_t geqrf(cusolverDnHandle_t h, int m, int n, float* a, int lda, float* tau, float* work,
                              int lwork, int* info) {
    return cusolverDnSgeqrf(h, m, n, a, lda, tau, work, lwork, info);
}
inline cusolverStatus_t geqrf(cusolverDnHandle_t h, int m, int n, double* a, int lda, double* tau, double* work,
                              int lwork, int* info) {
    return cusolverDnDgeqrf(h, m, n, a, lda, tau, work, lwork, info);
}
inline cusolverStatus_t orgqr(cusolverDnHandle_t h, int m, int n, int k, float* a, int lda, const float* tau,
                              float* work, int lwork, int* info) {
    return cusolverDnSorgqr(h, m, n, k, a, lda, tau, work, lwork, info);
}
inline cusolverStatus_t orgqr(cusolverDnHandle_t h, int m, int n, int k, double* a, int lda, const double* tau,
                              double* work, int lwork, int* info) {
    return cusolverDnDorgqr(h, m, n, k, a, lda, tau, work, lwork, info);
}
// getrf's workspace is the size getrf_size returned (it takes no lwork).
inline cusolverStatus_t getrf(cusolverDnHandle_t h, int m, int n, float* a, int lda, float* work, int* ipiv,
                              int* info) {
    return cusolverDnSgetrf(h, m, n, a, lda, work, ipiv, info);
}
inline cusolverStatus_t getrf(cusolverDnHandle_t h, int m, int n, double* a, int lda, double* work, int* ipiv,
                              int* info) {
    return cusolverDnDgetrf(h, m, n, a, lda, work, ipiv, info);
}
inline cusolverStatus_t potrf(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, float* a, int lda, float* work,
                              int lwork, int* info) {
    return cusolverDnSpotrf(h, uplo, n, a, lda, work, lwork, info);
}
inline cusolverStatus_t potrf(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, double* a, int lda, double* work,
                              int lwork, int* info) {
    return cusolverDnDpotrf(h, uplo, n, a, lda, work, lwork, info);
}
inline cusolverStatus_t gesvd(cusolverDnHandle_t h, signed char jobu, signed char jobvt, int m, int n, float* a,
                              int lda, float* s, float* u, int ldu, float* vt, int ldvt, float* work, int lwork,
                              float* rwork, int* info) {
    return cusolverDnSgesvd(h, jobu, jobvt, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork, info);
}
inline cusolverStatus_t gesvd(cusolverDnHandle_t h, signed char jobu, signed char jobvt, int m, int n, double* a,
                              int lda, double* s, double* u, int ldu, double* vt, int ldvt, double* work, int lwork,
                              double* rwork, int* info) {
    return cusolverDnDgesvd(h, jobu, jobvt, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork, info);
}

}  // namespace logsketch::rsvd::gpu::la
