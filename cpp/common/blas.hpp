// The BLAS/LAPACK the core links: the scipy-openblas32 wheel (32-bit integers,
// every symbol prefixed scipy_, so it never clashes with numpy's OpenBLAS).
#pragma once

#include <cblas.h>

#include <string>

namespace logsketch::blas {

// OpenBLAS keeps its own thread pool: make it use get_num_threads() threads.
// Cheap when it already does; call before a sequence of BLAS calls.
void match_threads();

// "OpenBLAS 0.3.x ... " as the library reports itself.
std::string describe();

}  // namespace logsketch::blas
