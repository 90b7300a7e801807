// Bindings of the JL CUDA kernels.  The Python layer (logsketch/_jl_gpu.py)
// validates as the CPU path does, makes X's rows contiguous, allocates the
// output and the SRHT's sampled rows in the caller's framework and picks the
// stream; these functions take raw device pointers and sizes (in elements),
// check what protects memory (sizes, strides, pointers on the device), switch
// to the arrays' device, release the GIL and enqueue on the given stream.
#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "../runtime/device_guard.cuh"
#include "../jl/jl_cuda.hpp"
#include "device_checks.hpp"
#include "../../cpp/bindings/dtype_names.hpp"
#include "register.hpp"

namespace logsketch::bindings {

namespace py = pybind11;
namespace jg = jl::gpu;

namespace {

jg::Kind parse_kind(const std::string& name) {
    if (name == "gaussian") return jg::Kind::gaussian;
    if (name == "sparse") return jg::Kind::sparse;
    if (name == "srht") return jg::Kind::srht;
    throw py::value_error("kind must be 'gaussian', 'sparse' or 'srht'; got '" + name + "'");
}

// R as the kernels take it.  Its values (k, d, the density, srht's rows) are
// checked by the Python layer and asserted by jl::gpu (jl/jl_check.hpp); the
// srht rows' pointer is checked for its device below.
jg::Matrix matrix(const std::string& kind, std::int64_t k, std::int64_t d, std::uint64_t seed, double density,
                  std::uintptr_t srht_rows) {
    const jg::Kind kd = parse_kind(kind);
    return {kd, k, d, seed, density, reinterpret_cast<const std::int64_t*>(srht_rows)};
}

void components(std::uintptr_t out, const std::string& kind, std::int64_t k, std::int64_t d, std::uint64_t seed,
                double density, const std::string& dtype, std::uintptr_t srht_rows, std::uintptr_t stream,
                int device) {
    const Dtype dt = dtype_named(dtype, {Dtype::float32, Dtype::float64});
    const jg::Matrix r = matrix(kind, k, d, seed, density, srht_rows);
    py::gil_scoped_release release;
    check_device(device);
    gpu::DeviceGuard guard(device);
    check_pointer("out", out, device);
    if (r.kind == jg::Kind::srht) check_pointer("srht_rows", srht_rows, device);
    launch_checked([&] {
        jg::components(r, dt, reinterpret_cast<void*>(out), reinterpret_cast<cudaStream_t>(stream));
    });
}

void project(std::uintptr_t x, std::int64_t n, std::int64_t d, std::int64_t rs, std::uintptr_t y,
             const std::string& kind, std::int64_t k, std::uint64_t seed, double density, const std::string& dtype,
             std::uintptr_t srht_rows, std::uintptr_t stream, int device) {
    const Dtype dt = dtype_named(dtype, {Dtype::float32, Dtype::float64});
    const jg::Matrix r = matrix(kind, k, d, seed, density, srht_rows);
    if (n < 0) throw py::value_error("n must be >= 0; got " + std::to_string(n));
    if (n > 1 && rs < d) {
        throw py::value_error("rs (X's row stride) must be >= d for non-overlapping rows; got rs=" +
                              std::to_string(rs) + ", d=" + std::to_string(d));
    }
    if (n == 0) return;
    py::gil_scoped_release release;
    check_device(device);
    gpu::DeviceGuard guard(device);
    check_pointer("x", x, device);
    check_pointer("y", y, device);
    if (r.kind == jg::Kind::srht) check_pointer("srht_rows", srht_rows, device);
    const jg::ProjectParams p{dt, n, reinterpret_cast<const void*>(x), rs, reinterpret_cast<void*>(y)};
    launch_checked([&] { jg::project(r, p, reinterpret_cast<cudaStream_t>(stream)); });
}

}  // namespace

void register_jl_cuda(py::module_& m) {
    m.def("jl_components", &components, py::arg("out"), py::arg("kind"), py::arg("k"), py::arg("d"),
          py::arg("seed"), py::arg("density"), py::arg("dtype"), py::arg("srht_rows"), py::arg("stream"),
          py::arg("device"),
          "R (k x d, C-contiguous, dense for every kind) into the device buffer `out`, enqueued on `stream`; "
          "srht_rows: device pointer to the k sampled rows (int64), kind 'srht' only (0 otherwise).");
    m.def("jl_project", &project, py::arg("x"), py::arg("n"), py::arg("d"), py::arg("rs"), py::arg("y"),
          py::arg("kind"), py::arg("k"), py::arg("seed"), py::arg("density"), py::arg("dtype"), py::arg("srht_rows"),
          py::arg("stream"), py::arg("device"),
          "y (n x k, C-contiguous) = X R^T for X n x d with row stride rs (elements) and contiguous rows, "
          "enqueued on `stream`.");
}

}  // namespace logsketch::bindings
