// One registration function per family of the CUDA module; module.cpp calls them.
#pragma once

#include <pybind11/pybind11.h>

namespace logsketch::bindings {

void register_cuda_runtime(pybind11::module_& m);
void register_mitchell_cuda(pybind11::module_& m);
void register_jl_cuda(pybind11::module_& m);
void register_attention_cuda(pybind11::module_& m);
void register_rsvd_cuda(pybind11::module_& m);

}  // namespace logsketch::bindings
