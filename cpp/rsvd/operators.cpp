#include "operators.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "../runtime/scratch.hpp"
#include "../runtime/threads.hpp"
#include "csr_kernels.hpp"
#include "csr_transpose.hpp"
#include "parallel_blas.hpp"

namespace logsketch::rsvd {
namespace {

std::atomic<std::int64_t> gather_block_bytes{std::int64_t(12) << 20};

template <class T>
constexpr Dtype dtype_of() {
    return sizeof(T) == 4 ? Dtype::float32 : Dtype::float64;
}

// Copies a C-contiguous p x l block into a panel of leading dimension ld.
template <class T>
void widen_rows(const T* src, std::int64_t p, std::int64_t l, T* y, std::int64_t ld) {
    const int threads = get_num_threads();  // once: set_num_threads may run concurrently
    parallel_for(threads, [&](std::int64_t t) {
        const std::int64_t r0 = p * t / threads, r1 = p * (t + 1) / threads;
        for (std::int64_t i = r0; i < r1; ++i) std::memcpy(y + i * ld, src + i * l, sizeof(T) * l);
    }, threads);
}

// Dense A in C or F order.  Read as a row-major matrix S (C order: S = A;
// F order: S = A^T) of leading dimension lds, M is S or S^T: BLAS's transpose
// flags do the rest, so A is never copied.
template <class T>
class DenseOp final : public LinearOp<T> {
public:
    DenseOp(const Matrix& a, bool transpose)
        : LinearOp<T>(transpose ? a.n : a.m, transpose ? a.m : a.n),
          s_(static_cast<const T*>(a.a)),
          lds_(a.cs == 1 ? a.rs : a.cs),
          // C order holds A as S; F order holds A^T as S.
          m_is_st_((a.cs == 1) == transpose),
          view_{dtype_of<T>(), this->rows(), a.a, transpose ? a.cs : a.rs, transpose ? a.rs : a.cs} {
    }
    std::int64_t panel_ld(std::int64_t l) const override { return l; }

protected:
    void raw_sketch(const jl::Matrix& r, T* y, std::int64_t ld) const override {
        jl::project_dense(r, view_, y);  // C-contiguous p x l: ld == l
        (void)ld;
    }
    void raw_apply(const T* x, T* y, std::int64_t l, std::int64_t ld) const override {
        par::thin_product(m_is_st_, this->rows(), l, this->cols(), s_, lds_, x, ld, y, ld);
    }
    void raw_apply_t(const T* y, T* z, std::int64_t l, std::int64_t ld) const override {
        par::thin_product(!m_is_st_, this->cols(), l, this->rows(), s_, lds_, y, ld, z, ld);
    }

private:
    const T* s_;
    std::int64_t lds_;
    bool m_is_st_;
    jl::DenseX view_;  // M itself, for the JL kernels
};

// CSR A: the CSR of M is borrowed or built, the CSR of M^T the other.
template <class T, class I>
class CsrOp final : public LinearOp<T> {
public:
    // m_only: only products with M itself will be asked for (apply and the
    // sketch, not apply_t): the transpose is then built only when M needs it.
    CsrOp(const Matrix& a, bool transpose, bool m_only = false)
        : LinearOp<T>(transpose ? a.n : a.m, transpose ? a.m : a.n) {
        // The given arrays are the CSR of G = A, or of A^T when csr_transposed.
        const std::int64_t g_rows = a.csr_transposed ? a.n : a.m, g_cols = a.csr_transposed ? a.m : a.n;
        const auto* data = static_cast<const T*>(a.data);
        const auto* indices = static_cast<const I*>(a.indices);
        const auto* indptr = static_cast<const I*>(a.indptr);
        const bool given_is_m = a.csr_transposed == transpose;
        if (!(m_only && given_is_m)) built_ = transpose_csr(data, indices, indptr, g_rows, g_cols);
        const Csr given{data, indices, indptr}, built{built_.data.data(), built_.indices.data(), built_.indptr.data()};
        m_ = given_is_m ? given : built;
        mt_ = given_is_m ? built : given;
    }
    std::int64_t panel_ld(std::int64_t l) const override { return (l + kPanelAlign - 1) / kPanelAlign * kPanelAlign; }

protected:
    void raw_sketch(const jl::Matrix& r, T* y, std::int64_t ld) const override {
        if (r.kind == jl::Kind::sparse) {  // additions only, straight from the nonzeros
            const jl::CsrX x{dtype_of<T>(), this->rows(), m_.data, m_.indices, m_.indptr, sizeof(I) == 8};
            std::vector<T> dense(static_cast<std::size_t>(this->rows()) * r.k);
            jl::project_csr(r, x, dense.data());
            widen_rows(dense.data(), this->rows(), r.k, y, ld);
            return;
        }
        // Gaussian and SRHT: R (l x q) once, then the CSR product: faster than
        // R's entries per nonzero (docs/tuning.md, "CSR sketch: R generated once").
        std::vector<T> rt(static_cast<std::size_t>(r.k) * r.d), omega(static_cast<std::size_t>(r.d) * ld, T(0));
        jl::dense_components(r, dtype_of<T>(), rt.data());
        for (std::int64_t j = 0; j < r.d; ++j)
            for (std::int64_t c = 0; c < r.k; ++c) omega[j * ld + c] = rt[c * r.d + j];
        multiply(m_, m_blocks_, this->rows(), this->cols(), omega.data(), y, ld);
    }
    void raw_apply(const T* x, T* y, std::int64_t, std::int64_t ld) const override {
        multiply(m_, m_blocks_, this->rows(), this->cols(), x, y, ld);
    }
    void raw_apply_t(const T* y, T* z, std::int64_t, std::int64_t ld) const override {
        multiply(mt_, mt_blocks_, this->cols(), this->rows(), y, z, ld);
    }

private:
    struct Csr {
        const T* data;
        const I* indices;
        const I* indptr;
    };
    // Row i's nonzeros in column block b: [bounds[i * (count + 1) + b],
    // bounds[i * (count + 1) + b + 1]); task t covers rows [task_rows[t],
    // task_rows[t + 1]).  Made on first use, for one ld.
    struct Blocks {
        std::vector<std::int64_t> bounds, task_rows;
        std::int64_t count = 0, ld = 0;
    };

    // Splits s's columns (x's rows) into blocks of at most gather_block_bytes
    // of x each, capped at the mean nonzeros per row so the bounds cost no
    // more than the CSR.  Indices are sorted within rows, so each block is a
    // range of the row: no copy of the nonzeros.  Also splits the rows into
    // the products' tasks, once per operator rather than once per product.
    static void split_columns(const Csr& s, std::int64_t rows, std::int64_t cols, std::int64_t ld, Blocks& out) {
        const std::int64_t nnz = static_cast<std::int64_t>(s.indptr[rows] - s.indptr[0]);
        const std::int64_t per_block = std::max<std::int64_t>(1, csr_gather_block_bytes() / std::int64_t(sizeof(T) * ld));
        const std::int64_t blocks = std::max<std::int64_t>(
            1, std::min((cols + per_block - 1) / per_block, nnz / std::max<std::int64_t>(rows, 1)));
        out.bounds.assign(static_cast<std::size_t>(rows) * (blocks + 1), 0);
        const int threads = get_num_threads();  // once: set_num_threads may run concurrently
        parallel_for(threads, [&](std::int64_t t) {
            for (std::int64_t i = rows * t / threads; i < rows * (t + 1) / threads; ++i) {
                std::int64_t at = s.indptr[i];
                for (std::int64_t b = 0; b < blocks; ++b) {
                    const std::int64_t start = cols * b / blocks;
                    while (at < static_cast<std::int64_t>(s.indptr[i + 1]) && s.indices[at] < start) ++at;
                    out.bounds[i * (blocks + 1) + b] = at;
                }
                out.bounds[i * (blocks + 1) + blocks] = s.indptr[i + 1];
            }
        }, threads);
        // Tasks of about equal nonzeros (plus a row's worth of output each),
        // several per thread to even out the gathers' uneven cache misses.
        const std::int64_t tasks = std::max<std::int64_t>(1, std::min<std::int64_t>(rows, 8 * threads));
        out.task_rows.assign(tasks + 1, rows);
        out.task_rows[0] = 0;
        for (std::int64_t t = 1, r = 0; t < tasks; ++t) {
            const std::int64_t goal = (nnz + rows) * t / tasks;
            while (r < rows && static_cast<std::int64_t>(s.indptr[r] - s.indptr[0]) + r < goal) ++r;
            out.task_rows[t] = r;
        }
        out.count = blocks;
        out.ld = ld;
    }

    // out = S x for the CSR S (rows x cols) over the whole panel width, one
    // column block of S (block of x's rows) at a time, so the rows gathered
    // stay in cache (docs/tuning.md, "CSR products: column blocks").  The fma chain per row is the
    // same as in one pass: the bits do not change.
    static void multiply(const Csr& s, Blocks& blocks, std::int64_t rows, std::int64_t cols, const T* x, T* out,
                         std::int64_t ld) {
        if (blocks.ld != ld) split_columns(s, rows, cols, ld, blocks);
        const CsrKernels<T> kern = active_csr_kernels<T>();
        const std::vector<std::int64_t>& task_rows = blocks.task_rows;
        const std::int64_t tasks = static_cast<std::int64_t>(task_rows.size()) - 1;
        for (std::int64_t b = 0; b < blocks.count; ++b) {
            if (cancellation_requested()) throw Cancelled();  // between column blocks
            const std::int64_t* bounds = blocks.bounds.data() + b;
            const std::int64_t stride = blocks.count + 1;
            parallel_for(tasks, [&](std::int64_t t) {
                const std::int64_t r0 = task_rows[t], r1 = task_rows[t + 1];
                if constexpr (sizeof(I) == 4) kern.rows32(s.data, s.indices, bounds, stride, r0, r1, x, out, ld, b > 0);
                else kern.rows64(s.data, s.indices, bounds, stride, r0, r1, x, out, ld, b > 0);
            });
        }
    }

    CsrArrays<T, I> built_;
    Csr m_{}, mt_{};
    mutable Blocks m_blocks_, mt_blocks_;
};

}  // namespace

std::int64_t csr_gather_block_bytes() { return gather_block_bytes.load(); }

std::int64_t set_csr_gather_block_bytes(std::int64_t bytes) { return gather_block_bytes.exchange(bytes); }

template <class T>
void LinearOp<T>::sketch(const jl::Matrix& r, T* y, std::int64_t ld) const {
    raw_sketch(r, y, ld);
    if (!centered_) return;
    // (M - u v^T) R^T = M R^T - u (R v)^T; R v is the projection of the row v^T.
    std::vector<T> w(r.k);
    const jl::DenseX row{dtype_of<T>(), 1, v_.data(), q_, 1};
    jl::project_dense(r, row, w.data());
    par::sub_outer(p_, r.k, u_.data(), w.data(), y, ld);
}

template <class T>
void LinearOp<T>::apply(const T* x, T* y, std::int64_t l, std::int64_t ld) const {
    raw_apply(x, y, l, ld);
    if (!centered_) return;
    std::vector<T> w(l);  // (M - u v^T) x = M x - u (x^T v)^T
    par::gemv_t(q_, l, x, ld, v_.data(), w.data());
    par::sub_outer(p_, l, u_.data(), w.data(), y, ld);
}

template <class T>
void LinearOp<T>::apply_t(const T* y, T* z, std::int64_t l, std::int64_t ld) const {
    raw_apply_t(y, z, l, ld);
    if (!centered_) return;
    std::vector<T> w(l);  // (M - u v^T)^T y = M^T y - v (y^T u)^T
    par::gemv_t(p_, l, y, ld, u_.data(), w.data());
    par::sub_outer(q_, l, v_.data(), w.data(), z, ld);
}

template <class T>
std::unique_ptr<LinearOp<T>> make_operator(const Matrix& a, bool transpose) {
    std::unique_ptr<LinearOp<T>> op;
    if (!a.sparse) op = std::make_unique<DenseOp<T>>(a, transpose);
    else if (a.index64) op = std::make_unique<CsrOp<T, std::int64_t>>(a, transpose);
    else op = std::make_unique<CsrOp<T, std::int32_t>>(a, transpose);
    if (a.mean) {
        // A - 1 mean^T: as M = A, u = 1 and v = mean; as M = A^T, u = mean and v = 1.
        const auto* mean = static_cast<const T*>(a.mean);
        op->centered_ = true;
        op->u_.assign(op->p_, T(1));
        op->v_.assign(op->q_, T(1));
        if (transpose) op->u_.assign(mean, mean + a.n);
        else op->v_.assign(mean, mean + a.n);
    }
    return op;
}

namespace {

template <class T, class I>
void csr_product_as(const Matrix& a, bool adjoint, const T* x, T* out, std::int64_t l) {
    // M = A (the given CSR) or A^T (its transpose, built): only M's CSR is needed.
    const CsrOp<T, I> op(a, adjoint, true);
    const std::int64_t ld = op.panel_ld(l), in_rows = op.cols(), out_rows = op.rows();
    if (ld == l) {
        op.apply(x, out, l, ld);
        return;
    }
    // The kernels want rows padded to whole vectors (zero padding): copy in and
    // out through per-thread scratch (fresh buffers page-faulted: a third of
    // the call on a 100000 x 110 panel).
    T* const src = thread_scratch<T, 40>(static_cast<std::size_t>(in_rows * ld));
    T* const dst = thread_scratch<T, 41>(static_cast<std::size_t>(out_rows * ld));
    for (std::int64_t i = 0; i < in_rows; ++i) {
        std::copy(x + i * l, x + (i + 1) * l, src + i * ld);
        std::fill(src + i * ld + l, src + (i + 1) * ld, T(0));
    }
    op.apply(src, dst, l, ld);
    for (std::int64_t i = 0; i < out_rows; ++i) std::copy(dst + i * ld, dst + i * ld + l, out + i * l);
}

}  // namespace

template <class T>
void csr_product(const Matrix& a, bool adjoint, const T* x, T* out, std::int64_t l) {
    if (a.index64) csr_product_as<T, std::int64_t>(a, adjoint, x, out, l);
    else csr_product_as<T, std::int32_t>(a, adjoint, x, out, l);
}

template void csr_product<float>(const Matrix&, bool, const float*, float*, std::int64_t);
template void csr_product<double>(const Matrix&, bool, const double*, double*, std::int64_t);
template std::unique_ptr<LinearOp<float>> make_operator<float>(const Matrix&, bool);
template std::unique_ptr<LinearOp<double>> make_operator<double>(const Matrix&, bool);
template class LinearOp<float>;
template class LinearOp<double>;

}  // namespace logsketch::rsvd
