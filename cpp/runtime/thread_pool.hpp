// logsketch's own pool of worker threads, under every parallel loop.
//
// One loop at a time runs on the pool; it is split into at most `threads`
// chunks of consecutive tasks, fixed when the loop starts, and workers claim
// whole chunks.  A call made while another thread's loop runs waits for it;
// a loop started from inside a task runs inline on that task's thread.
// Idle workers spin for a few tens of microseconds (adapted to how often work
// arrives), then sleep on a futex, so they do not hold cores that numpy's or
// torch's BLAS wants next.  A forked child starts a fresh, empty pool.
//
// Cancellation: a CancelScope on the calling thread makes the loops it runs
// cancellable.  Its poll function runs on the calling thread about every
// 50 ms while a loop runs; when it returns true, or cancel() is called, the
// loop stops handing out tasks, waits for the tasks in flight and throws
// Cancelled.  Kernels may call cancellation_requested() between tiles.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>

namespace logsketch {

// Thrown out of a parallel loop whose call was cancelled.
class Cancelled : public std::exception {
  public:
    const char* what() const noexcept override { return "logsketch: call cancelled"; }
};

// Thrown when the pool cannot start the worker threads it was asked for.
class ThreadStartError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Runs on the calling thread about every 50 ms while a loop runs; true cancels.
using PollFunction = bool (*)();

// Makes the parallel loops this thread runs in its scope cancellable.  Scopes
// nest; the innermost one is in effect.  Not copyable, not movable.
class CancelScope {
  public:
    explicit CancelScope(PollFunction poll = nullptr) noexcept;
    ~CancelScope();
    CancelScope(const CancelScope&) = delete;
    CancelScope& operator=(const CancelScope&) = delete;

    void cancel() noexcept { flag_.store(true, std::memory_order_relaxed); }  // any thread
    bool cancelled() const noexcept { return flag_.load(std::memory_order_relaxed); }
    // Runs the poll function if ~50 ms have passed since it last ran; returns cancelled().
    bool poll_if_due() noexcept;
    const std::atomic<bool>& flag() const noexcept { return flag_; }
    std::atomic<bool>& flag() noexcept { return flag_; }

  private:
    std::atomic<bool> flag_{false};
    PollFunction poll_;
    std::int64_t last_poll_ns_;
    CancelScope* outer_;
};

// True inside a task (or a loop) whose call is being cancelled or whose loop
// already failed: the rest of its work will be thrown away.  On a calling
// thread that runs a loop inline it also runs the scope's poll when due, so
// a kernel that checks between tiles is interruptible on one thread too.
bool cancellation_requested() noexcept;

namespace pool {

// body(ctx, begin, end, stop) runs tasks [begin, end) in order and returns
// early once stop is set.
using RangeFunction = void (*)(void* ctx, std::int64_t begin, std::int64_t end, const std::atomic<bool>& stop);

// Runs [0, n_tasks) split into `chunks` ranges (n_tasks >= chunks >= 1);
// rethrows the first exception of a task, or throws Cancelled.
void run(std::int64_t n_tasks, int chunks, RangeFunction body, void* ctx);

// Starts worker threads until the pool has n; returns how many it has.
// Throws ThreadStartError (saying how many run) when the system refuses one.
int reserve(int n);

}  // namespace pool
}  // namespace logsketch
