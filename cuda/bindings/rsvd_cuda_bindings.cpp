// Bindings of the randomized SVD on CUDA.  The Python layer
// (logsketch/_rsvd_gpu.py) validates, picks A's layout (copying only when it
// is neither row- nor column-major), allocates U, S, Vt and the SRHT's sampled
// rows in the caller's framework and picks the stream; this function takes
// raw device pointers and sizes (in elements), checks that the pointers live
// on the device, switches to it, releases the GIL and runs cuda/rsvd/rsvd.cu,
// which checks the sizes it relies on (int-sized m, n, lda; k <= l <= min(m,
// n); srht's rows) and synchronises the stream before returning.  The
// sketch's density is resolved and checked by the Python layer, asserted by
// the JL kernels.
#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "../runtime/device_guard.cuh"
#include "../rsvd/rsvd_cuda.hpp"
#include "../../cpp/bindings/dtype_names.hpp"
#include "device_checks.hpp"
#include "register.hpp"

namespace logsketch::bindings {

namespace py = pybind11;
namespace rg = rsvd::gpu;

namespace {

rg::Normalizer parse_normalizer(const std::string& name) {
    if (name == "none") return rg::Normalizer::none;
    if (name == "lu") return rg::Normalizer::lu;
    if (name == "qr") return rg::Normalizer::qr;
    if (name == "cholqr") return rg::Normalizer::cholqr;
    throw py::value_error("normalizer must be 'none', 'lu', 'qr' or 'cholqr'; got '" + name + "'");
}

jl::gpu::Kind parse_sketch(const std::string& name) {
    if (name == "gaussian") return jl::gpu::Kind::gaussian;
    if (name == "sparse") return jl::gpu::Kind::sparse;
    if (name == "srht") return jl::gpu::Kind::srht;
    throw py::value_error("sketch must be 'gaussian', 'sparse' or 'srht'; got '" + name + "'");
}

void randomized_svd(std::uintptr_t a, std::int64_t m, std::int64_t n, std::int64_t lda, bool a_row_major,
                    const std::string& dtype, std::int64_t k, std::int64_t l, std::int64_t n_iter,
                    const std::string& normalizer, bool transpose, bool flip_sign, const std::string& sketch,
                    std::uint64_t seed, double density, std::uintptr_t srht_rows, std::uintptr_t u,
                    std::uintptr_t s, std::uintptr_t vt, std::uintptr_t stream, int device) {
    rg::Params p{};
    p.dtype = dtype_named(dtype, {Dtype::float32, Dtype::float64});
    p.normalizer = parse_normalizer(normalizer);
    p.sketch = parse_sketch(sketch);
    p.m = m;
    p.n = n;
    p.a = reinterpret_cast<const void*>(a);
    p.lda = lda;
    p.a_row_major = a_row_major;
    p.k = k;
    p.l = l;
    p.n_iter = n_iter;
    p.transpose = transpose;
    p.flip_sign = flip_sign;
    p.seed = seed;
    p.density = density;
    p.srht_rows = reinterpret_cast<const std::int64_t*>(srht_rows);
    p.u = reinterpret_cast<void*>(u);
    p.s = reinterpret_cast<void*>(s);
    p.vt = reinterpret_cast<void*>(vt);

    py::gil_scoped_release release;
    check_device(device);
    gpu::DeviceGuard guard(device);
    check_pointer("A", a, device);
    check_pointer("U", u, device);
    check_pointer("S", s, device);
    check_pointer("Vt", vt, device);
    if (p.sketch == jl::gpu::Kind::srht) check_pointer("srht_rows", srht_rows, device);
    launch_checked([&] { rg::randomized_svd(p, reinterpret_cast<cudaStream_t>(stream)); });
}

}  // namespace

void register_rsvd_cuda(py::module_& m) {
    m.def("rsvd", &randomized_svd, py::arg("a"), py::arg("m"), py::arg("n"), py::arg("lda"), py::arg("a_row_major"),
          py::arg("dtype"), py::arg("k"), py::arg("l"), py::arg("n_iter"), py::arg("normalizer"),
          py::arg("transpose"), py::arg("flip_sign"), py::arg("sketch"), py::arg("seed"), py::arg("density"),
          py::arg("srht_rows"), py::arg("u"), py::arg("s"), py::arg("vt"), py::arg("stream"), py::arg("device"),
          "Randomized SVD of the m x n device matrix A (element (i, j) at a[i*lda + j] if a_row_major, else "
          "a[i + j*lda]) into C-contiguous U (m x k), S (k,) and Vt (k x n) of A's dtype, on `stream`; "
          "synchronises that stream before returning.");
}

}  // namespace logsketch::bindings
