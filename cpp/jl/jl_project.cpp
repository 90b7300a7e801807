// jl.hpp's entry points: one driver per kind.
#include "../runtime/precondition.hpp"
#include "../core/jl_random.hpp"
#include "jl.hpp"
#include "jl_drivers.hpp"

namespace logsketch::jl {
namespace {

bool float32_or_64(Dtype d) { return d == Dtype::float32 || d == Dtype::float64; }

}  // namespace

bool well_formed(const Matrix& r) {
    constexpr std::int64_t max_dim = std::int64_t(1) << 32;
    if (r.k < 1 || r.k >= max_dim || r.d < 1 || r.d >= max_dim) return false;
    if (r.kind == Kind::sparse) return r.density > 0 && r.density <= 1 && random::sparse_half(r.density) >= 1;
    if (r.kind == Kind::srht) {
        std::int64_t n = 1;
        while (n < r.d) n *= 2;
        return r.k <= n;
    }
    return true;
}

void project_dense(const Matrix& r, const DenseX& x, void* y) {
    LOGSKETCH_REQUIRE(float32_or_64(x.dtype) && well_formed(r) && x.n >= 0);
    if (x.n == 0) return;
    switch (r.kind) {
        case Kind::gaussian: return gaussian_dense(r, x, y);
        case Kind::sparse: return sparse_dense(r, x, y);
        case Kind::srht: return srht_dense(r, x, y);
    }
}

void project_csr(const Matrix& r, const CsrX& x, void* y) {
    LOGSKETCH_REQUIRE(float32_or_64(x.dtype) && well_formed(r) && x.n >= 0);
    if (x.n == 0) return;
    switch (r.kind) {
        case Kind::gaussian: return gaussian_csr(r, x, y);
        case Kind::sparse: return sparse_csr(r, x, y);
        case Kind::srht: return srht_csr(r, x, y);
    }
}

void dense_components(const Matrix& r, Dtype dtype, void* out) {
    LOGSKETCH_REQUIRE(float32_or_64(dtype) && r.kind != Kind::sparse && well_formed(r));
    if (r.kind == Kind::srht) srht_components(r, dtype, out);
    else gaussian_components(r, dtype, out);
}

}  // namespace logsketch::jl
