// The CUDA extension module logsketch._cuda: one register call per family.
//
// Importing it needs no GPU and no driver (the runtime is linked statically,
// and nothing touches CUDA until a function is called); status() says what
// is there.  The cuBLAS/cuSOLVER side is logsketch._cuda_linalg
// (linalg_module.cpp).
#include <pybind11/pybind11.h>

#include "register.hpp"

PYBIND11_MODULE(_cuda, m) {
    m.doc() = "logsketch CUDA kernels (private; use the logsketch package)";
    logsketch::bindings::register_cuda_runtime(m);
    logsketch::bindings::register_mitchell_cuda(m);
    logsketch::bindings::register_jl_cuda(m);
    logsketch::bindings::register_attention_cuda(m);
}
