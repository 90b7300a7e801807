// The CPU extension module logsketch._core: one register call per family.
#include <pybind11/pybind11.h>

#include "register.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "logsketch CPU kernels (private; use the logsketch package)";
    logsketch::bindings::register_common(m);
    logsketch::bindings::register_mitchell(m);
    logsketch::bindings::register_jl(m);
    logsketch::bindings::register_rsvd(m);
    logsketch::bindings::register_attention(m);
}
