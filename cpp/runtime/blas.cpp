#include "blas.hpp"


namespace logsketch::blas {

void single_threaded() {
    if (scipy_openblas_get_num_threads() != 1) scipy_openblas_set_num_threads(1);
}

std::string describe() {
    return std::string(scipy_openblas_get_config()) + " (core " + scipy_openblas_get_corename() + ")";
}

}  // namespace logsketch::blas
