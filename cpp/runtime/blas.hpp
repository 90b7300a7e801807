// The BLAS/LAPACK the core links: the scipy-openblas32 wheel (32-bit integers,
// every symbol prefixed scipy_, so it never clashes with numpy's OpenBLAS).
#pragma once

#include <cblas.h>

#include <string>

namespace logsketch::blas {

// Makes OpenBLAS run every call on the calling thread: logsketch splits the
// work over its own threads (rsvd/parallel_blas.hpp) rather than have two
// thread pools take turns on the same cores.  This library instance is
// logsketch's alone (numpy and SciPy load their own, and logsketch/_blas.py
// keeps this one out of the global symbol scope), so the setting touches
// nothing else.  Cheap after the first call.
void single_threaded();

// "OpenBLAS 0.3.x ... " as the library reports itself.
std::string describe();

}  // namespace logsketch::blas
