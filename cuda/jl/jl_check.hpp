// The preconditions of R's definition that the JL entry points assert before
// launching (jl_materialize.cu, jl_project.cu).  The rules a user meets (the
// density's range and "auto", srht's k <= padded d, ...) are the Python
// layer's; this only keeps a bad Matrix from reaching a kernel.
#pragma once

#include <stdexcept>
#include <string>

#include "jl_cuda.hpp"

namespace logsketch::jl::gpu {

inline void check_matrix(const Matrix& r) {
    if (r.kind == Kind::sparse && !(r.density > 0 && r.density <= 1)) {
        throw std::invalid_argument("density must be in (0, 1] for kind sparse; got " + std::to_string(r.density));
    }
    if (r.kind == Kind::srht && r.srht_rows == nullptr) {
        throw std::invalid_argument("srht_rows must be given for kind srht");
    }
}

}  // namespace logsketch::jl::gpu
