// Configuration shared by every family: SIMD level, threads, build facts.
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "../runtime/blas.hpp"
#include "../runtime/cpu_features.hpp"
#include "../runtime/threads.hpp"
#include "interrupt.hpp"
#include "register.hpp"

namespace logsketch::bindings {

namespace py = pybind11;

namespace {

std::string compiler() {
#if defined(__clang__)
    return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    return std::string("gcc ") + __VERSION__;
#else
    return "unknown";
#endif
}

}  // namespace

void register_common(py::module_& m) {
    m.def("detected_simd_level", [] { return std::string(simd_level_name(detected_simd_level())); },
          "The best SIMD level this CPU supports: 'scalar', 'avx2' or 'avx512'.");
    m.def("simd_level", [] { return std::string(simd_level_name(active_simd_level())); },
          "The SIMD level the kernels run at now.");
    m.def("set_simd_level", [](const std::string& name) {
        try {
            set_simd_level(parse_simd_level(name));
        } catch (const std::invalid_argument& e) {
            throw py::value_error(std::string("level: ") + e.what());
        }
    }, py::arg("level"));
    m.def("get_num_threads", &get_num_threads, "The number of threads the CPU kernels use.");
    m.def("set_num_threads", [](int n) {
        if (n < 1 || n > kMaxThreads) {
            throw py::value_error("n must be an integer in [1, " + std::to_string(kMaxThreads) + "]; got " +
                                  std::to_string(n));
        }
        try {
            set_num_threads(n);
        } catch (const ThreadStartError& e) {
            throw std::runtime_error(std::string("set_num_threads(") + std::to_string(n) + "): " + e.what());
        }
    }, py::arg("n"),
          "Use n threads (1..max_threads).  RuntimeError when the system refuses to start some: the count is\n"
          "still set and calls run on the threads that did start.");
    m.attr("max_threads") = kMaxThreads;
    register_interrupt(m);
    m.def("blas", &blas::describe, "The linked BLAS/LAPACK as it reports itself.");
    m.attr("compiler") = compiler();
}

}  // namespace logsketch::bindings
