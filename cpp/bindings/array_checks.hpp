// Shared argument checks of the binding files: each error names the argument.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dtype_names.hpp"

namespace logsketch::bindings {

namespace py = pybind11;

// The kernels read and write every array through pointers of its item type,
// in native byte order.  The Python layer copies other arrays first; a direct
// call with one gets a ValueError naming the argument, not a misaligned
// access or swapped bytes read as numbers.
inline void require_kernel_layout(const py::array& arr, const char* name) {
    const auto itemsize = static_cast<std::int64_t>(arr.itemsize());
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    constexpr char kSwapped = '<';
#else
    constexpr char kSwapped = '>';
#endif
    if (arr.dtype().byteorder() == kSwapped) {
        throw py::value_error(std::string(name) + " must be in native byte order");
    }
    if (itemsize <= 1) return;
    if (reinterpret_cast<std::uintptr_t>(arr.data()) % static_cast<std::uintptr_t>(itemsize) != 0) {
        throw py::value_error(std::string(name) + " is not aligned to its item size");
    }
    for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
        if (static_cast<std::int64_t>(arr.strides(d)) % itemsize != 0) {
            throw py::value_error(std::string(name) + " has a stride that is not a multiple of its item size");
        }
    }
}

// Strides of `arr` in elements (require_kernel_layout first).
inline std::vector<std::int64_t> element_strides(const py::array& arr, const char* name) {
    require_kernel_layout(arr, name);
    std::vector<std::int64_t> out(static_cast<std::size_t>(arr.ndim()));
    const auto itemsize = static_cast<std::int64_t>(arr.itemsize());
    for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
        out[static_cast<std::size_t>(d)] = static_cast<std::int64_t>(arr.strides(d)) / itemsize;
    }
    return out;
}

inline std::vector<std::int64_t> shape_of(const py::array& arr) {
    return std::vector<std::int64_t>(arr.shape(), arr.shape() + arr.ndim());
}

// The Dtype of a float array if it is one of `allowed` (float16 is numpy's
// half; numpy has no bfloat16); TypeError naming `name` and `allowed` otherwise.
inline Dtype array_dtype(const py::array& arr, const char* name, std::initializer_list<Dtype> allowed) {
    const py::dtype dt = arr.dtype();
    if (dt.kind() == 'f') {
        for (Dtype d : allowed) {
            if (d != Dtype::bfloat16 && itemsize(d) == dt.itemsize()) {
                require_kernel_layout(arr, name);
                return d;
            }
        }
    }
    throw py::type_error(std::string(name) + " must be " + dtype_list(allowed) + "; got " +
                         py::str(dt).cast<std::string>());
}

inline void require_writeable(const py::array& arr, const char* name) {
    require_kernel_layout(arr, name);
    if (!arr.writeable()) throw py::value_error(std::string(name) + " must be writeable");
}

}  // namespace logsketch::bindings
