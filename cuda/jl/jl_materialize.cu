// R itself on the GPU, k x d, C-contiguous: one thread per block of 4 columns
// of a row, the same words and the same arithmetic as the CPU's
// jl_components, so the bits are equal (tests/gpu/test_jl_gpu.py).  The sparse
// kind is written dense (zeros included): the GPU side has no CSR output.
#include <cstdint>
#include <stdexcept>

#include "../runtime/cuda_check.cuh"
#include "jl_check.hpp"
#include "jl_cuda.hpp"
#include "jl_device.cuh"
#include "jl_launch.cuh"

namespace logsketch::jl::gpu {
namespace {

constexpr int kThreads = 256;

// Entry (c, j) of each kind from the block of (c, q = j >> 2) and its word w.
template <class T>
struct GaussianEntries {
    T scale;
    __device__ void row_block(philox::Key key, std::uint32_t c, std::uint64_t q, T out[4]) const {
        float z[4];
        gaussian4(key, c, q, z);
        for (int w = 0; w < 4; ++w) out[w] = static_cast<T>(z[w]) * scale;
    }
};

template <class T>
struct SparseEntries {
    T scale;
    std::uint32_t half;
    __device__ void row_block(philox::Key key, std::uint32_t c, std::uint64_t q, T out[4]) const {
        const auto b = words(key, q, c, random::kTagSparse);
        for (int w = 0; w < 4; ++w) {
            const int s = random::sparse_sign(word_at(b, w), half);
            out[w] = s > 0 ? scale : s < 0 ? -scale : T(0);
        }
    }
};

template <class T>
struct SrhtEntries {
    T scale;
    const std::int64_t* rows;
    __device__ void row_block(philox::Key key, std::uint32_t c, std::uint64_t q, T out[4]) const {
        const auto b = words(key, q, 0, random::kTagSrhtSign);
        const auto s = static_cast<unsigned long long>(rows[c]);
        for (int w = 0; w < 4; ++w) {
            const auto j = static_cast<unsigned long long>(4 * q + w);
            const bool negative = (__popcll(s & j) & 1) != static_cast<int>(word_at(b, w) >> 31);
            out[w] = negative ? -scale : scale;
        }
    }
};

template <class T, class Entries>
__global__ void __launch_bounds__(kThreads)
    components_kernel(Entries e, philox::Key key, std::int64_t k, std::int64_t d, T* out) {
    const std::int64_t nq = (d + 3) / 4;
    const std::int64_t step = std::int64_t(gridDim.x) * blockDim.x;
    for (std::int64_t t = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < k * nq; t += step) {
        const std::int64_t c = t / nq, q = t % nq;
        T v[4];
        e.row_block(key, static_cast<std::uint32_t>(c), static_cast<std::uint64_t>(q), v);
        T* out_c = out + c * d;
        for (int w = 0; w < 4 && 4 * q + w < d; ++w) out_c[4 * q + w] = v[w];
    }
}

template <class T, class Entries>
void launch(const Matrix& r, const Entries& e, T* out, cudaStream_t stream) {
    const std::int64_t work = r.k * ((r.d + 3) / 4);
    components_kernel<T><<<grid_for(work, kThreads), kThreads, 0, stream>>>(e, philox::key_from_seed(r.seed), r.k,
                                                                            r.d, out);
    LOGSKETCH_CUDA_CHECK_LAUNCH("jl components_kernel");
}

template <class T>
void components_as(const Matrix& r, T* out, cudaStream_t stream) {
    switch (r.kind) {
        case Kind::gaussian:
            launch(r, GaussianEntries<T>{static_cast<T>(random::gaussian_scale(r.k))}, out, stream);
            return;
        case Kind::sparse:
            launch(r, SparseEntries<T>{static_cast<T>(random::sparse_scale(r.k, r.density)),
                                       random::sparse_half(r.density)},
                   out, stream);
            return;
        case Kind::srht:
            launch(r, SrhtEntries<T>{static_cast<T>(random::srht_scale(r.k)), r.srht_rows}, out, stream);
            return;
    }
    throw std::invalid_argument("unknown kind");
}

}  // namespace

void components(const Matrix& r, Dtype dtype, void* out, cudaStream_t stream) {
    check_matrix(r);
    if (dtype == Dtype::float32) components_as(r, static_cast<float*>(out), stream);
    else components_as(r, static_cast<double*>(out), stream);
}

}  // namespace logsketch::jl::gpu
