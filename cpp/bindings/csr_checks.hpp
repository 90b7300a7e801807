// Checks of CSR arguments (data, indices, indptr) shared by the binding files;
// messages name the matrix (`name`.indptr, ...).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "array_checks.hpp"

namespace logsketch::bindings {

namespace py = pybind11;

struct CsrView {
    const void* data;
    const void* indices;
    const void* indptr;
    std::int64_t nnz;
    bool index64;
};

// The arrays' types and shapes (TypeError / ValueError), for `rows` rows.
inline CsrView csr_view(const py::array& data, const py::array& indices, const py::array& indptr, std::int64_t rows,
                        const std::string& name) {
    require_kernel_layout(data, (name + ".data").c_str());
    require_kernel_layout(indices, (name + ".indices").c_str());
    require_kernel_layout(indptr, (name + ".indptr").c_str());
    const py::dtype it = indices.dtype(), pt = indptr.dtype();
    if (it.kind() != 'i' || pt.kind() != 'i' || (it.itemsize() != 4 && it.itemsize() != 8) ||
        pt.itemsize() != it.itemsize()) {
        throw py::type_error(name + ".indices and " + name + ".indptr must both be int32 or both int64");
    }
    if (data.ndim() != 1 || indices.ndim() != 1 || indptr.ndim() != 1 || !(data.flags() & py::array::c_style) ||
        !(indices.flags() & py::array::c_style) || !(indptr.flags() & py::array::c_style)) {
        throw py::value_error(name + ".data, " + name + ".indices and " + name + ".indptr must be contiguous 1-D arrays");
    }
    if (indptr.shape(0) != rows + 1 || data.shape(0) != indices.shape(0)) {
        throw py::value_error(name + ".indptr must have n_rows + 1 entries and " + name + ".data as many as " + name +
                              ".indices");
    }
    return {data.data(), indices.data(), indptr.data(), static_cast<std::int64_t>(indices.shape(0)), it.itemsize() == 8};
}

template <class I>
const char* csr_problem(const I* indptr, const I* indices, std::int64_t rows, std::int64_t nnz, std::int64_t cols) {
    if (indptr[0] < 0 || indptr[rows] > nnz) return "indptr points outside indices";
    for (std::int64_t i = 0; i < rows; ++i)
        if (indptr[i + 1] < indptr[i]) return "indptr must be non-decreasing";
    for (std::int64_t i = 0; i < rows; ++i) {
        for (I t = indptr[i]; t < indptr[i + 1]; ++t) {
            if (indices[t] < 0 || indices[t] >= cols) return "has a column index outside [0, n_columns)";
            if (t > indptr[i] && indices[t] <= indices[t - 1]) return "must have sorted, unique column indices";
        }
    }
    return nullptr;
}

// The invariants the kernels index by: indptr non-decreasing from >= 0 to
// <= nnz, columns in [0, cols) and strictly increasing within each row.
// Empty if they hold, else the message.  Needs no GIL.
inline std::string csr_invariants(const CsrView& v, std::int64_t rows, std::int64_t cols, const std::string& name) {
    const char* problem =
        v.index64 ? csr_problem(static_cast<const std::int64_t*>(v.indptr), static_cast<const std::int64_t*>(v.indices),
                                rows, v.nnz, cols)
                  : csr_problem(static_cast<const std::int32_t*>(v.indptr), static_cast<const std::int32_t*>(v.indices),
                                rows, v.nnz, cols);
    if (!problem) return {};
    const std::string p(problem);
    return p.rfind("indptr", 0) == 0 ? name + "." + p : name + " " + p;
}

}  // namespace logsketch::bindings
