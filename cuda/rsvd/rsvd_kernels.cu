// The small kernels of the randomized SVD (rsvd_kernels.hpp).  None is on the
// hot path: each touches a p x l block or an l x l matrix once, against the
// GEMMs with A that dominate.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "../runtime/cuda_check.cuh"
#include "rsvd_kernels.hpp"

namespace logsketch::rsvd::gpu {
namespace {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over `work` items: 2^16 blocks is plenty.
unsigned grid_for(std::int64_t work) {
    return static_cast<unsigned>(std::clamp<std::int64_t>((work + kThreads - 1) / kThreads, 1, 1 << 16));
}

__global__ void iota_kernel(int* perm, std::int64_t rows) {
    for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < rows;
         i += std::int64_t(gridDim.x) * blockDim.x) {
        perm[i] = static_cast<int>(i);
    }
}

// The interchanges are sequential by definition (each may move a row an
// earlier one moved): one thread, l steps.
__global__ void apply_pivots_kernel(int* perm, std::int64_t rows, std::int64_t l, const int* ipiv) {
    for (std::int64_t i = 0; i < l; ++i) {
        const std::int64_t t = std::int64_t(ipiv[i]) - 1;
        if (t < 0 || t >= rows || t == i) continue;  // t outside [0, rows) cannot come from getrf; never write there
        const int tmp = perm[i];
        perm[i] = perm[t];
        perm[t] = tmp;
    }
}

template <class T>
__global__ void scatter_pl_kernel(const T* lu, std::int64_t rows, std::int64_t l, const int* perm, T* pl) {
    for (std::int64_t idx = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < rows * l;
         idx += std::int64_t(gridDim.x) * blockDim.x) {
        const std::int64_t i = idx % rows, j = idx / rows;
        const T v = i > j ? lu[idx] : i == j ? T(1) : T(0);
        pl[perm[i] + j * rows] = v;
    }
}

template <class T>
__global__ void __launch_bounds__(kThreads) add_trace_shift_kernel(T* g, std::int64_t l, T c) {
    __shared__ T part[kThreads];
    T sum = 0;
    for (std::int64_t i = threadIdx.x; i < l; i += blockDim.x) sum += g[i * (l + 1)];
    part[threadIdx.x] = sum;
    __syncthreads();
    for (int s = kThreads / 2; s > 0; s /= 2) {
        if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
        __syncthreads();
    }
    const T shift = c * part[0];
    for (std::int64_t i = threadIdx.x; i < l; i += blockDim.x) g[i * (l + 1)] += shift;
}

template <class T>
__global__ void __launch_bounds__(kThreads) identity_error_kernel(const T* g, std::int64_t l, T* out) {
    __shared__ T part[kThreads];
    T worst = 0;
    for (std::int64_t idx = threadIdx.x; idx < l * l; idx += blockDim.x) {
        const std::int64_t i = idx % l, j = idx / l;
        if (i > j) continue;
        T d = fabs(g[idx] - (i == j ? T(1) : T(0)));
        if (isnan(d)) d = static_cast<T>(INFINITY);
        worst = fmax(worst, d);
    }
    part[threadIdx.x] = worst;
    __syncthreads();
    for (int s = kThreads / 2; s > 0; s /= 2) {
        if (threadIdx.x < s) part[threadIdx.x] = fmax(part[threadIdx.x], part[threadIdx.x + s]);
        __syncthreads();
    }
    if (threadIdx.x == 0) out[0] = part[0];
}

template <class T>
__global__ void upper_triangle_kernel(const T* src, std::int64_t lds, std::int64_t l, T* dst) {
    for (std::int64_t idx = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < l * l;
         idx += std::int64_t(gridDim.x) * blockDim.x) {
        const std::int64_t i = idx % l, j = idx / l;
        dst[idx] = i <= j ? src[i + j * lds] : T(0);
    }
}

// (value, index) a beats (value, index) b: larger |.|, NaN above everything,
// then the smaller index (numpy argmax's first occurrence).
template <class T>
__device__ bool beats(T av, std::int64_t ai, T bv, std::int64_t bi) {
    const bool an = isnan(av), bn = isnan(bv);
    if (an != bn) return an;
    if (!an && av != bv) return av > bv;
    return ai < bi;
}

// One block per component j.
template <class T>
__global__ void __launch_bounds__(kThreads)
    flip_signs_kernel(T* u, std::int64_t m, std::int64_t k, T* vt, std::int64_t n) {
    __shared__ T best_v[kThreads];
    __shared__ std::int64_t best_i[kThreads];
    __shared__ bool negate;
    const std::int64_t j = blockIdx.x;
    T bv = T(-1);  // below every |U|: the first real entry replaces it
    std::int64_t bi = m;
    for (std::int64_t i = threadIdx.x; i < m; i += blockDim.x) {
        const T v = fabs(u[i * k + j]);
        if (beats(v, i, bv, bi)) {
            bv = v;
            bi = i;
        }
    }
    best_v[threadIdx.x] = bv;
    best_i[threadIdx.x] = bi;
    __syncthreads();
    for (int s = kThreads / 2; s > 0; s /= 2) {
        if (threadIdx.x < s && beats(best_v[threadIdx.x + s], best_i[threadIdx.x + s], best_v[threadIdx.x],
                                     best_i[threadIdx.x])) {
            best_v[threadIdx.x] = best_v[threadIdx.x + s];
            best_i[threadIdx.x] = best_i[threadIdx.x + s];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) negate = best_i[0] < m && u[best_i[0] * k + j] < T(0);
    __syncthreads();
    if (!negate) return;
    for (std::int64_t i = threadIdx.x; i < m; i += blockDim.x) u[i * k + j] = -u[i * k + j];
    for (std::int64_t c = threadIdx.x; c < n; c += blockDim.x) vt[j * n + c] = -vt[j * n + c];
}

__global__ void record_info_kernel(const int* info, int* first, int site, bool allow_positive) {
    const int v = *info;
    if (first[0] == 0 && (v < 0 || (v > 0 && !allow_positive))) {
        first[0] = v;
        first[1] = site;
    }
}

}  // namespace

template <class T>
void lu_to_pl(const T* lu, std::int64_t rows, std::int64_t l, const int* ipiv, int* perm, T* pl, cudaStream_t stream) {
    iota_kernel<<<grid_for(rows), kThreads, 0, stream>>>(perm, rows);
    LOGSKETCH_CUDA_CHECK_LAUNCH("rsvd iota_kernel");
    apply_pivots_kernel<<<1, 1, 0, stream>>>(perm, rows, l, ipiv);
    LOGSKETCH_CUDA_CHECK_LAUNCH("rsvd apply_pivots_kernel");
    scatter_pl_kernel<T><<<grid_for(rows * l), kThreads, 0, stream>>>(lu, rows, l, perm, pl);
    LOGSKETCH_CUDA_CHECK_LAUNCH("rsvd scatter_pl_kernel");
}

template <class T>
void add_trace_shift(T* g, std::int64_t l, T c, cudaStream_t stream) {
    add_trace_shift_kernel<T><<<1, kThreads, 0, stream>>>(g, l, c);
    LOGSKETCH_CUDA_CHECK_LAUNCH("rsvd add_trace_shift_kernel");
}

template <class T>
void identity_error(const T* g, std::int64_t l, T* out, cudaStream_t stream) {
    identity_error_kernel<T><<<1, kThreads, 0, stream>>>(g, l, out);
    LOGSKETCH_CUDA_CHECK_LAUNCH("rsvd identity_error_kernel");
}

template <class T>
void upper_triangle(const T* src, std::int64_t lds, std::int64_t l, T* dst, cudaStream_t stream) {
    upper_triangle_kernel<T><<<grid_for(l * l), kThreads, 0, stream>>>(src, lds, l, dst);
    LOGSKETCH_CUDA_CHECK_LAUNCH("rsvd upper_triangle_kernel");
}

template <class T>
void flip_signs(T* u, std::int64_t m, std::int64_t k, T* vt, std::int64_t n, cudaStream_t stream) {
    flip_signs_kernel<T><<<static_cast<unsigned>(k), kThreads, 0, stream>>>(u, m, k, vt, n);
    LOGSKETCH_CUDA_CHECK_LAUNCH("rsvd flip_signs_kernel");
}

void record_info(const int* info, int* first, int site, bool allow_positive, cudaStream_t stream) {
    record_info_kernel<<<1, 1, 0, stream>>>(info, first, site, allow_positive);
    LOGSKETCH_CUDA_CHECK_LAUNCH("rsvd record_info_kernel");
}

#define LOGSKETCH_RSVD_KERNELS(T)                                                                          \
    template void lu_to_pl<T>(const T*, std::int64_t, std::int64_t, const int*, int*, T*, cudaStream_t); \
    template void add_trace_shift<T>(T*, std::int64_t, T, cudaStream_t);                                 \
    template void identity_error<T>(const T*, std::int64_t, T*, cudaStream_t);                           \
    template void upper_triangle<T>(const T*, std::int64_t, std::int64_t, T*, cudaStream_t);             \
    template void flip_signs<T>(T*, std::int64_t, std::int64_t, T*, std::int64_t, cudaStream_t);
LOGSKETCH_RSVD_KERNELS(float)
LOGSKETCH_RSVD_KERNELS(double)
#undef LOGSKETCH_RSVD_KERNELS

}  // namespace logsketch::rsvd::gpu
