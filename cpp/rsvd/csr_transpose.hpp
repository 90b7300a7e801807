// The CSR of a CSR matrix's transpose, built in parallel: the randomized SVD
// multiplies by both A and A^T, and gathering rows of both CSRs beats
// scattering into shared output rows (no atomics, and bits independent of the
// thread count).  Costs one more copy of the nonzeros.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../runtime/threads.hpp"

namespace logsketch::rsvd {

template <class T, class I>
struct CsrArrays {
    std::vector<T> data;
    std::vector<I> indices;
    std::vector<I> indptr;
};

// rows x cols CSR in, cols x rows CSR out; each output row lists its columns
// in increasing order.
template <class T, class I>
CsrArrays<T, I> transpose_csr(const T* data, const I* indices, const I* indptr, std::int64_t rows, std::int64_t cols) {
    const std::int64_t nnz = static_cast<std::int64_t>(indptr[rows] - indptr[0]);
    // One histogram of cols counters per thread: at most about one per nonzero.
    const std::int64_t by_size = std::max<std::int64_t>(1, nnz / std::max<std::int64_t>(cols, 1));
    const int threads = static_cast<int>(std::min<std::int64_t>({get_num_threads(), by_size, std::max<std::int64_t>(rows, 1)}));
    std::vector<std::int64_t> bounds(threads + 1);
    for (int t = 0; t <= threads; ++t) bounds[t] = rows * t / threads;

    std::vector<std::int64_t> next(static_cast<std::size_t>(threads) * cols, 0);
    parallel_for(threads, [&](std::int64_t t) {
        std::int64_t* count = next.data() + t * cols;
        for (I e = indptr[bounds[t]]; e < indptr[bounds[t + 1]]; ++e) ++count[indices[e]];
    }, threads);

    CsrArrays<T, I> out;
    out.indptr.resize(cols + 1);
    out.indices.resize(nnz);
    out.data.resize(nnz);
    std::int64_t at = 0;
    for (std::int64_t c = 0; c < cols; ++c) {
        out.indptr[c] = static_cast<I>(at);
        for (int t = 0; t < threads; ++t) {
            const std::int64_t n = next[t * cols + c];
            next[t * cols + c] = at;  // where thread t writes its first entry of column c
            at += n;
        }
    }
    out.indptr[cols] = static_cast<I>(at);

    parallel_for(threads, [&](std::int64_t t) {
        std::int64_t* pos = next.data() + t * cols;
        for (std::int64_t r = bounds[t]; r < bounds[t + 1]; ++r) {
            for (I e = indptr[r]; e < indptr[r + 1]; ++e) {
                const std::int64_t p = pos[indices[e]]++;
                out.indices[p] = static_cast<I>(r);
                out.data[p] = data[e];
            }
        }
    }, threads);
    return out;
}

}  // namespace logsketch::rsvd
