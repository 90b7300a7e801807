#include "blas.hpp"

#include "threads.hpp"

namespace logsketch::blas {

void match_threads() {
    const int n = get_num_threads();
    if (scipy_openblas_get_num_threads() != n) scipy_openblas_set_num_threads(n);
}

std::string describe() {
    return std::string(scipy_openblas_get_config()) + " (core " + scipy_openblas_get_corename() + ")";
}

}  // namespace logsketch::blas
