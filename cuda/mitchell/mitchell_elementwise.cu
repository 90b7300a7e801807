// Mitchell multiply/divide over CUDA arrays.
//
// The index space is simplified as on the CPU (unit dimensions dropped,
// dimensions contiguous in all three arrays merged).  A contiguous output with
// contiguous or scalar inputs runs a 16-byte vectorised grid-stride loop; every
// other layout (broadcasts, transposes, slices, negative strides) runs a
// strided loop that unravels the flat index over at most kMaxDims dimensions.
// Each element is computed by the same select-only function as the CPU
// (mitchell_device.cuh), so the bits equal the reference's.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../cpp/core/index_space.hpp"
#include "../runtime/cuda_check.cuh"
#include "mitchell_cuda.hpp"
#include "mitchell_device.cuh"

namespace logsketch::mitchell::gpu {
namespace {

constexpr int kThreads = 256;
// Grid-stride loops launch at most this many blocks per SM: 8 x 256 threads
// fill the 2048 thread slots of an sm_80/sm_90 SM once.
constexpr int kBlocksPerSm = 8;

// One 32-bit word of results: one float32 or two packed 16-bit values.
template <class F, bool kDivide>
__device__ __forceinline__ std::uint32_t word_op(std::uint32_t wa, std::uint32_t wb, std::uint32_t addend) {
    if constexpr (sizeof(typename F::Bits) == 4) {
        return mitchell_bits<F, kDivide>(wa, wb, addend);
    } else {
        const std::uint32_t lo = mitchell_bits<F, kDivide>(wa & 0xFFFFu, wb & 0xFFFFu, addend);
        const std::uint32_t hi = mitchell_bits<F, kDivide>(wa >> 16, wb >> 16, addend);
        return lo | (hi << 16);
    }
}

template <class Bits>
__device__ __forceinline__ std::uint32_t splat_word(Bits x) {
    if constexpr (sizeof(Bits) == 4) return x;
    else return std::uint32_t(x) | (std::uint32_t(x) << 16);
}

// out[i] = a[i] (op) b[i] for i < n; an operand flagged scalar is read at [0].
// The three pointers that are read or written as vectors are 16-byte aligned.
template <class F, bool kDivide>
__global__ void __launch_bounds__(kThreads)
    binary_contiguous(const typename F::Bits* a, bool a_scalar, const typename F::Bits* b, bool b_scalar,
                      typename F::Bits* out, std::int64_t n, std::uint32_t addend) {
    using Bits = typename F::Bits;
    constexpr int kPerVec = 16 / sizeof(Bits);
    const std::int64_t nvec = n / kPerVec;
    const std::int64_t first = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    const std::int64_t step = std::int64_t(gridDim.x) * blockDim.x;
    const std::uint32_t sa = a_scalar ? splat_word(a[0]) : 0u;
    const std::uint32_t sb = b_scalar ? splat_word(b[0]) : 0u;
    const uint4* a4 = reinterpret_cast<const uint4*>(a);
    const uint4* b4 = reinterpret_cast<const uint4*>(b);
    uint4* o4 = reinterpret_cast<uint4*>(out);
    for (std::int64_t v = first; v < nvec; v += step) {
        const uint4 va = a_scalar ? make_uint4(sa, sa, sa, sa) : a4[v];
        const uint4 vb = b_scalar ? make_uint4(sb, sb, sb, sb) : b4[v];
        uint4 r;
        r.x = word_op<F, kDivide>(va.x, vb.x, addend);
        r.y = word_op<F, kDivide>(va.y, vb.y, addend);
        r.z = word_op<F, kDivide>(va.z, vb.z, addend);
        r.w = word_op<F, kDivide>(va.w, vb.w, addend);
        o4[v] = r;
    }
    // The last n % kPerVec elements, one per thread of the first few.
    const std::int64_t i = nvec * kPerVec + first;
    if (i < n) {
        out[i] = static_cast<Bits>(
            mitchell_bits<F, kDivide>(a[a_scalar ? 0 : i], b[b_scalar ? 0 : i], addend));
    }
}

// A simplified index space: shape[ndim - 1] is the innermost dimension; the
// strides of out, a and b in elements.
struct StridedLayout {
    int ndim;
    std::int64_t shape[kMaxDims];
    std::int64_t stride[3][kMaxDims];  // out, a, b
};

// Index is std::uint32_t when the whole space has fewer than 2^31 elements
// (32-bit divisions are several times cheaper), std::int64_t otherwise.
template <class Index, class F, bool kDivide>
__device__ __forceinline__ void strided_loop(const typename F::Bits* a, const typename F::Bits* b,
                                             typename F::Bits* out, const StridedLayout& L, std::int64_t total,
                                             std::uint32_t addend) {
    const int last = L.ndim - 1;
    const Index inner = static_cast<Index>(L.shape[last]);
    const Index end = static_cast<Index>(total);
    const Index step = static_cast<Index>(gridDim.x) * blockDim.x;
    for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < end; i += step) {
        Index row = i / inner;
        const std::int64_t col = static_cast<std::int64_t>(i - row * inner);
        std::int64_t oo = col * L.stride[0][last], oa = col * L.stride[1][last], ob = col * L.stride[2][last];
#pragma unroll
        for (int d = kMaxDims - 2; d >= 0; --d) {
            if (d < last) {
                const Index size = static_cast<Index>(L.shape[d]);
                const Index next = row / size;
                const std::int64_t idx = static_cast<std::int64_t>(row - next * size);
                row = next;
                oo += idx * L.stride[0][d];
                oa += idx * L.stride[1][d];
                ob += idx * L.stride[2][d];
            }
        }
        out[oo] = static_cast<typename F::Bits>(mitchell_bits<F, kDivide>(a[oa], b[ob], addend));
    }
}

template <class F, bool kDivide>
__global__ void __launch_bounds__(kThreads)
    binary_strided(const typename F::Bits* a, const typename F::Bits* b, typename F::Bits* out, StridedLayout L,
                   std::int64_t total, std::uint32_t addend) {
    if (total < (std::int64_t(1) << 31)) {
        strided_loop<std::uint32_t, F, kDivide>(a, b, out, L, total, addend);
    } else {
        strided_loop<std::int64_t, F, kDivide>(a, b, out, L, total, addend);
    }
}

using Dim = logsketch::Dim<3>;  // strides of (out, a, b)

std::vector<Dim> simplify(const BinaryParams& p) {
    return simplify_index_space<3>(p.ndim, p.shape, {p.out_strides, p.a_strides, p.b_strides});
}

int max_blocks() {
    int device = 0, sms = 0;
    LOGSKETCH_CUDA_CHECK(cudaGetDevice(&device));
    LOGSKETCH_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return std::max(1, sms) * kBlocksPerSm;
}

int blocks_for(std::int64_t work, int cap) {
    const std::int64_t wanted = (work + kThreads - 1) / kThreads;
    return static_cast<int>(std::clamp<std::int64_t>(wanted, 1, cap));
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

template <class F, bool kDivide>
void launch(const BinaryParams& p, const std::vector<Dim>& dims, std::int64_t total, cudaStream_t stream) {
    using Bits = typename F::Bits;
    const auto* a = static_cast<const Bits*>(p.a);
    const auto* b = static_cast<const Bits*>(p.b);
    auto* out = static_cast<Bits*>(p.out);
    const std::uint32_t addend = kDivide ? div_addend<F>(p.compensated) : mul_addend<F>(p.compensated);
    const int cap = max_blocks();

    if (dims.size() == 1) {
        const auto& s = dims[0].stride;
        const bool a_ok = s[1] == 0 || (s[1] == 1 && aligned16(a));
        const bool b_ok = s[2] == 0 || (s[2] == 1 && aligned16(b));
        if (s[0] == 1 && aligned16(out) && a_ok && b_ok) {
            constexpr int kPerVec = 16 / sizeof(Bits);
            binary_contiguous<F, kDivide><<<blocks_for(total / kPerVec, cap), kThreads, 0, stream>>>(
                a, s[1] == 0, b, s[2] == 0, out, total, addend);
            LOGSKETCH_CUDA_CHECK_LAUNCH("mitchell binary_contiguous");
            return;
        }
    }
    StridedLayout L{};
    L.ndim = static_cast<int>(dims.size());
    for (int d = 0; d < L.ndim; ++d) {
        L.shape[d] = dims[d].size;
        for (int s = 0; s < 3; ++s) L.stride[s][d] = dims[d].stride[s];
    }
    binary_strided<F, kDivide><<<blocks_for(total, cap), kThreads, 0, stream>>>(a, b, out, L, total, addend);
    LOGSKETCH_CUDA_CHECK_LAUNCH("mitchell binary_strided");
}

template <class F>
void launch_op(const BinaryParams& p, const std::vector<Dim>& dims, std::int64_t total, cudaStream_t stream) {
    if (p.op == BinaryOp::divide) launch<F, true>(p, dims, total, stream);
    else launch<F, false>(p, dims, total, stream);
}

}  // namespace

void binary(const BinaryParams& p, cudaStream_t stream) {
    for (std::int64_t i = 0; i < p.ndim; ++i)
        if (p.shape[i] == 0) return;
    const std::vector<Dim> dims = simplify(p);
    if (dims.size() > static_cast<std::size_t>(kMaxDims)) {
        throw std::invalid_argument("a, b and out span " + std::to_string(dims.size()) +
                                    " dimensions that cannot be merged; the GPU kernels take at most " +
                                    std::to_string(kMaxDims) + " (make the operands contiguous first)");
    }
    std::int64_t total = 1;
    for (const Dim& d : dims) total *= d.size;
    switch (p.dtype) {
        case Dtype::float16: return launch_op<Float16Format>(p, dims, total, stream);
        case Dtype::bfloat16: return launch_op<BFloat16Format>(p, dims, total, stream);
        case Dtype::float32: return launch_op<Float32Format>(p, dims, total, stream);
    }
    throw std::invalid_argument("dtype must be float16, bfloat16 or float32");
}

}  // namespace logsketch::mitchell::gpu
