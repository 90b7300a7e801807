// Per-thread scratch buffers that live as long as their thread and only grow:
// allocating them per call page-faulted (Mitchell GEMM, 256^3 float32: 1 MB of
// packed B, 40% of the run time).  Slot tells apart the buffers one thread
// holds at once.  Internal linkage, so each translation unit has its own.
#pragma once

#include <cstddef>
#include <vector>

namespace logsketch {
namespace {

template <class T, int Slot>
T* thread_scratch(std::size_t n) {
    thread_local std::vector<T> buffer;
    if (buffer.size() < n) buffer.resize(n);
    return buffer.data();
}

}  // namespace
}  // namespace logsketch
