// The per-kind drivers behind jl.hpp (jl_gaussian.cpp, jl_sparse.cpp,
// jl_srht.cpp) and the dtype/index-type dispatch they share.
#pragma once

#include <cstdint>

#include "jl.hpp"

namespace logsketch::jl {

void gaussian_dense(const Matrix& m, const DenseX& x, void* y);
void gaussian_csr(const Matrix& m, const CsrX& x, void* y);
void sparse_dense(const Matrix& m, const DenseX& x, void* y);
void sparse_csr(const Matrix& m, const CsrX& x, void* y);
void srht_dense(const Matrix& m, const DenseX& x, void* y);
void srht_csr(const Matrix& m, const CsrX& x, void* y);
void srht_components(const Matrix& m, Dtype dtype, void* out);
void gaussian_components(const Matrix& m, Dtype dtype, void* out);

// f(p as T*) for the value type T of dtype.
template <class F>
void dispatch_dtype(Dtype dtype, void* p, F&& f) {
    if (dtype == Dtype::float32) f(static_cast<float*>(p));
    else f(static_cast<double*>(p));
}

// A CsrX's arrays with their types: values T, indices I.
template <class T, class I>
struct CsrView {
    const T* data;
    const I* indices;
    const I* indptr;
    explicit CsrView(const CsrX& x)
        : data(static_cast<const T*>(x.data)),
          indices(static_cast<const I*>(x.indices)),
          indptr(static_cast<const I*>(x.indptr)) {}
};

// f(T{}, I{}, y as T*) for X's value type T and index type I.
template <class F>
void dispatch_csr(const CsrX& x, void* y, F&& f) {
    if (x.dtype == Dtype::float32) {
        if (x.index64) f(float{}, std::int64_t{}, static_cast<float*>(y));
        else f(float{}, std::int32_t{}, static_cast<float*>(y));
    } else {
        if (x.index64) f(double{}, std::int64_t{}, static_cast<double*>(y));
        else f(double{}, std::int32_t{}, static_cast<double*>(y));
    }
}

}  // namespace logsketch::jl
