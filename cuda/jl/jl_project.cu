// y = X R^T on the GPU, R generated on the fly, never stored.
//
// gaussian and sparse: a tiled GEMM whose B operand is generated, not read.
// A block owns a kTM x kTN tile of y; for each kTK-wide slice of the d
// columns it stages X's slice (zero-padded) and generates R's slice (kTN rows
// x kTK columns: one Philox block per thread) in shared memory, then each
// thread updates its 4 x 4 outputs.  gaussian: explicit fma on the normals;
// sparse: additions and subtractions selected by the sign (the CPU's
// gather-add: NaN/inf in X reach only the outputs whose row of R has a
// nonzero there), over X's entries times the scale (staged scaled, as the
// CPU: no overflow before scaling); gaussian: the scale multiplies each
// output once at the end.
// Outputs sum over d in increasing slices, in increasing j within a slice,
// so they equal X @ R^T within float summation error, not bit for bit.
//
// srht: one block per row of X: the signed, zero-padded row in shared memory,
// a fast Walsh-Hadamard transform in place (stages h = 1, 2, 4, ... of
// (a + b, a - b) butterflies, as the CPU), then the k sampled entries times
// the scale.  The padded order is capped at kMaxSrhtOrder (jl_cuda.hpp).
//
// Everything here is compiled with -fmad=false for the generator's sake
// (cmake/LogsketchCudaSources.cmake); the GEMM's fma is written out.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "../runtime/cuda_check.cuh"
#include "jl_check.hpp"
#include "jl_cuda.hpp"
#include "jl_device.cuh"
#include "jl_launch.cuh"

namespace logsketch::jl::gpu {
namespace {

constexpr int kTM = 64;  // rows of X per tile
constexpr int kTN = 64;  // components per tile
constexpr int kTK = 16;  // columns per slice: kTN * kTK / 4 = 256 Philox blocks, one per thread
constexpr int kThreads = 256;
constexpr int kSrhtThreads = 256;
static_assert(kTN * kTK / 4 == kThreads, "one Philox block of the R slice per thread");
static_assert((kTM / 4) * (kTN / 4) == kThreads, "a 4 x 4 micro-tile of y per thread");

// R's slice: rows [c0, c0 + kTN) x columns [j0, j0 + kTK), stored as
// r[column][row]; 0 outside R.  Gaussian entries are the normals (scale at
// the end), sparse entries +1, -1 or 0.
template <class T, bool kSparse>
__device__ void generate_slice(philox::Key key, std::uint32_t half, std::int64_t k, std::int64_t d, std::int64_t c0,
                               std::int64_t j0, T (*r)[kTN + 1]) {
    const int row = threadIdx.x / (kTK / 4), qq = threadIdx.x % (kTK / 4);
    const std::int64_t c = c0 + row, j = j0 + 4 * qq;
    T v[4] = {T(0), T(0), T(0), T(0)};
    if (c < k && j < d) {
        const std::uint64_t q = static_cast<std::uint64_t>(j) >> 2;
        if constexpr (kSparse) {
            const auto b = words(key, q, static_cast<std::uint32_t>(c), random::kTagSparse);
            for (int w = 0; w < 4; ++w) v[w] = T(random::sparse_sign(word_at(b, w), half));
        } else {
            float z[4];
            gaussian4(key, static_cast<std::uint32_t>(c), q, z);
            for (int w = 0; w < 4; ++w) v[w] = static_cast<T>(z[w]);
        }
        for (int w = 0; w < 4; ++w) {
            if (j + w >= d) v[w] = T(0);
        }
    }
    for (int w = 0; w < 4; ++w) r[4 * qq + w][row] = v[w];
}

template <class T, bool kSparse>
__global__ void __launch_bounds__(kThreads)
    tiled_kernel(const T* __restrict__ x, std::int64_t n, std::int64_t rs, std::int64_t d, std::int64_t k,
                 philox::Key key, std::uint32_t half, T scale, T* __restrict__ y) {
    __shared__ T xs[kTK][kTM + 1];
    __shared__ T rt[kTK][kTN + 1];
    const int tx = threadIdx.x % (kTN / 4), ty = threadIdx.x / (kTN / 4);
    const std::int64_t tiles_n = (k + kTN - 1) / kTN;
    const std::int64_t tiles = (n + kTM - 1) / kTM * tiles_n;
    for (std::int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
        const std::int64_t i0 = t / tiles_n * kTM, c0 = t % tiles_n * kTN;
        T acc[4][4] = {};
        for (std::int64_t j0 = 0; j0 < d; j0 += kTK) {
            for (int e = threadIdx.x; e < kTM * kTK; e += kThreads) {  // coalesced along j
                const int i = e / kTK, jj = e % kTK;
                const bool inside = i0 + i < n && j0 + jj < d;
                T xv = inside ? x[(i0 + i) * rs + j0 + jj] : T(0);
                if constexpr (kSparse) xv = xv * scale;
                xs[jj][i] = xv;
            }
            generate_slice<T, kSparse>(key, half, k, d, c0, j0, rt);
            __syncthreads();
            for (int jj = 0; jj < kTK; ++jj) {
                T a[4], b[4];
                for (int u = 0; u < 4; ++u) a[u] = xs[jj][4 * ty + u];
                for (int v = 0; v < 4; ++v) b[v] = rt[jj][4 * tx + v];
                for (int u = 0; u < 4; ++u) {
                    for (int v = 0; v < 4; ++v) {
                        if constexpr (kSparse) {
                            acc[u][v] = b[v] > T(0) ? acc[u][v] + a[u] : b[v] < T(0) ? acc[u][v] - a[u] : acc[u][v];
                        } else {
                            acc[u][v] = fma(a[u], b[v], acc[u][v]);
                        }
                    }
                }
            }
            __syncthreads();
        }
        for (int u = 0; u < 4; ++u) {
            const std::int64_t i = i0 + 4 * ty + u;
            if (i >= n) break;
            for (int v = 0; v < 4; ++v) {
                const std::int64_t c = c0 + 4 * tx + v;
                if (c < k) y[i * k + c] = kSparse ? acc[u][v] : acc[u][v] * scale;
            }
        }
    }
}

template <class T>
__global__ void __launch_bounds__(kSrhtThreads)
    srht_kernel(const T* __restrict__ x, std::int64_t n, std::int64_t rs, std::int64_t d, int log2n,
                const std::int64_t* __restrict__ rows, std::int64_t k, philox::Key key, T scale, T* __restrict__ y) {
    extern __shared__ __align__(16) unsigned char smem[];
    T* buf = reinterpret_cast<T*>(smem);
    const int order = 1 << log2n;
    for (std::int64_t i = blockIdx.x; i < n; i += gridDim.x) {
        const T* xi = x + i * rs;
        // The signed row (D_j = -1 where bit 31 of its word is set), zero-padded.
        for (int q = threadIdx.x; 4 * q < order; q += blockDim.x) {
            const auto b = 4 * q < d ? words(key, static_cast<std::uint64_t>(q), 0, random::kTagSrhtSign)
                                     : philox::Block4<Lanes>{0, 0, 0, 0};
            for (int w = 0; w < 4 && 4 * q + w < order; ++w) {
                const int j = 4 * q + w;
                const T v = j < d ? xi[j] : T(0);
                buf[j] = (word_at(b, w) >> 31) ? -v : v;
            }
        }
        __syncthreads();
        for (int h = 1; h < order; h <<= 1) {
            for (int p = threadIdx.x; p < order / 2; p += blockDim.x) {
                const int a = ((p & ~(h - 1)) << 1) | (p & (h - 1));
                const T u = buf[a], v = buf[a + h];
                buf[a] = u + v;
                buf[a + h] = u - v;
            }
            __syncthreads();
        }
        T* yi = y + i * k;
        for (std::int64_t c = threadIdx.x; c < k; c += blockDim.x) yi[c] = buf[rows[c]] * scale;
        __syncthreads();  // buf is rewritten for the next row
    }
}

template <class T>
void project_as(const Matrix& r, const ProjectParams& p, cudaStream_t stream) {
    const T* x = static_cast<const T*>(p.x);
    T* y = static_cast<T*>(p.y);
    const philox::Key key = philox::key_from_seed(r.seed);
    if (r.kind == Kind::srht) {
        int log2n = 0;
        while ((std::int64_t(1) << log2n) < r.d) ++log2n;
        const std::int64_t order = std::int64_t(1) << log2n;
        if (order > kMaxSrhtOrder) {
            throw std::invalid_argument("kind='srht' on the GPU supports n_features up to " +
                                        std::to_string(kMaxSrhtOrder) + " (padded to a power of two); got " +
                                        std::to_string(r.d));
        }
        const auto bytes = static_cast<int>(order * static_cast<std::int64_t>(sizeof(T)));
        LOGSKETCH_CUDA_CHECK(cudaFuncSetAttribute(srht_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
        srht_kernel<T><<<grid_for(p.n, 1), kSrhtThreads, bytes, stream>>>(
            x, p.n, p.rs, r.d, log2n, r.srht_rows, r.k, key, static_cast<T>(random::srht_scale(r.k)), y);
        LOGSKETCH_CUDA_CHECK_LAUNCH("jl srht_kernel");
        return;
    }
    const std::int64_t tiles = (p.n + kTM - 1) / kTM * ((r.k + kTN - 1) / kTN);
    if (r.kind == Kind::gaussian) {
        tiled_kernel<T, false><<<grid_for(tiles, 1), kThreads, 0, stream>>>(
            x, p.n, p.rs, r.d, r.k, key, 0u, static_cast<T>(random::gaussian_scale(r.k)), y);
        LOGSKETCH_CUDA_CHECK_LAUNCH("jl tiled_kernel (gaussian)");
    } else {
        tiled_kernel<T, true><<<grid_for(tiles, 1), kThreads, 0, stream>>>(
            x, p.n, p.rs, r.d, r.k, key, random::sparse_half(r.density),
            static_cast<T>(random::sparse_scale(r.k, r.density)), y);
        LOGSKETCH_CUDA_CHECK_LAUNCH("jl tiled_kernel (sparse)");
    }
}

}  // namespace

void project(const Matrix& r, const ProjectParams& p, cudaStream_t stream) {
    check_matrix(r);
    if (p.n == 0) return;
    if (p.dtype == Dtype::float32) project_as<float>(r, p, stream);
    else project_as<double>(r, p, stream);
}

}  // namespace logsketch::jl::gpu
