// What the CUDA module found on this machine: status() never throws.
#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <exception>
#include <string>

#include "register.hpp"

namespace logsketch::bindings {

namespace py = pybind11;

namespace {

// The oldest compute capability the kernels are built for (CMAKE_CUDA_ARCHITECTURES).
constexpr int kMinMajor = 8;

std::string version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

std::string error_string(cudaError_t err) {
    return std::string(cudaGetErrorName(err)) + " (" + cudaGetErrorString(err) + ")";
}

py::dict status() {
    py::dict d;
    d["device_found"] = false;
    d["device_count"] = 0;
    d["device_name"] = py::none();
    d["compute_capability"] = py::none();
    int runtime = 0, driver = 0;
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver);  // 0 when no driver is installed
    const std::string versions = "CUDA runtime " + version_string(runtime) +
                                 (driver ? ", driver supports CUDA " + version_string(driver) : ", no CUDA driver");
    try {
        int count = 0;
        const cudaError_t err = cudaGetDeviceCount(&count);
        if (err != cudaSuccess || count == 0) {
            cudaGetLastError();  // leave no error behind for the next CUDA call
            d["detail"] = "no usable CUDA device: " + (err != cudaSuccess ? error_string(err) : "device count is 0") +
                          "; " + versions;
            return d;
        }
        int device = 0;
        cudaDeviceProp prop{};
        cudaError_t perr = cudaGetDevice(&device);
        if (perr == cudaSuccess) perr = cudaGetDeviceProperties(&prop, device);
        if (perr != cudaSuccess) {
            cudaGetLastError();
            d["device_count"] = count;
            d["detail"] = "CUDA device found but not queryable: " + error_string(perr) + "; " + versions;
            return d;
        }
        d["device_found"] = true;
        d["device_count"] = count;
        d["device_name"] = std::string(prop.name);
        d["compute_capability"] = std::to_string(prop.major) + "." + std::to_string(prop.minor);
        std::string detail =
            "current device " + std::to_string(device) + " of " + std::to_string(count) + "; " + versions;
        if (prop.major < kMinMajor) {
            detail += "; kernels are built for compute capability " + std::to_string(kMinMajor) +
                      ".0 and newer, so this device cannot run them";
        }
        d["detail"] = detail;
    } catch (const std::exception& e) {
        d["detail"] = std::string("CUDA status query failed: ") + e.what();
    }
    return d;
}

}  // namespace

void register_cuda_runtime(py::module_& m) {
    m.def("status", &status,
          "{'device_found', 'device_count', 'device_name', 'compute_capability', 'detail'} for the current "
          "device; never raises.");
}

}  // namespace logsketch::bindings
