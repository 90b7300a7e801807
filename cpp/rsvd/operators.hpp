// The matrix the randomized SVD factors, M (p x q), as products with
// row-major panels of l columns (leading dimension ld): M = A or A^T, dense or
// CSR, optionally centered as M - u v^T (PCA) without forming it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "../jl/jl.hpp"
#include "rsvd.hpp"

namespace logsketch::rsvd {

template <class T>
class LinearOp {
public:
    virtual ~LinearOp() = default;
    std::int64_t rows() const { return p_; }
    std::int64_t cols() const { return q_; }
    // The panels' leading dimension for l columns.
    virtual std::int64_t panel_ld(std::int64_t l) const = 0;
    // y = M R^T (p x l), R the JL matrix r (l x q): the first sketch.
    void sketch(const jl::Matrix& r, T* y, std::int64_t ld) const;
    // y = M x: x is q x l, y is p x l.
    void apply(const T* x, T* y, std::int64_t l, std::int64_t ld) const;
    // z = M^T y: y is p x l, z is q x l.
    void apply_t(const T* y, T* z, std::int64_t l, std::int64_t ld) const;

protected:
    LinearOp(std::int64_t p, std::int64_t q) : p_(p), q_(q) {}
    // The same three for the uncentered M.
    virtual void raw_sketch(const jl::Matrix& r, T* y, std::int64_t ld) const = 0;
    virtual void raw_apply(const T* x, T* y, std::int64_t l, std::int64_t ld) const = 0;
    virtual void raw_apply_t(const T* y, T* z, std::int64_t l, std::int64_t ld) const = 0;

private:
    template <class U>
    friend std::unique_ptr<LinearOp<U>> make_operator(const Matrix& a, bool transpose);
    std::int64_t p_, q_;
    // Centering M - u v^T (off when centered_ is false): one of u, v is the
    // mean, the other all ones.
    bool centered_ = false;
    std::vector<T> u_;  // p entries
    std::vector<T> v_;  // q entries
};

template <class T>
std::unique_ptr<LinearOp<T>> make_operator(const Matrix& a, bool transpose);

// out = A x, or A^T x when adjoint, for a CSR A (the Matrix's arrays, no
// mean): x is row-major with l columns (n x l, or m x l when adjoint), out
// likewise (m x l, or n x l), both contiguous.  The randomized SVD's own CSR
// product, for callers that hold one block of a larger A: the same bits as
// the product inside randomized_svd.
template <class T>
void csr_product(const Matrix& a, bool adjoint, const T* x, T* out, std::int64_t l);

// How much of the gathered panel one column block of a CSR product covers
// (12 MiB: operators.cpp has the measurement).  The setter, for tests, returns
// the old value; the bits do not depend on it.
std::int64_t csr_gather_block_bytes();
std::int64_t set_csr_gather_block_bytes(std::int64_t bytes);

}  // namespace logsketch::rsvd
