// One registration function per family; module.cpp calls them in turn.
#pragma once

#include <pybind11/pybind11.h>

namespace logsketch::bindings {

void register_common(pybind11::module_& m);
void register_mitchell(pybind11::module_& m);
void register_jl(pybind11::module_& m);
void register_rsvd(pybind11::module_& m);
void register_attention(pybind11::module_& m);

}  // namespace logsketch::bindings
