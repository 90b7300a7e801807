// Bindings of the JL kernels.  The Python layer (logsketch/jl.py) resolves
// defaults, converts inputs and allocates outputs; these functions re-check
// what the kernels rely on, convert to the plain structs and release the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../core/philox.hpp"
#include "../jl/jl.hpp"
#include "../core/jl_random.hpp"
#include "array_checks.hpp"
#include "interrupt.hpp"
#include "csr_checks.hpp"
#include "dtype_names.hpp"
#include "register.hpp"

namespace logsketch::bindings {

namespace py = pybind11;

namespace {

constexpr std::int64_t kMaxDim = std::int64_t(1) << 32;  // rows and column blocks index 32-bit counter words

Dtype dtype_of(const py::array& arr, const char* name) {
    return array_dtype(arr, name, {Dtype::float32, Dtype::float64});
}

jl::Matrix matrix(const std::string& kind, std::int64_t k, std::int64_t d, std::uint64_t seed, double density) {
    jl::Matrix m{jl::Kind::gaussian, k, d, seed, density};
    if (kind == "sparse") m.kind = jl::Kind::sparse;
    else if (kind == "srht") m.kind = jl::Kind::srht;
    else if (kind != "gaussian") throw py::value_error("kind must be 'gaussian', 'sparse' or 'srht'; got '" + kind + "'");
    if (m.kind == jl::Kind::sparse && !(density > 0 && density <= 1 && jl::random::sparse_half(density) >= 1)) {
        throw py::value_error("density must be in [2**-32, 1]; got " + std::to_string(density));
    }
    return m;
}

void require_output(const py::array& y, Dtype dtype, std::int64_t rows, std::int64_t cols, const char* name) {
    if (dtype_of(y, name) != dtype) throw py::type_error(std::string(name) + " must have the input's dtype");
    require_writeable(y, name);
    if (y.ndim() != 2 || y.shape(0) != rows || y.shape(1) != cols || !(y.flags() & py::array::c_style)) {
        throw py::value_error(std::string(name) + " must be a C-contiguous (" + std::to_string(rows) + ", " +
                              std::to_string(cols) + ") array");
    }
}

void project_dense(const py::array& x, py::array& y, const std::string& kind, std::int64_t k, std::uint64_t seed,
                   double density) {
    const Dtype dt = dtype_of(x, "X");
    if (x.ndim() != 2) throw py::value_error("X must be 2-D");
    const jl::Matrix m = matrix(kind, k, x.shape(1), seed, density);
    require_output(y, dt, x.shape(0), k, "out");
    const auto s = element_strides(x, "X");
    const jl::DenseX in{dt, x.shape(0), x.data(), s[0], s[1]};
    void* out = y.mutable_data();
    py::gil_scoped_release release;
    InterruptibleCall interruptible;
    jl::project_dense(m, in, out);
}

void project_csr(const py::array& data, const py::array& indices, const py::array& indptr, std::int64_t n,
                 std::int64_t d, py::array& y, const std::string& kind, std::int64_t k, std::uint64_t seed,
                 double density) {
    const Dtype dt = dtype_of(data, "X.data");
    const jl::Matrix m = matrix(kind, k, d, seed, density);
    require_output(y, dt, n, k, "out");
    const CsrView v = csr_view(data, indices, indptr, n, "X");
    const jl::CsrX in{dt, n, v.data, v.indices, v.indptr, v.index64};
    void* out = y.mutable_data();
    std::string error;
    {
        py::gil_scoped_release release;
        InterruptibleCall interruptible;
        error = csr_invariants(v, n, d, "X");
        if (error.empty()) jl::project_csr(m, in, out);
    }
    if (!error.empty()) throw py::value_error(error);
}

void dense_components(py::array& out, const std::string& kind, std::uint64_t seed, double density) {
    if (out.ndim() != 2) throw py::value_error("out must be 2-D (n_components, n_features)");
    const Dtype dt = dtype_of(out, "out");
    const jl::Matrix m = matrix(kind, out.shape(0), out.shape(1), seed, density);
    if (m.kind == jl::Kind::sparse) throw py::value_error("the sparse kind is materialized by jl_sparse_components");
    require_output(out, dt, m.k, m.d, "out");
    void* p = out.mutable_data();
    py::gil_scoped_release release;
    InterruptibleCall interruptible;
    jl::dense_components(m, dt, p);
}

py::tuple sparse_components(std::int64_t k, std::int64_t d, std::uint64_t seed, double density,
                            const std::string& dtype) {
    const Dtype dt = dtype_named(dtype, {Dtype::float32, Dtype::float64});
    const jl::Matrix m = matrix("sparse", k, d, seed, density);
    py::array_t<std::int64_t> indptr(k + 1);
    std::int64_t* ip = indptr.mutable_data();
    {
        py::gil_scoped_release release;
        InterruptibleCall interruptible;
        ip[0] = 0;
        jl::sparse_row_counts(m, ip + 1);
        for (std::int64_t c = 0; c < k; ++c) ip[c + 1] += ip[c];
    }
    py::array_t<std::int64_t> indices(ip[k]);
    py::array data(dt == Dtype::float32 ? py::dtype::of<float>() : py::dtype::of<double>(), ip[k]);
    std::int64_t* ix = indices.mutable_data();
    void* px = data.mutable_data();
    {
        py::gil_scoped_release release;
        InterruptibleCall interruptible;
        jl::sparse_fill(m, dt, ip, ix, px);
    }
    return py::make_tuple(data, indices, indptr);
}

py::array_t<std::int64_t> srht_sample(std::uint64_t seed, std::int64_t k, std::int64_t n) {
    if (n < 1 || (n & (n - 1)) != 0 || n > kMaxDim) throw py::value_error("n must be a power of two <= 2**32");
    if (k < 0 || k > n) throw py::value_error("k must be in [0, n]");
    const std::vector<std::int64_t> s = jl::srht_sample(seed, k, n);
    py::array_t<std::int64_t> out(k);
    std::copy(s.begin(), s.end(), out.mutable_data());
    return out;
}

// Raw Philox4x32-10 blocks: counters (n, 4) uint32 and key (k0, k1) -> (n, 4).
py::array_t<std::uint32_t> philox(const py::array_t<std::uint32_t, py::array::c_style | py::array::forcecast>& ctr,
                                  std::uint32_t k0, std::uint32_t k1) {
    if (ctr.ndim() != 2 || ctr.shape(1) != 4) throw py::value_error("counters must have shape (n, 4)");
    py::array_t<std::uint32_t> out({ctr.shape(0), py::ssize_t(4)});
    const std::uint32_t* in = ctr.data();
    std::uint32_t* o = out.mutable_data();
    for (py::ssize_t i = 0; i < ctr.shape(0); ++i) {
        std::uint32_t c[4] = {in[4 * i], in[4 * i + 1], in[4 * i + 2], in[4 * i + 3]};
        philox::philox4x32_10<philox::ScalarLanes>(c[0], c[1], c[2], c[3], {k0, k1});
        std::copy(c, c + 4, o + 4 * i);
    }
    return out;
}

}  // namespace

void register_jl(py::module_& m) {
    m.def("jl_project_dense", &project_dense, py::arg("x"), py::arg("out"), py::arg("kind"), py::arg("k"),
          py::arg("seed"), py::arg("density"), "out = X R^T for a dense 2-D X (any strides).");
    m.def("jl_project_csr", &project_csr, py::arg("data"), py::arg("indices"), py::arg("indptr"), py::arg("n"),
          py::arg("d"), py::arg("out"), py::arg("kind"), py::arg("k"), py::arg("seed"), py::arg("density"),
          "out = X R^T for a CSR X with sorted, unique column indices.");
    m.def("jl_dense_components", &dense_components, py::arg("out"), py::arg("kind"), py::arg("seed"),
          py::arg("density"), "Writes R (gaussian or srht) into out, shape (k, d).");
    m.def("jl_sparse_components", &sparse_components, py::arg("k"), py::arg("d"), py::arg("seed"),
          py::arg("density"), py::arg("dtype"), "R of the sparse kind as CSR arrays (data, indices, indptr).");
    m.def("jl_srht_sample", &srht_sample, py::arg("seed"), py::arg("k"), py::arg("n"),
          "The SRHT's k sampled rows of the n x n Hadamard matrix.");
    m.def("philox4x32_10", &philox, py::arg("counters"), py::arg("k0"), py::arg("k1"),
          "Philox4x32-10 blocks of uint32 counters (n, 4) under key (k0, k1).");
}

}  // namespace logsketch::bindings
