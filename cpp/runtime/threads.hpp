// The thread count every CPU kernel uses, and the one parallel loop they share.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "thread_pool.hpp"

namespace logsketch {

// The most threads set_num_threads accepts: far above any core count, low
// enough that the pool's stacks stay a small part of the address space.
constexpr int kMaxThreads = 1024;

// Defaults to OMP_NUM_THREADS when set to a positive integer, else the number
// of hardware threads (both capped at kMaxThreads).
int get_num_threads();
// Throws std::invalid_argument for n outside [1, kMaxThreads].  Starts the
// pool's workers now; when the system refuses some, the count is still set
// and ThreadStartError says how many run (loops then run on those).
void set_num_threads(int n);

// Runs body(task) for task in [0, n_tasks), split into up to `threads`
// chunks of consecutive tasks, fixed at the start (max_threads > 0, else
// get_num_threads() read once).  A driver that sizes its work by the thread
// count reads get_num_threads() once and passes it here, so a concurrent
// set_num_threads cannot change a running call.  Callers make each task's
// result independent of the partition, which keeps results bitwise identical
// across thread counts.  The first exception of a task stops the loop and is
// rethrown after it; a cancelled call throws Cancelled (thread_pool.hpp).
template <class Body>
void parallel_for(std::int64_t n_tasks, Body&& body, int max_threads = 0) {
    if (n_tasks <= 0) return;
    const std::int64_t threads = max_threads > 0 ? max_threads : get_num_threads();
    using B = std::remove_reference_t<Body>;
    auto range = [](void* ctx, std::int64_t begin, std::int64_t end, const std::atomic<bool>& stop) {
        B& f = *static_cast<B*>(ctx);
        (void)stop;  // read by cancellation_requested(), which on the caller also polls
        for (std::int64_t t = begin; t < end && !cancellation_requested(); ++t) f(t);
    };
    pool::run(n_tasks, static_cast<int>(threads < n_tasks ? threads : n_tasks), range,
              const_cast<void*>(static_cast<const void*>(&body)));
}

}  // namespace logsketch
