// Bindings of the randomized SVD.  The Python layer (logsketch/rsvd.py)
// resolves defaults, converts inputs and allocates outputs; these functions
// re-check what the kernels rely on, convert to the plain structs and release
// the GIL for the whole factorization.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "../rsvd/operators.hpp"
#include "../rsvd/rsvd.hpp"
#include "array_checks.hpp"
#include "interrupt.hpp"
#include "csr_checks.hpp"
#include "register.hpp"

namespace logsketch::bindings {

namespace py = pybind11;

namespace {

Dtype float_dtype(const py::array& arr, const char* name) {
    return array_dtype(arr, name, {Dtype::float32, Dtype::float64});
}

rsvd::Normalizer normalizer_named(const std::string& name) {
    if (name == "none") return rsvd::Normalizer::none;
    if (name == "lu") return rsvd::Normalizer::lu;
    if (name == "qr") return rsvd::Normalizer::qr;
    if (name == "cholqr") return rsvd::Normalizer::cholqr;
    throw py::value_error("normalizer must be 'none', 'lu', 'qr' or 'cholqr'; got '" + name + "'");
}

jl::Kind sketch_named(const std::string& name) {
    if (name == "gaussian") return jl::Kind::gaussian;
    if (name == "sparse") return jl::Kind::sparse;
    if (name == "srht") return jl::Kind::srht;
    throw py::value_error("sketch must be 'gaussian', 'sparse' or 'srht'; got '" + name + "'");
}

void require_out(const py::array& arr, Dtype dt, std::int64_t rows, std::int64_t cols, const char* name) {
    require_writeable(arr, name);
    if (float_dtype(arr, name) != dt) throw py::type_error(std::string(name) + " must have A's dtype");
    const bool vector = cols < 0;
    if (arr.ndim() != (vector ? 1 : 2) || arr.shape(0) != rows || (!vector && arr.shape(1) != cols) ||
        !(arr.flags() & py::array::c_style)) {
        throw py::value_error(std::string(name) + " has the wrong shape or is not C-contiguous");
    }
}

struct Outputs {
    void *u, *s, *vt;
};

rsvd::Options options(std::int64_t k, std::int64_t l, int n_iter,
                      const std::string& normalizer, bool transpose, bool flip_sign, const std::string& sketch,
                      std::uint64_t seed, double density) {
    return {k, l, n_iter, normalizer_named(normalizer), transpose, flip_sign, sketch_named(sketch), seed, density};
}

Outputs outputs(py::array& u, py::array& s, py::array& vt, Dtype dt, std::int64_t m, std::int64_t n, std::int64_t k) {
    require_out(u, dt, m, k, "U");
    require_out(s, dt, k, -1, "S");
    require_out(vt, dt, k, n, "Vt");
    return {u.mutable_data(), s.mutable_data(), vt.mutable_data()};
}

const void* mean_of(const py::object& mean, Dtype dt, std::int64_t n) {
    if (mean.is_none()) return nullptr;
    const auto arr = mean.cast<py::array>();
    if (float_dtype(arr, "mean") != dt || arr.ndim() != 1 || arr.shape(0) != n || !(arr.flags() & py::array::c_style))
        throw py::value_error("mean must be a contiguous 1-D array of A's dtype with n_features entries");
    return arr.data();
}

void dense(const py::array& a, const py::object& mean, py::array& u, py::array& s, py::array& vt, std::int64_t k,
           std::int64_t l, int n_iter, const std::string& normalizer, bool transpose, bool flip_sign,
           const std::string& sketch, std::uint64_t seed, double density) {
    const Dtype dt = float_dtype(a, "A");
    if (a.ndim() != 2) throw py::value_error("A must be 2-D");
    const std::int64_t m = a.shape(0), n = a.shape(1);
    const bool c_order = a.flags() & py::array::c_style;
    if (!c_order && !(a.flags() & py::array::f_style)) throw py::value_error("A must be C- or F-contiguous");
    const rsvd::Options o = options(k, l, n_iter, normalizer, transpose, flip_sign, sketch, seed, density);
    const Outputs out = outputs(u, s, vt, dt, m, n, k);
    const rsvd::Matrix mat{dt, m, n, false, a.data(), c_order ? n : 1, c_order ? 1 : m,
                           nullptr, nullptr, nullptr, 0, false, false, mean_of(mean, dt, n)};
    py::gil_scoped_release release;
    InterruptibleCall interruptible;
    rsvd::randomized_svd(mat, o, out.u, out.s, out.vt);
}

// A m x n from CSR arrays; csr_transposed: they are the CSR of A^T (a CSC A).
void csr(const py::array& data, const py::array& indices, const py::array& indptr, std::int64_t m, std::int64_t n,
         bool csr_transposed, const py::object& mean, py::array& u, py::array& s, py::array& vt, std::int64_t k,
         std::int64_t l, int n_iter, const std::string& normalizer, bool transpose, bool flip_sign,
         const std::string& sketch, std::uint64_t seed, double density) {
    const Dtype dt = float_dtype(data, "A.data");
    const std::int64_t rows = csr_transposed ? n : m, cols = csr_transposed ? m : n;
    const CsrView v = csr_view(data, indices, indptr, rows, "A");
    const rsvd::Options o = options(k, l, n_iter, normalizer, transpose, flip_sign, sketch, seed, density);
    const Outputs out = outputs(u, s, vt, dt, m, n, k);
    const rsvd::Matrix mat{dt, m, n, true, nullptr, 0, 0, v.data, v.indices, v.indptr, v.nnz, v.index64,
                           csr_transposed, mean_of(mean, dt, n)};
    std::string error;
    {
        py::gil_scoped_release release;
        InterruptibleCall interruptible;
        error = csr_invariants(v, rows, cols, "A");
        if (error.empty()) rsvd::randomized_svd(mat, o, out.u, out.s, out.vt);
    }
    if (!error.empty()) throw py::value_error(error);
}

// out = A x (A^T x when adjoint) for a CSR A (m x n): the factorization's own
// sparse product, for the dask path's per-block tasks.
void csr_product(const py::array& data, const py::array& indices, const py::array& indptr, std::int64_t m,
                 std::int64_t n, const py::array& x, py::array& out, bool adjoint) {
    const Dtype dt = float_dtype(data, "A.data");
    const CsrView v = csr_view(data, indices, indptr, m, "A");
    const std::int64_t in_rows = adjoint ? m : n, out_rows = adjoint ? n : m;
    if (float_dtype(x, "x") != dt || x.ndim() != 2 || x.shape(0) != in_rows || !(x.flags() & py::array::c_style))
        throw py::value_error("x must be a C-contiguous 2-D array of A's dtype with " + std::to_string(in_rows) +
                              " rows");
    const std::int64_t l = x.shape(1);
    require_out(out, dt, out_rows, l, "out");
    const rsvd::Matrix mat{dt, m, n, true, nullptr, 0, 0, v.data, v.indices, v.indptr, v.nnz, v.index64,
                           false, nullptr};
    std::string error;
    {
        py::gil_scoped_release release;
        InterruptibleCall interruptible;
        error = csr_invariants(v, m, n, "A");
        if (error.empty()) {
            if (dt == Dtype::float32)
                rsvd::csr_product(mat, adjoint, static_cast<const float*>(x.data()),
                                  static_cast<float*>(out.mutable_data()), l);
            else
                rsvd::csr_product(mat, adjoint, static_cast<const double*>(x.data()),
                                  static_cast<double*>(out.mutable_data()), l);
        }
    }
    if (!error.empty()) throw py::value_error(error);
}

}  // namespace

void register_rsvd(py::module_& m) {
    // Private, for tests: the CSR products' column-block size in bytes.
    m.def("_rsvd_set_csr_gather_block_bytes", [](std::int64_t bytes) {
        if (bytes < 1) throw py::value_error("bytes must be >= 1; got " + std::to_string(bytes));
        return rsvd::set_csr_gather_block_bytes(bytes);
    }, py::arg("bytes"));
    m.def("rsvd_dense", &dense, py::arg("a"), py::arg("mean"), py::arg("u"), py::arg("s"), py::arg("vt"),
          py::arg("k"), py::arg("l"), py::arg("n_iter"), py::arg("normalizer"), py::arg("transpose"),
          py::arg("flip_sign"), py::arg("sketch"), py::arg("seed"), py::arg("density"),
          "Randomized SVD of a dense C- or F-contiguous A into U, S, Vt.");
    m.def("rsvd_csr", &csr, py::arg("data"), py::arg("indices"), py::arg("indptr"), py::arg("m"), py::arg("n"),
          py::arg("csr_transposed"), py::arg("mean"), py::arg("u"), py::arg("s"), py::arg("vt"), py::arg("k"),
          py::arg("l"), py::arg("n_iter"), py::arg("normalizer"), py::arg("transpose"), py::arg("flip_sign"),
          py::arg("sketch"), py::arg("seed"), py::arg("density"),
          "Randomized SVD of a CSR A (or of a CSC A given as the CSR of A^T) into U, S, Vt.");
    m.def("rsvd_csr_product", &csr_product, py::arg("data"), py::arg("indices"), py::arg("indptr"), py::arg("m"),
          py::arg("n"), py::arg("x"), py::arg("out"), py::arg("adjoint"),
          "out = A x (A^T x when adjoint) for a CSR A (m x n), with the randomized SVD's sparse kernels.");
}

}  // namespace logsketch::bindings
