// Rows of a strided X copied into a row-major block, for the kernels that
// read rows contiguously.  Internal linkage (see philox.hpp).
#pragma once

#include <algorithm>
#include <cstdint>

namespace logsketch::jl {
namespace {

// out[i * ld + p] = x[(i0 + i) * rs + (j0 + p) * cs] for i < rows, p < cols,
// and 0 for rows <= i < pad_rows.  Column-major X (|rs| < |cs|) is read down
// its columns: contiguous reads instead of one cache line per element
// (docs/tuning.md, "Reading column-major X").
template <class T>
void copy_rows(const T* x, std::int64_t rs, std::int64_t cs, std::int64_t i0, std::int64_t rows, std::int64_t j0,
               std::int64_t cols, std::int64_t pad_rows, std::int64_t ld, T* out) {
    const T* base = x + i0 * rs + j0 * cs;
    if (std::abs(rs) < std::abs(cs)) {
        for (std::int64_t p = 0; p < cols; ++p)
            for (std::int64_t i = 0; i < rows; ++i) out[i * ld + p] = base[i * rs + p * cs];
    } else {
        for (std::int64_t i = 0; i < rows; ++i)
            for (std::int64_t p = 0; p < cols; ++p) out[i * ld + p] = base[i * rs + p * cs];
    }
    for (std::int64_t i = rows; i < pad_rows; ++i) std::fill(out + i * ld, out + i * ld + cols, T(0));
}

}  // namespace
}  // namespace logsketch::jl
