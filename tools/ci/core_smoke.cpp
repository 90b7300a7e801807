// A C++ check of the core library without Python: one kernel of each family
// through its public driver API, on a problem whose answer is known exactly.
// Built with -DLOGSKETCH_SMOKE=ON (the aarch64 cross-build runs it under qemu).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "attention/attention.hpp"
#include "jl/jl.hpp"
#include "mitchell/mitchell.hpp"
#include "rsvd/rsvd.hpp"
#include "runtime/cpu_features.hpp"

namespace ls = logsketch;

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += ok ? 0 : 1;
}

// 2 * 3 = 6 exactly: Mitchell's product is exact when one factor is a power of two.
void mitchell_multiply() {
    const float a[2] = {2.0f, 0.5f}, b[2] = {3.0f, 3.0f};
    float out[2] = {0, 0};
    const std::int64_t shape[1] = {2}, stride[1] = {1};
    ls::mitchell::BinaryParams p{ls::Dtype::float32, ls::mitchell::BinaryOp::multiply, false, 1, shape,
                                 a, stride, b, stride, out, stride};
    ls::mitchell::binary(p);
    check(out[0] == 6.0f && out[1] == 1.5f, "mitchell::binary multiply");
}

// The identity times B is B.
void mitchell_matmul() {
    const double a[4] = {1, 0, 0, 1}, b[4] = {1.5, -2, 3, 0.25};
    double c[4] = {};
    const std::int64_t off[1] = {0};
    ls::mitchell::MatmulParams p{ls::Dtype::float64, false, 1, 2, 2, 2, a, off, 2, 1, b, off, 2, 1, c, off, 2, 1};
    ls::mitchell::matmul(p);
    check(c[0] == 1.5 && c[1] == -2 && c[2] == 3 && c[3] == 0.25, "mitchell::matmul");
}

// Projecting the identity gives R^T.
void jl_project() {
    const std::int64_t k = 4, d = 8;
    const ls::jl::Matrix r{ls::jl::Kind::gaussian, k, d, 42, 0.0};
    std::vector<double> comp(k * d), x(d * d, 0.0), y(d * k);
    ls::jl::dense_components(r, ls::Dtype::float64, comp.data());
    for (std::int64_t i = 0; i < d; ++i) x[i * d + i] = 1.0;
    ls::jl::project_dense(r, ls::jl::DenseX{ls::Dtype::float64, d, x.data(), d, 1}, y.data());
    bool ok = true, nonzero = false;
    for (std::int64_t i = 0; i < d; ++i)
        for (std::int64_t c = 0; c < k; ++c) {
            ok = ok && std::fabs(y[i * k + c] - comp[c * d + i]) <= 1e-12 * (1 + std::fabs(comp[c * d + i]));
            nonzero = nonzero || comp[c * d + i] != 0.0;
        }
    check(ok && nonzero, "jl::project_dense");
}

// diag(4, 3, 2, 1): the top two singular values are 4 and 3.
void rsvd_diagonal() {
    const std::int64_t n = 4, k = 2;
    std::vector<double> a(n * n, 0.0), u(n * k), s(k), vt(k * n);
    for (std::int64_t i = 0; i < n; ++i) a[i * n + i] = static_cast<double>(n - i);
    ls::rsvd::Matrix m{};
    m.dtype = ls::Dtype::float64;
    m.m = m.n = n;
    m.a = a.data();
    m.rs = n;
    m.cs = 1;
    const ls::rsvd::Options opt{k, n, 2, ls::rsvd::Normalizer::qr, false, true, ls::jl::Kind::gaussian, 7, 0.0};
    ls::rsvd::randomized_svd(m, opt, u.data(), s.data(), vt.data());
    check(std::fabs(s[0] - 4) < 1e-10 && std::fabs(s[1] - 3) < 1e-10, "rsvd::randomized_svd");
}

// One query, one key: the output is the key's value row.
void attention_one_key() {
    const float q[2] = {1, 2}, k[2] = {0.5f, -1}, v[2] = {3, -4};
    float out[2] = {0, 0};
    const std::int64_t zero[1] = {0}, one[1] = {1};
    ls::attention::Problem p{};
    p.dtype = ls::Dtype::float32;
    p.batch = p.heads_q = p.heads_kv = 1;
    p.d = p.dv = 2;
    p.q = q, p.k = k, p.v = v, p.out = out, p.lse = nullptr;
    p.q_hs = p.k_hs = p.v_hs = p.o_hs = p.q_rs = p.k_rs = p.v_rs = p.o_rs = 2;
    p.q_off = p.k_off = p.v_off = p.o_off = p.lse_off = zero;
    p.q_len = p.k_len = one;
    p.causal = true;
    p.scale = ls::attention::Scale{false, 512.0, 0.0, 0.5};
    ls::attention::attention(p);
    check(out[0] == 3 && out[1] == -4, "attention::attention");
}

}  // namespace

int main() {
    std::printf("SIMD level: %s\n", ls::simd_level_name(ls::detected_simd_level()));
    mitchell_multiply();
    mitchell_matmul();
    jl_project();
    rsvd_diagonal();
    attention_one_key();
    return failures == 0 ? 0 : 1;
}
