// The preconditions of R's definition that the JL entry points assert before
// launching (jl_materialize.cu, jl_project.cu).  The rules a user meets (the
// density's range and "auto", srht's k <= padded d, ...) are the Python
// layer's; this only keeps a bad Matrix from reaching a kernel.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "jl_cuda.hpp"

namespace logsketch::jl::gpu {

inline void check_matrix(const Matrix& r) {
    constexpr std::int64_t max_dim = std::int64_t(1) << 32;  // rows and column blocks index 32-bit counter words
    if (r.k < 1 || r.k >= max_dim || r.d < 1 || r.d >= max_dim) {
        throw std::invalid_argument("k and d must be in [1, 2**32); got k=" + std::to_string(r.k) +
                                    ", d=" + std::to_string(r.d));
    }
    if (r.kind == Kind::sparse && !(r.density > 0 && r.density <= 1)) {
        throw std::invalid_argument("density must be in (0, 1] for kind sparse; got " + std::to_string(r.density));
    }
    if (r.kind == Kind::srht && r.srht_rows == nullptr) {
        throw std::invalid_argument("srht_rows must be given for kind srht");
    }
}

}  // namespace logsketch::jl::gpu
