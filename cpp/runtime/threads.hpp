// The thread count every CPU kernel uses, and the one parallel loop they share.
#pragma once

#include <cstdint>
#include <exception>

namespace logsketch {

// Defaults to OMP_NUM_THREADS when set to a positive integer, else the number
// of hardware threads.
int get_num_threads();
// Throws std::invalid_argument for n < 1.
void set_num_threads(int n);

// Runs body(task) for task in [0, n_tasks) on up to get_num_threads() threads,
// statically partitioned.  Callers make each task's result independent of the
// partition, which is what keeps results bitwise identical across thread counts.
// An exception in a task (std::bad_alloc from a scratch buffer) would end the
// process inside an OpenMP region; the first one is rethrown after the loop.
template <class Body>
void parallel_for(std::int64_t n_tasks, Body&& body, int max_threads = 0) {
    int threads = max_threads > 0 ? max_threads : get_num_threads();
    if (threads > n_tasks) threads = static_cast<int>(n_tasks);
    if (threads <= 1) {
        for (std::int64_t t = 0; t < n_tasks; ++t) body(t);
        return;
    }
    std::exception_ptr error;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t t = 0; t < n_tasks; ++t) {
        try {
            body(t);
        } catch (...) {
#pragma omp critical(logsketch_parallel_for_error)
            if (!error) error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace logsketch
