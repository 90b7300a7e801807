// The one string-to-Dtype conversion of the binding files (CPU and CUDA): the
// Python side names a dtype ("float32", ...), a binding says which it takes.
#pragma once

#include <pybind11/pybind11.h>

#include <initializer_list>
#include <string>

#include "../core/dtype.hpp"

namespace logsketch::bindings {

inline const char* dtype_name(Dtype d) {
    switch (d) {
        case Dtype::float16: return "float16";
        case Dtype::bfloat16: return "bfloat16";
        case Dtype::float32: return "float32";
        case Dtype::float64: return "float64";
    }
    return "?";
}

// "float16, float32 or float64": the accepted dtypes, for messages.
inline std::string dtype_list(std::initializer_list<Dtype> allowed) {
    std::string s;
    std::size_t i = 0;
    for (Dtype d : allowed) {
        s += i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ";
        s += dtype_name(d);
        ++i;
    }
    return s;
}

// TypeError naming the accepted dtypes unless `name` is one of `allowed`.
inline Dtype dtype_named(const std::string& name, std::initializer_list<Dtype> allowed) {
    for (Dtype d : allowed)
        if (name == dtype_name(d)) return d;
    throw pybind11::type_error("dtype must be " + dtype_list(allowed) + "; got '" + name + "'");
}

}  // namespace logsketch::bindings
