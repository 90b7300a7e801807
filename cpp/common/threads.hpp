// The thread count every CPU kernel uses, and the one parallel loop they share.
#pragma once

#include <cstdint>

namespace logsketch {

// Defaults to OMP_NUM_THREADS when set to a positive integer, else the number
// of hardware threads.
int get_num_threads();
// Throws std::invalid_argument for n < 1.
void set_num_threads(int n);

// Runs body(task) for task in [0, n_tasks) on up to get_num_threads() threads,
// statically partitioned.  Callers make each task's result independent of the
// partition, which is what keeps results bitwise identical across thread counts.
template <class Body>
void parallel_for(std::int64_t n_tasks, Body&& body, int max_threads = 0) {
    int threads = max_threads > 0 ? max_threads : get_num_threads();
    if (threads > n_tasks) threads = static_cast<int>(n_tasks);
    if (threads <= 1) {
        for (std::int64_t t = 0; t < n_tasks; ++t) body(t);
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t t = 0; t < n_tasks; ++t) body(t);
}

}  // namespace logsketch
