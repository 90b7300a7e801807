// Randomized SVD on the GPU: the driver (host code; the kernels it launches
// are in rsvd_kernels.cu, the dense linear algebra is cuBLAS and cuSOLVER).
//
// Storage.  Every block is column-major, as cuBLAS/cuSOLVER take it.  A is
// never copied: a row-major A is a column-major A^T, so M = A or A^T is
// op_m(a) for the stored a, with op_m = T exactly when a_row_major differs
// from transpose.  Scratch, in A's dtype:
//   qb (q x l)  Omega, then the power iteration's Q, then B^T = M^T Q
//   y  (p x l)  Y = M Q, then the range basis Q
//   w  (max(p, q) x l, for "lu" and "cholqr" only)  P L before it is copied
//      back, or Y saved for the Householder fallback
//   g, su, svt (l x l)  Gram matrix / R factor / the small SVD's U and V^T
// plus tau, S and gesvd's rwork (l each), pivots, a permutation, info words
// and one cuSOLVER workspace of the largest queried size.
//
// The SVD of B = Q^T M (l x q, wide) is taken as that of B^T = M^T Q (q x l):
// B^T = Q2 R2 (geqrf/orgqr), R2 = U2 S V2^T (gesvd on l x l: cuSOLVER's gesvd
// needs rows >= columns, and the square problem keeps it small), so
// B = V2 S (Q2 U2)^T: Ub = V2 (= svt^T) and Vb = Q2 U2.
//
// Results are written by one GEMM each straight into the caller's
// C-contiguous outputs, which are column-major transposes: U (m x k, C) is
// U^T (k x m) column-major and Vt (k x n, C) is V (n x k) column-major.
#include <cublas_v2.h>
#include <cusolverDn.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "../runtime/cuda_check.cuh"
#include "../runtime/linalg_check.hpp"
#include "../runtime/linalg_handles.hpp"
#include "../runtime/stream_buffer.hpp"
#include "rsvd_cuda.hpp"
#include "rsvd_kernels.hpp"
#include "rsvd_linalg.hpp"

namespace logsketch::rsvd::gpu {
namespace {

using ::logsketch::gpu::LinalgLease;
using ::logsketch::gpu::StreamBuffer;

// cuSOLVER calls whose info is folded into the sticky record (record_info).
enum Site : int { kGeqrf = 1, kOrgqr = 2, kGetrf = 3, kGesvd = 4 };

const char* site_name(int site) {
    switch (site) {
        case kGeqrf: return "geqrf";
        case kOrgqr: return "orgqr";
        case kGetrf: return "getrf";
        case kGesvd: return "gesvd";
        default: return "an unknown routine";
    }
}

cublasOperation_t flip(cublasOperation_t op) { return op == CUBLAS_OP_N ? CUBLAS_OP_T : CUBLAS_OP_N; }

int as_int(std::int64_t v, const char* name) {
    if (v < 0 || v > INT_MAX) {
        throw std::invalid_argument(std::string(name) + " must be in [0, 2**31) for cuBLAS/cuSOLVER; got " +
                                    std::to_string(v));
    }
    return static_cast<int>(v);
}

template <class T>
class Driver {
  public:
    Driver(const Params& prm, cudaStream_t stream)
        : prm_(prm),
          stream_(stream),
          lease_(stream),
          blas_(lease_.blas()),
          solver_(lease_.solver()),
          p_(as_int(prm.transpose ? prm.n : prm.m, "p")),
          q_(as_int(prm.transpose ? prm.m : prm.n, "q")),
          l_(as_int(prm.l, "l")),
          k_(as_int(prm.k, "k")),
          op_m_(prm.a_row_major != prm.transpose ? CUBLAS_OP_T : CUBLAS_OP_N),
          a_(static_cast<const T*>(prm.a)),
          lda_(as_int(prm.lda, "lda")) {
        allocate();
    }

    void run() {
        sketch();
        for (std::int64_t it = 0; it < prm_.n_iter; ++it) {
            times_m(qb_, y_);  // Y = M Q
            normalize(y_, p_);
            times_mt(y_, qb_);  // Q = M^T Y
            normalize(qb_, q_);
        }
        times_m(qb_, y_);  // Y = M Q
        orthonormalize(y_);  // y is now Q, p x l
        times_mt(y_, qb_);   // qb = B^T = M^T Q, q x l
        small_svd();
        write_outputs();
        if (prm_.flip_sign) {
            flip_signs(static_cast<T*>(prm_.u), prm_.m, prm_.k, static_cast<T*>(prm_.vt), prm_.n, stream_);
        }
        check_infos();
    }

  private:
    // ---- setup ---------------------------------------------------------------

    void allocate() {
        const std::int64_t l = l_, rows_w = std::max(p_, q_);
        const bool needs_w = prm_.normalizer == Normalizer::lu || prm_.normalizer == Normalizer::cholqr;
        qb_buf_ = gpu_alloc<T>(std::int64_t(q_) * l);
        y_buf_ = gpu_alloc<T>(std::int64_t(p_) * l);
        w_buf_ = gpu_alloc<T>(needs_w ? rows_w * l : 0);
        g_buf_ = gpu_alloc<T>(l * l);
        su_buf_ = gpu_alloc<T>(l * l);
        svt_buf_ = gpu_alloc<T>(l * l);
        vec_buf_ = gpu_alloc<T>(3 * l + 1);  // tau, S, gesvd's rwork, one scalar
        int_buf_ = gpu_alloc<int>(l + (prm_.normalizer == Normalizer::lu ? rows_w : 0) + 3);
        qb_ = qb_buf_.as<T>();
        y_ = y_buf_.as<T>();
        w_ = w_buf_.as<T>();
        g_ = g_buf_.as<T>();
        su_ = su_buf_.as<T>();
        svt_ = svt_buf_.as<T>();
        tau_ = vec_buf_.as<T>();
        s_ = tau_ + l;
        rwork_ = s_ + l;
        scalar_ = rwork_ + l;
        ipiv_ = int_buf_.as<int>();
        info_ = ipiv_ + l;
        first_ = info_ + 1;  // two words: the first bad info and its site
        perm_ = first_ + 2;  // rows_w words, "lu" only
        LOGSKETCH_CUDA_CHECK(cudaMemsetAsync(first_, 0, 2 * sizeof(int), stream_));

        // One workspace for every cuSOLVER call: the largest size any of them asks for.
        int lwork = 1, need = 0;
        for (int rows : {p_, q_}) {
            T* x = rows == p_ ? y_ : qb_;
            LOGSKETCH_CUSOLVER_CHECK(la::geqrf_size(solver_, rows, l_, x, rows, &need));
            lwork = std::max(lwork, need);
            LOGSKETCH_CUSOLVER_CHECK(la::orgqr_size(solver_, rows, l_, l_, x, rows, tau_, &need));
            lwork = std::max(lwork, need);
            if (prm_.normalizer == Normalizer::lu) {
                LOGSKETCH_CUSOLVER_CHECK(la::getrf_size(solver_, rows, l_, x, rows, &need));
                lwork = std::max(lwork, need);
            }
        }
        if (prm_.normalizer == Normalizer::cholqr) {
            LOGSKETCH_CUSOLVER_CHECK(la::potrf_size(solver_, CUBLAS_FILL_MODE_UPPER, l_, g_, l_, &need));
            lwork = std::max(lwork, need);
        }
        LOGSKETCH_CUSOLVER_CHECK(la::gesvd_size<T>(solver_, l_, l_, &need));
        lwork = std::max(lwork, need);
        lwork_ = lwork;
        work_buf_ = gpu_alloc<T>(lwork);
        work_ = work_buf_.as<T>();
    }

    template <class U>
    StreamBuffer gpu_alloc(std::int64_t count) {
        return StreamBuffer(static_cast<std::size_t>(count) * sizeof(U), stream_);
    }

    // Omega = R^T, q x l column-major: exactly R (l x q) C-contiguous, which
    // cuda/jl materializes bit for bit as the CPU's jl_components.
    void sketch() {
        const jl::gpu::Matrix r{prm_.sketch, prm_.l, q_, prm_.seed, prm_.density, prm_.srht_rows};
        jl::gpu::components(r, prm_.dtype, qb_, stream_);
    }

    // ---- products with M -----------------------------------------------------

    // y (p x l) = M x, x q x l
    void times_m(const T* x, T* y) {
        LOGSKETCH_CUBLAS_CHECK(la::gemm(blas_, op_m_, CUBLAS_OP_N, p_, l_, q_, T(1), a_, lda_, x, q_, T(0), y, p_));
    }

    // x (q x l) = M^T y, y p x l
    void times_mt(const T* y, T* x) {
        LOGSKETCH_CUBLAS_CHECK(
            la::gemm(blas_, flip(op_m_), CUBLAS_OP_N, q_, l_, p_, T(1), a_, lda_, y, p_, T(0), x, q_));
    }

    // ---- normalizers, on x (rows x l, ld rows; rows >= l) ----------------------

    void normalize(T* x, int rows) {
        switch (prm_.normalizer) {
            case Normalizer::none: return;
            case Normalizer::qr: householder(x, rows); return;
            case Normalizer::lu: lu(x, rows); return;
            case Normalizer::cholqr:
                // One pass, or two when the first needed a shift; every pass
                // keeps the span, so Householder may take over from a failure.
                if (!cholqr(x, rows, 2)) householder(x, rows);
                return;
        }
    }

    // x = the Q of x's Householder QR (geqrf + orgqr).
    void householder(T* x, int rows) {
        LOGSKETCH_CUSOLVER_CHECK(la::geqrf(solver_, rows, l_, x, rows, tau_, work_, lwork_, info_));
        record_info(info_, first_, kGeqrf, false, stream_);
        LOGSKETCH_CUSOLVER_CHECK(la::orgqr(solver_, rows, l_, l_, x, rows, tau_, work_, lwork_, info_));
        record_info(info_, first_, kOrgqr, false, stream_);
    }

    // x = P L of x's LU with partial pivoting.  getrf's info > 0 (an exactly
    // zero pivot, U singular) is no error: L is still complete, as scipy's lu.
    void lu(T* x, int rows) {
        LOGSKETCH_CUSOLVER_CHECK(la::getrf(solver_, rows, l_, x, rows, work_, ipiv_, info_));
        record_info(info_, first_, kGetrf, true, stream_);
        lu_to_pl(x, rows, l_, ipiv_, perm_, w_, stream_);
        LOGSKETCH_CUDA_CHECK(cudaMemcpyAsync(x, w_, sizeof(T) * std::size_t(rows) * l_, cudaMemcpyDeviceToDevice,
                                             stream_));
    }

    enum class Chol { ok, shifted, failed };

    // x = x R^-1 with R the upper Cholesky factor of G = x^T x.  If potrf
    // fails, R comes from G + s I (the shifted Cholesky QR of Fukaya, Kannan,
    // Nakatsukasa, Yamamoto and Yanagisawa, 2020), s = c trace(G) with c from
    // (l + 1) eps growing tenfold to their bound 11 (rows l + l (l + 1)) eps,
    // the first that factors: as cpp/rsvd/orthonormalize.cpp, whose comment
    // says why the bound alone is too large in float32.  A shifted pass keeps
    // the span but leaves small directions damped, for an unshifted pass to
    // finish.  failed: x untouched (G zero or not finite).
    Chol cholqr_step(T* x, int rows) {
        gram(x, rows);
        Chol result = Chol::ok;
        if (!potrf_ok()) {
            const double eps = double(std::numeric_limits<T>::epsilon());
            const double most = 11.0 * (double(rows) * l_ + double(l_) * (l_ + 1)) * eps;
            for (double c = (l_ + 1) * eps;; c *= 10) {
                c = std::min(c, most);
                gram(x, rows);  // potrf overwrote part of G
                add_trace_shift(g_, l_, static_cast<T>(c), stream_);
                if (potrf_ok()) break;
                if (c >= most) return Chol::failed;
            }
            result = Chol::shifted;
        }
        LOGSKETCH_CUBLAS_CHECK(la::trsm(blas_, CUBLAS_SIDE_RIGHT, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N,
                                        CUBLAS_DIAG_NON_UNIT, rows, l_, T(1), g_, l_, x, rows));
        return result;
    }

    // Cholesky QR passes until one needs no shift, at most `passes`: true if
    // one did.
    bool cholqr(T* x, int rows, int passes) {
        for (int pass = 0; pass < passes; ++pass) {
            const Chol r = cholqr_step(x, rows);
            if (r == Chol::failed) return false;
            if (r == Chol::ok) return true;
        }
        return false;
    }

    // g's upper triangle = x^T x
    void gram(const T* x, int rows) {
        LOGSKETCH_CUBLAS_CHECK(
            la::syrk(blas_, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, l_, rows, T(1), x, rows, T(0), g_, l_));
    }

    // potrf on g's upper triangle; whether G was positive definite.  Reads
    // info on the host: the one synchronisation per Cholesky QR step.
    bool potrf_ok() {
        LOGSKETCH_CUSOLVER_CHECK(la::potrf(solver_, CUBLAS_FILL_MODE_UPPER, l_, g_, l_, work_, lwork_, info_));
        int info = 0;
        LOGSKETCH_CUDA_CHECK(cudaMemcpyAsync(&info, info_, sizeof(int), cudaMemcpyDeviceToHost, stream_));
        LOGSKETCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
        if (info < 0) throw std::runtime_error("cuSOLVER potrf rejected argument " + std::to_string(-info));
        return info == 0;
    }

    // ---- the range basis ---------------------------------------------------------

    // y (p x l) = an orthonormal basis of its columns' span.  Householder for
    // every normalizer but "cholqr", which runs Cholesky QR twice (three
    // times after a shift) and keeps it when ||Q^T Q - I||_max <= 100 l eps,
    // else takes Householder QR of the saved Y (Y numerically rank-deficient).
    void orthonormalize(T* y) {
        if (prm_.normalizer != Normalizer::cholqr) {
            householder(y, p_);
            return;
        }
        const std::size_t bytes = sizeof(T) * std::size_t(p_) * l_;
        LOGSKETCH_CUDA_CHECK(cudaMemcpyAsync(w_, y, bytes, cudaMemcpyDeviceToDevice, stream_));
        // The passes up to an unshifted one, then one more (CholQR2, or
        // shifted CholQR3), kept if orthonormal.
        if (cholqr(y, p_, 2) && cholqr(y, p_, 1) && orthonormal(y)) return;
        LOGSKETCH_CUDA_CHECK(cudaMemcpyAsync(y, w_, bytes, cudaMemcpyDeviceToDevice, stream_));
        householder(y, p_);
    }

    bool orthonormal(const T* y) {
        gram(y, p_);
        identity_error(g_, l_, scalar_, stream_);
        T err = 0;
        LOGSKETCH_CUDA_CHECK(cudaMemcpyAsync(&err, scalar_, sizeof(T), cudaMemcpyDeviceToHost, stream_));
        LOGSKETCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
        return err <= T(100) * T(l_) * std::numeric_limits<T>::epsilon();  // NaN came back as inf
    }

    // ---- the small SVD and the outputs ---------------------------------------------

    // qb = B^T (q x l) -> Q2 (in qb), R2 -> U2 S V2^T (su, s, svt).
    void small_svd() {
        LOGSKETCH_CUSOLVER_CHECK(la::geqrf(solver_, q_, l_, qb_, q_, tau_, work_, lwork_, info_));
        record_info(info_, first_, kGeqrf, false, stream_);
        upper_triangle(qb_, q_, l_, g_, stream_);
        LOGSKETCH_CUSOLVER_CHECK(la::orgqr(solver_, q_, l_, l_, qb_, q_, tau_, work_, lwork_, info_));
        record_info(info_, first_, kOrgqr, false, stream_);
        LOGSKETCH_CUSOLVER_CHECK(
            la::gesvd(solver_, 'A', 'A', l_, l_, g_, l_, s_, su_, l_, svt_, l_, work_, lwork_, rwork_, info_));
        record_info(info_, first_, kGesvd, false, stream_);
    }

    // With Ub = svt^T and Vb = Q2 su (file comment), U_M = Q Ub[:, :k] and
    // V_M = Vb[:, :k]; A's factors are (U_M, V_M), or (V_M, U_M) when M = A^T.
    // The first k rows of svt are svt itself with k rows and ld l; the first
    // k columns of su are su with k columns.
    void write_outputs() {
        T* u = static_cast<T*>(prm_.u);
        T* vt = static_cast<T*>(prm_.vt);
        if (!prm_.transpose) {
            // U^T (k x m) = svt[:k] Q^T;  V (n x k) = Q2 su[:, :k]
            LOGSKETCH_CUBLAS_CHECK(
                la::gemm(blas_, CUBLAS_OP_N, CUBLAS_OP_T, k_, p_, l_, T(1), svt_, l_, y_, p_, T(0), u, k_));
            LOGSKETCH_CUBLAS_CHECK(
                la::gemm(blas_, CUBLAS_OP_N, CUBLAS_OP_N, q_, k_, l_, T(1), qb_, q_, su_, l_, T(0), vt, q_));
        } else {
            // U^T (k x m) = V_M^T = su[:, :k]^T Q2^T;  V (n x k) = U_M = Q svt[:k]^T
            LOGSKETCH_CUBLAS_CHECK(
                la::gemm(blas_, CUBLAS_OP_T, CUBLAS_OP_T, k_, q_, l_, T(1), su_, l_, qb_, q_, T(0), u, k_));
            LOGSKETCH_CUBLAS_CHECK(
                la::gemm(blas_, CUBLAS_OP_N, CUBLAS_OP_T, p_, k_, l_, T(1), y_, p_, svt_, l_, T(0), vt, p_));
        }
        LOGSKETCH_CUDA_CHECK(
            cudaMemcpyAsync(prm_.s, s_, sizeof(T) * std::size_t(k_), cudaMemcpyDeviceToDevice, stream_));
    }

    // The one synchronisation at the end: every folded info value.
    void check_infos() {
        int first[2] = {0, 0};
        LOGSKETCH_CUDA_CHECK(cudaMemcpyAsync(first, first_, sizeof(first), cudaMemcpyDeviceToHost, stream_));
        LOGSKETCH_CUDA_CHECK(cudaStreamSynchronize(stream_));
        if (first[0] == 0) return;
        if (first[1] == kGesvd && first[0] > 0) {
            throw std::runtime_error("cuSOLVER gesvd did not converge (" + std::to_string(first[0]) +
                                     " superdiagonals left): A has NaN or inf entries, or the power iterations overflowed "
                                     "(normalizer 'none')");
        }
        throw std::runtime_error(std::string("cuSOLVER ") + site_name(first[1]) + " reported info " +
                                 std::to_string(first[0]) + " (an invalid argument: a bug in logsketch)");
    }

    const Params& prm_;
    cudaStream_t stream_;
    LinalgLease lease_;  // destroyed after the buffers below: it synchronises the stream
    cublasHandle_t blas_;
    cusolverDnHandle_t solver_;
    int p_, q_, l_, k_;
    cublasOperation_t op_m_;
    const T* a_;
    int lda_;

    StreamBuffer qb_buf_, y_buf_, w_buf_, g_buf_, su_buf_, svt_buf_, vec_buf_, int_buf_, work_buf_;
    T *qb_ = nullptr, *y_ = nullptr, *w_ = nullptr, *g_ = nullptr, *su_ = nullptr, *svt_ = nullptr;
    T *tau_ = nullptr, *s_ = nullptr, *rwork_ = nullptr, *scalar_ = nullptr, *work_ = nullptr;
    int *ipiv_ = nullptr, *info_ = nullptr, *first_ = nullptr, *perm_ = nullptr;
    int lwork_ = 1;
};

void check(const Params& p) {
    if (p.m < 1 || p.n < 1) {
        throw std::invalid_argument("A must have at least one row and one column; got " + std::to_string(p.m) +
                                    " x " + std::to_string(p.n));
    }
    if (p.k < 1 || p.l < p.k || p.l > std::min(p.m, p.n)) {
        throw std::invalid_argument("need 1 <= k <= l <= min(m, n); got k=" + std::to_string(p.k) +
                                    ", l=" + std::to_string(p.l) + " for A " + std::to_string(p.m) + " x " +
                                    std::to_string(p.n));
    }
    if (p.n_iter < 0) throw std::invalid_argument("n_iter must be >= 0; got " + std::to_string(p.n_iter));
    as_int(p.m, "m");
    as_int(p.n, "n");
    as_int(p.lda, "lda");
    if (p.lda < (p.a_row_major ? p.n : p.m)) {
        throw std::invalid_argument("lda must be at least " + std::string(p.a_row_major ? "n" : "m") +
                                    " for A's layout; got " + std::to_string(p.lda));
    }
    if (!p.a || !p.u || !p.s || !p.vt) throw std::invalid_argument("A, U, S and Vt must be device pointers");
    if (p.sketch == jl::gpu::Kind::srht && !p.srht_rows) {
        throw std::invalid_argument("srht_rows must be given for the srht sketch");
    }
}

}  // namespace

void randomized_svd(const Params& p, cudaStream_t stream) {
    check(p);
    if (p.dtype == Dtype::float32) {
        Driver<float>(p, stream).run();
    } else {
        Driver<double>(p, stream).run();
    }
}

}  // namespace logsketch::rsvd::gpu
