// LOGSKETCH_HD marks header code that runs on the host and, compiled by nvcc,
// in CUDA kernels too: one definition of the arithmetic for both devices.
#pragma once

#if defined(__CUDACC__)
#define LOGSKETCH_HD __host__ __device__
#else
#define LOGSKETCH_HD
#endif
