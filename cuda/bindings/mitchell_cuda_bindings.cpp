// Bindings of the Mitchell CUDA kernels.  The Python layer
// (logsketch/_mitchell_gpu.py) broadcasts, promotes, allocates and picks the
// stream; these functions take raw device pointers, shapes and strides (in
// elements), re-check what the kernels rely on, switch to the arrays' device,
// release the GIL and enqueue the kernel on the given stream.
#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../runtime/cuda_check.cuh"
#include "../runtime/device_guard.cuh"
#include "../mitchell/mitchell_cuda.hpp"
#include "../../cpp/bindings/dtype_names.hpp"
#include "device_checks.hpp"
#include "register.hpp"

namespace logsketch::bindings {

namespace py = pybind11;
using Dims = std::vector<std::int64_t>;

namespace {

std::string dims_str(const Dims& d) {
    std::string s = "(";
    for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + (d.size() == 1 ? ",)" : ")");
}

std::int64_t numel(const Dims& shape) {
    std::int64_t n = 1;
    for (std::int64_t s : shape) n *= s;
    return n;
}

// Shape entries non-negative, one stride per dimension, a pointer when there is data.
void check_operand(const char* name, std::uintptr_t ptr, const Dims& shape, const Dims& strides) {
    for (std::int64_t s : shape) {
        if (s < 0) throw py::value_error(std::string(name) + " has a negative dimension: shape " + dims_str(shape));
    }
    if (strides.size() != shape.size()) {
        throw py::value_error(std::string(name) + " has " + std::to_string(strides.size()) + " strides for " +
                              std::to_string(shape.size()) + " dimensions");
    }
    if (ptr == 0 && numel(shape) != 0) throw py::value_error(std::string(name) + " is a null pointer");
}

cudaStream_t as_stream(std::uintptr_t stream) { return reinterpret_cast<cudaStream_t>(stream); }

void binary(std::uintptr_t a_ptr, const Dims& a_shape, const Dims& a_strides, std::uintptr_t b_ptr,
            const Dims& b_shape, const Dims& b_strides, std::uintptr_t out_ptr, const Dims& out_shape,
            const Dims& out_strides, const std::string& dtype, const std::string& op, bool compensated,
            std::uintptr_t stream, int device) {
    const Dtype dt = dtype_named(dtype, {Dtype::float16, Dtype::bfloat16, Dtype::float32});
    if (op != "multiply" && op != "divide") {
        throw py::value_error("op must be 'multiply' or 'divide'; got '" + op + "'");
    }
    check_operand("a", a_ptr, a_shape, a_strides);
    check_operand("b", b_ptr, b_shape, b_strides);
    check_operand("out", out_ptr, out_shape, out_strides);
    if (a_shape != out_shape || b_shape != out_shape) {
        throw py::value_error("a and b must be broadcast to out's shape " + dims_str(out_shape) +
                              " before the kernel call; got " + dims_str(a_shape) + " and " + dims_str(b_shape));
    }
    if (numel(out_shape) == 0) return;
    mitchell::gpu::BinaryParams p{dt,
                                  op == "divide" ? mitchell::gpu::BinaryOp::divide : mitchell::gpu::BinaryOp::multiply,
                                  compensated,
                                  static_cast<std::int64_t>(out_shape.size()),
                                  out_shape.data(),
                                  reinterpret_cast<const void*>(a_ptr),
                                  a_strides.data(),
                                  reinterpret_cast<const void*>(b_ptr),
                                  b_strides.data(),
                                  reinterpret_cast<void*>(out_ptr),
                                  out_strides.data()};
    py::gil_scoped_release release;
    check_device(device);
    gpu::DeviceGuard guard(device);
    check_pointer("a", a_ptr, device, /*allow_null=*/true);
    check_pointer("b", b_ptr, device, /*allow_null=*/true);
    check_pointer("out", out_ptr, device, /*allow_null=*/true);
    mitchell::gpu::binary(p, as_stream(stream));
}

void matmul(std::uintptr_t a_ptr, const Dims& a_shape, const Dims& a_strides, std::uintptr_t b_ptr,
            const Dims& b_shape, const Dims& b_strides, std::uintptr_t out_ptr, const Dims& out_shape,
            const Dims& out_strides, const std::string& dtype, bool compensated, std::uintptr_t stream, int device) {
    const Dtype dt = dtype_named(dtype, {Dtype::float16, Dtype::bfloat16, Dtype::float32});
    check_operand("a", a_ptr, a_shape, a_strides);
    check_operand("b", b_ptr, b_shape, b_strides);
    check_operand("out", out_ptr, out_shape, out_strides);
    const std::size_t nd = out_shape.size();
    if (nd < 2 || a_shape.size() != nd || b_shape.size() != nd) {
        throw py::value_error("a, b and out must be broadcast to (batch..., m, k), (batch..., k, n) and "
                              "(batch..., m, n) with one ndim >= 2; got " +
                              dims_str(a_shape) + ", " + dims_str(b_shape) + " and " + dims_str(out_shape));
    }
    for (std::size_t d = 0; d + 2 < nd; ++d) {
        if (a_shape[d] != out_shape[d] || b_shape[d] != out_shape[d]) {
            throw py::value_error("batch dimensions of a " + dims_str(a_shape) + ", b " + dims_str(b_shape) +
                                  " and out " + dims_str(out_shape) + " differ");
        }
    }
    const std::int64_t m = out_shape[nd - 2], n = out_shape[nd - 1], k = a_shape[nd - 1];
    if (a_shape[nd - 2] != m || b_shape[nd - 2] != k || b_shape[nd - 1] != n) {
        throw py::value_error("shapes of a " + dims_str(a_shape) + ", b " + dims_str(b_shape) + " and out " +
                              dims_str(out_shape) + " do not chain as (m, k) @ (k, n) -> (m, n)");
    }
    if (numel(out_shape) == 0) return;
    const std::int64_t bnd = static_cast<std::int64_t>(nd - 2);
    mitchell::gpu::MatmulParams p{dt,
                                  compensated,
                                  m,
                                  n,
                                  k,
                                  bnd,
                                  out_shape.data(),
                                  reinterpret_cast<const void*>(a_ptr),
                                  a_strides.data(),
                                  a_strides[nd - 2],
                                  a_strides[nd - 1],
                                  reinterpret_cast<const void*>(b_ptr),
                                  b_strides.data(),
                                  b_strides[nd - 2],
                                  b_strides[nd - 1],
                                  reinterpret_cast<void*>(out_ptr),
                                  out_strides.data(),
                                  out_strides[nd - 2],
                                  out_strides[nd - 1]};
    py::gil_scoped_release release;
    check_device(device);
    gpu::DeviceGuard guard(device);
    if (k > 0) {
        check_pointer("a", a_ptr, device, /*allow_null=*/true);
        check_pointer("b", b_ptr, device, /*allow_null=*/true);
    }
    check_pointer("out", out_ptr, device, /*allow_null=*/true);
    mitchell::gpu::matmul(p, as_stream(stream));
}

}  // namespace

void register_mitchell_cuda(py::module_& m) {
    m.def("mitchell_binary", &binary, py::arg("a_ptr"), py::arg("a_shape"), py::arg("a_strides"), py::arg("b_ptr"),
          py::arg("b_shape"), py::arg("b_strides"), py::arg("out_ptr"), py::arg("out_shape"), py::arg("out_strides"),
          py::arg("dtype"), py::arg("op"), py::arg("compensated"), py::arg("stream"), py::arg("device"),
          "out = a (op) b elementwise on `device`, enqueued on `stream` (a cudaStream_t as int).  Pointers are "
          "device addresses; shapes already broadcast to out's; strides in elements (0 broadcasts).");
    m.def("mitchell_matmul", &matmul, py::arg("a_ptr"), py::arg("a_shape"), py::arg("a_strides"), py::arg("b_ptr"),
          py::arg("b_shape"), py::arg("b_strides"), py::arg("out_ptr"), py::arg("out_shape"), py::arg("out_strides"),
          py::arg("dtype"), py::arg("compensated"), py::arg("stream"), py::arg("device"),
          "out[...] = a[...] @ b[...] with Mitchell products on `device`, enqueued on `stream`; shapes "
          "(batch..., m, k), (batch..., k, n), (batch..., m, n), batch dimensions already broadcast.");
}

}  // namespace logsketch::bindings
