// N-d driver of Mitchell multiply/divide: simplify the index space, split it
// across threads, run the 1-D loop of the active SIMD level on each piece.
#include <algorithm>
#include <cstdlib>
#include <array>
#include <cstdint>
#include <numeric>
#include <vector>

#include "../runtime/precondition.hpp"
#include "../core/index_space.hpp"
#include "../runtime/threads.hpp"
#include "mitchell.hpp"
#include "mitchell_elementwise_kernels.hpp"

namespace logsketch::mitchell {
namespace {

// Below this many elements a second thread costs more than it saves
// (docs/tuning.md, "Elementwise: one thread below a size").
constexpr std::int64_t kMinParallel = 1 << 16;
// Smallest piece of a row one thread takes (fits L2 on any current core).
constexpr std::int64_t kMinChunk = 1 << 14;

using Dim = logsketch::Dim<3>;  // strides of (out, a, b)

std::vector<Dim> simplify(const BinaryParams& p) {
    return simplify_index_space<3>(p.ndim, p.shape, {p.out_strides, p.a_strides, p.b_strides});
}

}  // namespace

void binary(const BinaryParams& p) {
    LOGSKETCH_REQUIRE(p.dtype == Dtype::float16 || p.dtype == Dtype::float32 || p.dtype == Dtype::float64);
    for (std::int64_t i = 0; i < p.ndim; ++i)
        if (p.shape[i] == 0) return;
    const std::vector<Dim> dims = simplify(p);
    const Dim& inner = dims.back();
    const std::int64_t rows = std::accumulate(dims.begin(), dims.end() - 1, std::int64_t{1},
                                              [](std::int64_t acc, const Dim& d) { return acc * d.size; });
    const std::int64_t total = rows * inner.size;
    const int threads = total < kMinParallel ? 1 : get_num_threads();
    std::int64_t chunks = 1;
    if (rows < 4 * threads) {
        chunks = std::clamp<std::int64_t>(inner.size / kMinChunk, 1, 4 * threads);
    }
    const std::int64_t chunk_len = (inner.size + chunks - 1) / chunks;
    const BinaryLoop loop = LOGSKETCH_ACTIVE(binary_loop)(p.dtype, p.op);
    const std::int64_t isz = itemsize(p.dtype);
    const auto* a0 = static_cast<const char*>(p.a);
    const auto* b0 = static_cast<const char*>(p.b);
    auto* o0 = static_cast<char*>(p.out);

    parallel_for(rows * chunks, [&](std::int64_t task) {
        std::int64_t row = task / chunks;
        const std::int64_t begin = (task % chunks) * chunk_len;
        const std::int64_t len = std::min(chunk_len, inner.size - begin);
        if (len <= 0) return;
        std::array<std::int64_t, 3> off{begin * inner.stride[0], begin * inner.stride[1], begin * inner.stride[2]};
        for (std::size_t d = dims.size() - 1; d-- > 0;) {  // unravel row over the outer dims
            const std::int64_t idx = row % dims[d].size;
            row /= dims[d].size;
            for (int s = 0; s < 3; ++s) off[s] += idx * dims[d].stride[s];
        }
        loop(len, a0 + off[1] * isz, inner.stride[1], b0 + off[2] * isz, inner.stride[2], o0 + off[0] * isz,
             inner.stride[0], p.compensated);
    }, threads);
}

}  // namespace logsketch::mitchell
