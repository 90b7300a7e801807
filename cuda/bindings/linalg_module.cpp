// The CUDA extension module logsketch._cuda_linalg: the families that need
// cuBLAS and cuSOLVER (shared libraries), apart from logsketch._cuda so that
// a machine without them still has every other GPU kernel.  Importing it
// needs no GPU and no driver.
#include <pybind11/pybind11.h>

#include "register.hpp"

PYBIND11_MODULE(_cuda_linalg, m) {
    m.doc() = "logsketch CUDA linear algebra on cuBLAS/cuSOLVER (private; use the logsketch package)";
    logsketch::bindings::register_rsvd_cuda(m);
}
