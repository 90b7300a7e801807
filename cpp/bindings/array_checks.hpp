// Shared argument checks of the binding files: each error names the argument.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace logsketch::bindings {

namespace py = pybind11;

// Strides of `arr` in elements; ValueError if a stride is not a whole number
// of elements (the Python layer copies such arrays first).
inline std::vector<std::int64_t> element_strides(const py::array& arr, const char* name) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(arr.ndim()));
    const auto itemsize = static_cast<std::int64_t>(arr.itemsize());
    for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
        const auto s = static_cast<std::int64_t>(arr.strides(d));
        if (s % itemsize != 0) {
            throw py::value_error(std::string(name) + " has a stride that is not a multiple of its item size");
        }
        out[static_cast<std::size_t>(d)] = s / itemsize;
    }
    return out;
}

inline std::vector<std::int64_t> shape_of(const py::array& arr) {
    return std::vector<std::int64_t>(arr.shape(), arr.shape() + arr.ndim());
}

inline void require_writeable(const py::array& arr, const char* name) {
    if (!arr.writeable()) throw py::value_error(std::string(name) + " must be writeable");
}

}  // namespace logsketch::bindings
