// Bindings of the Mitchell kernels.  The Python layer (logsketch/mitchell.py)
// broadcasts, promotes and allocates; these functions re-check what the
// kernels rely on, convert to the plain structs and release the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../mitchell/mitchell.hpp"
#include "array_checks.hpp"
#include "interrupt.hpp"
#include "register.hpp"

namespace logsketch::bindings {

namespace py = pybind11;

namespace {

Dtype dtype_of(const py::array& arr, const char* name) {
    return array_dtype(arr, name, {Dtype::float16, Dtype::float32, Dtype::float64});
}

void binary(const py::array& a, const py::array& b, py::array& out, const std::string& op, bool compensated) {
    const Dtype dt = dtype_of(out, "out");
    if (dtype_of(a, "a") != dt || dtype_of(b, "b") != dt) throw py::type_error("a, b and out must share one dtype");
    require_writeable(out, "out");
    const auto shape = shape_of(out);
    if (shape_of(a) != shape || shape_of(b) != shape) {
        throw py::value_error("a and b must be broadcast to out's shape before the kernel call");
    }
    if (op != "multiply" && op != "divide") throw py::value_error("op must be 'multiply' or 'divide'");
    const auto sa = element_strides(a, "a"), sb = element_strides(b, "b"), so = element_strides(out, "out");
    mitchell::BinaryParams p{dt,
                             op == "divide" ? mitchell::BinaryOp::divide : mitchell::BinaryOp::multiply,
                             compensated,
                             static_cast<std::int64_t>(shape.size()),
                             shape.data(),
                             a.data(),
                             sa.data(),
                             b.data(),
                             sb.data(),
                             out.mutable_data(),
                             so.data()};
    py::gil_scoped_release release;
    InterruptibleCall interruptible;
    mitchell::binary(p);
}

// Element offsets of every matrix of a (batch..., rows, cols) array, in C order
// over the batch dimensions.
std::vector<std::int64_t> batch_offsets(const std::vector<std::int64_t>& shape,
                                        const std::vector<std::int64_t>& strides) {
    const std::size_t nb = shape.size() - 2;
    std::int64_t count = 1;
    for (std::size_t d = 0; d < nb; ++d) count *= shape[d];
    std::vector<std::int64_t> offsets(static_cast<std::size_t>(count), 0);
    for (std::int64_t t = 0; t < count; ++t) {
        std::int64_t rest = t, off = 0;
        for (std::size_t d = nb; d-- > 0;) {
            off += (rest % shape[d]) * strides[d];
            rest /= shape[d];
        }
        offsets[static_cast<std::size_t>(t)] = off;
    }
    return offsets;
}

void matmul(const py::array& a, const py::array& b, py::array& out, bool compensated) {
    const Dtype dt = dtype_of(out, "out");
    if (dtype_of(a, "a") != dt || dtype_of(b, "b") != dt) throw py::type_error("a, b and out must share one dtype");
    require_writeable(out, "out");
    const auto sha = shape_of(a), shb = shape_of(b), shc = shape_of(out);
    const std::size_t nd = shc.size();
    if (nd < 2 || sha.size() != nd || shb.size() != nd) {
        throw py::value_error("a, b and out must be broadcast to (batch..., m, k), (batch..., k, n), (batch..., m, n)");
    }
    for (std::size_t d = 0; d + 2 < nd; ++d) {
        if (sha[d] != shc[d] || shb[d] != shc[d]) throw py::value_error("a, b and out batch shapes differ");
    }
    const std::int64_t m = shc[nd - 2], n = shc[nd - 1], k = sha[nd - 1];
    if (sha[nd - 2] != m || shb[nd - 2] != k || shb[nd - 1] != n) {
        throw py::value_error("shapes of a, b and out do not chain as (m, k) @ (k, n) -> (m, n)");
    }
    const auto sa = element_strides(a, "a"), sb = element_strides(b, "b"), sc = element_strides(out, "out");
    const auto oa = batch_offsets(sha, sa), ob = batch_offsets(shb, sb), oc = batch_offsets(shc, sc);
    mitchell::MatmulParams p{dt, compensated, static_cast<std::int64_t>(oc.size()), m, n, k,
                             a.data(), oa.data(), sa[nd - 2], sa[nd - 1],
                             b.data(), ob.data(), sb[nd - 2], sb[nd - 1],
                             out.mutable_data(), oc.data(), sc[nd - 2], sc[nd - 1]};
    py::gil_scoped_release release;
    InterruptibleCall interruptible;
    mitchell::matmul(p);
}

}  // namespace

void register_mitchell(py::module_& m) {
    m.def("mitchell_binary", &binary, py::arg("a"), py::arg("b"), py::arg("out"), py::arg("op"),
          py::arg("compensated"),
          "out = a (op) b elementwise; a, b already broadcast to out's shape and of out's dtype.");
    m.def("mitchell_matmul", &matmul, py::arg("a"), py::arg("b"), py::arg("out"), py::arg("compensated"),
          "out[...] = a[...] @ b[...] with Mitchell products; batch dimensions already broadcast.");
}

}  // namespace logsketch::bindings
