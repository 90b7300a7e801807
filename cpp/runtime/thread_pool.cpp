#include "thread_pool.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace logsketch {
namespace {

using Word = std::atomic<std::uint32_t>;
static_assert(sizeof(Word) == sizeof(std::uint32_t) && Word::is_always_lock_free, "futex words are plain 32-bit");

constexpr std::int64_t kPollIntervalNs = 50'000'000;  // Ctrl-C answered within ~50 ms plus a task
// Idle workers spin between these bounds before sleeping: long enough to catch
// back-to-back calls from Python (a few µs apart), short enough not to slow a
// BLAS call that follows (OpenMP's default spin made np.matmul 256^3 take
// 3.9 ms instead of 0.1 ms after a call; bench/bench_threads.py measures it).
constexpr std::int64_t kMinSpinNs = 2'000, kMaxSpinNs = 50'000;
constexpr std::int64_t kCallerSpinNs = 20'000;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// ---- sleeping on a 32-bit word: a futex on Linux, a condition variable elsewhere
#if defined(__linux__)
// Sleeps while word == expected, at most timeout_ns (< 0: no limit); spurious wakes allowed.
void wait_on(Word& word, std::uint32_t expected, std::int64_t timeout_ns) {
    timespec ts{}, *limit = nullptr;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1'000'000'000;
        ts.tv_nsec = timeout_ns % 1'000'000'000;
        limit = &ts;
    }
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, limit, nullptr, 0);
}
void wake(Word& word, int count) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}
#else
std::mutex& park_mutex() {
    static std::mutex m;
    return m;
}
std::condition_variable& park_cv() {
    static std::condition_variable cv;
    return cv;
}
void wait_on(Word& word, std::uint32_t expected, std::int64_t timeout_ns) {
    std::unique_lock<std::mutex> lock(park_mutex());
    if (word.load() != expected) return;
    if (timeout_ns < 0) park_cv().wait(lock);
    else park_cv().wait_for(lock, std::chrono::nanoseconds(timeout_ns));
}
void wake(Word&, int) {
    { std::lock_guard<std::mutex> lock(park_mutex()); }
    park_cv().notify_all();
}
#endif

thread_local CancelScope* t_scope = nullptr;               // innermost scope of this thread
thread_local std::atomic<bool>* t_stop = nullptr;         // stop flag of the loop this thread runs tasks of
thread_local bool t_in_loop = false;                       // workers always; a caller during its loop

// The job's chunk c covers tasks [n * c / chunks, n * (c + 1) / chunks).
struct Job {
    pool::RangeFunction body = nullptr;
    void* ctx = nullptr;
    std::int64_t n_tasks = 0;
    std::uint32_t chunks = 0;
    std::atomic<bool> stop{false};
    std::mutex error_mutex;
    std::exception_ptr error;
};

class Pool {
  public:
    int workers() const { return workers_.load(std::memory_order_acquire); }

    int reserve(int n, std::string* failure) {
        std::lock_guard<std::mutex> lock(grow_mutex_);
        while (workers() < n) {
            sigset_t all, old;  // workers leave signals to the threads Python knows
            sigfillset(&all);
            pthread_sigmask(SIG_SETMASK, &all, &old);
            pthread_t id;
            // The worker joins jobs published after this point, even if it starts running later.
            auto* start = new WorkerStart{this, epoch_.load()};
            const int rc = pthread_create(&id, nullptr, &Pool::worker_main, start);
            pthread_sigmask(SIG_SETMASK, &old, nullptr);
            if (rc != 0) {
                delete start;
                if (failure) *failure = std::strerror(rc);
                grow_failed_ = true;
                break;
            }
            pthread_detach(id);
            workers_.fetch_add(1, std::memory_order_acq_rel);
        }
        return workers();
    }

    // Grows lazily up to n, but does not retry after a refusal until reserve() is called.
    void grow_quietly(int n) {
        if (workers() >= n || grow_failed_) return;
        try {
            reserve(n, nullptr);
        } catch (...) {  // std::system_error from the lock: run on what exists
        }
    }
    void clear_failure() { grow_failed_ = false; }

    void run(std::int64_t n_tasks, int chunks, pool::RangeFunction body, void* ctx, CancelScope* scope);

  private:
    struct WorkerStart {
        Pool* pool;
        std::uint32_t epoch;
    };
    static void* worker_main(void* arg) {
        const WorkerStart start = *static_cast<WorkerStart*>(arg);
        delete static_cast<WorkerStart*>(arg);
        start.pool->worker_loop(start.epoch);
        return nullptr;
    }
    void worker_loop(std::uint32_t seen);
    bool work(std::uint32_t epoch);
    void run_chunk(std::uint32_t c);
    void wait_done(std::uint32_t chunks, CancelScope* scope);

    std::timed_mutex call_mutex_;  // one loop at a time
    std::mutex grow_mutex_;
    std::atomic<int> workers_{0};
    std::atomic<bool> grow_failed_{false};

    Word epoch_{0};                    // bumped to publish a job; workers sleep on it
    std::atomic<std::uint64_t> claim_{0};  // epoch << 32 | chunks not yet claimed
    Word done_{0};                     // chunks finished; the caller sleeps on it
    std::atomic<int> sleepers_{0};
    std::atomic<bool> caller_waiting_{false};
    Job job_;
};

void Pool::worker_loop(std::uint32_t seen) {
    t_in_loop = true;  // a loop inside a task runs inline
    std::int64_t spin_ns = kMaxSpinNs;
    for (;;) {
        std::uint32_t e = epoch_.load(std::memory_order_acquire);
        bool caught = e != seen;
        const std::int64_t t0 = caught ? 0 : now_ns();
        for (unsigned i = 1; !caught; ++i) {
            cpu_relax();
            e = epoch_.load(std::memory_order_acquire);
            caught = e != seen;
            if (!caught && i % 64 == 0 && now_ns() - t0 > spin_ns) break;
        }
        if (caught) {
            spin_ns = std::min(kMaxSpinNs, spin_ns * 2);
        } else {
            spin_ns = std::max(kMinSpinNs, spin_ns / 2);
            sleepers_.fetch_add(1);
            while ((e = epoch_.load()) == seen) wait_on(epoch_, seen, -1);
            sleepers_.fetch_sub(1);
        }
        seen = e;
        work(e);
    }
}

// Claims and runs chunks of the job published as `epoch` until none is left.
bool Pool::work(std::uint32_t epoch) {
    bool any = false;
    for (;;) {
        std::uint64_t c = claim_.load(std::memory_order_acquire);
        do {
            if (static_cast<std::uint32_t>(c >> 32) != epoch || static_cast<std::uint32_t>(c) == 0) return any;
        } while (!claim_.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel));
        // The claim succeeded, so the job is still running: its fields are valid
        // until this chunk is counted done.
        const std::uint32_t chunks = job_.chunks;
        run_chunk(static_cast<std::uint32_t>(c) - 1);
        any = true;
        if (done_.fetch_add(1) + 1 == chunks && caller_waiting_.load()) wake(done_, 1);
    }
}

void Pool::run_chunk(std::uint32_t c) {
    const std::int64_t n = job_.n_tasks, chunks = job_.chunks;
    std::atomic<bool>* outer = t_stop;
    t_stop = &job_.stop;
    try {
        job_.body(job_.ctx, n * c / chunks, n * (c + 1) / chunks, job_.stop);
    } catch (...) {
        std::lock_guard<std::mutex> lock(job_.error_mutex);
        if (!job_.error) job_.error = std::current_exception();
        job_.stop.store(true, std::memory_order_relaxed);
    }
    t_stop = outer;
}

void Pool::wait_done(std::uint32_t chunks, CancelScope* scope) {
    const std::int64_t t0 = now_ns();
    while (done_.load(std::memory_order_acquire) != chunks && now_ns() - t0 < kCallerSpinNs) cpu_relax();
    caller_waiting_.store(true);
    for (;;) {
        const std::uint32_t d = done_.load();
        if (d == chunks) break;
        wait_on(done_, d, scope ? kPollIntervalNs : -1);
        if (scope && scope->poll_if_due()) job_.stop.store(true, std::memory_order_relaxed);
    }
    caller_waiting_.store(false, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);  // the chunks' writes are visible
}

void Pool::run(std::int64_t n_tasks, int chunks, pool::RangeFunction body, void* ctx, CancelScope* scope) {
    // The caller runs chunks too (as many threads as chunks, none of them idle);
    // an interruptible caller polls between its tasks (cancellation_requested)
    // and, once its chunks are done, while it waits.

    std::unique_lock<std::timed_mutex> lock(call_mutex_, std::defer_lock);
    if (scope) {
        while (!lock.try_lock_for(std::chrono::nanoseconds(kPollIntervalNs))) {
            if (scope->poll_if_due()) throw Cancelled();
        }
    } else {
        lock.lock();
    }
    t_in_loop = true;
    struct Leave {
        ~Leave() { t_in_loop = false; }
    } leave;

    job_.body = body;
    job_.ctx = ctx;
    job_.n_tasks = n_tasks;
    job_.chunks = static_cast<std::uint32_t>(chunks);
    job_.stop.store(scope && scope->cancelled(), std::memory_order_relaxed);
    job_.error = nullptr;
    done_.store(0, std::memory_order_relaxed);
    const std::uint32_t e = epoch_.load(std::memory_order_relaxed) + 1;
    claim_.store(std::uint64_t(e) << 32 | std::uint32_t(chunks));
    epoch_.store(e);
    if (sleepers_.load() > 0) wake(epoch_, chunks - 1);
    work(e);
    wait_done(static_cast<std::uint32_t>(chunks), scope);

    std::exception_ptr error = job_.error;
    job_.error = nullptr;
    if (error) std::rethrow_exception(error);
    if (scope && scope->cancelled()) throw Cancelled();
}

// ---- the process's pool: created on first use, replaced in a forked child
std::atomic<Pool*> g_pool{nullptr};

void forget_pool_in_child() {
    // The parent's workers do not exist here; its pool (and any lock held at
    // fork time) is abandoned, and the next loop builds a fresh one.
    g_pool.store(nullptr);
    t_in_loop = false;
    t_stop = nullptr;
}

Pool& the_pool() {
    Pool* p = g_pool.load(std::memory_order_acquire);
    if (p) return *p;
    static const int registered = pthread_atfork(nullptr, nullptr, &forget_pool_in_child);
    (void)registered;
    auto* fresh = new Pool();  // never destroyed: workers may sleep in it at exit
    if (g_pool.compare_exchange_strong(p, fresh)) return *fresh;
    delete fresh;
    return *p;
}

// Runs [0, n) on this thread, polling the scope's function every ~50 ms of tasks.
void run_inline(std::int64_t n, pool::RangeFunction body, void* ctx, CancelScope* scope) {
    if (!scope) {
        static const std::atomic<bool> never{false};
        body(ctx, 0, n, t_stop ? *t_stop : never);
        if (t_stop && t_stop->load(std::memory_order_relaxed)) throw Cancelled();
        return;
    }
    // Tasks between polls double while they take under a millisecond.
    std::atomic<bool>& stop = scope->flag();
    std::atomic<bool>* outer = t_stop;
    t_stop = &stop;
    struct Restore {
        std::atomic<bool>* outer;
        ~Restore() { t_stop = outer; }
    } restore{outer};
    std::int64_t step = 1;
    for (std::int64_t t = 0; t < n && !scope->poll_if_due();) {
        const std::int64_t t0 = now_ns(), end = std::min(n, t + step);
        body(ctx, t, end, stop);
        t = end;
        if (now_ns() - t0 < 1'000'000 && step < (std::int64_t(1) << 20)) step *= 2;
    }
    if (scope->cancelled()) throw Cancelled();
}

}  // namespace

CancelScope::CancelScope(PollFunction poll) noexcept : poll_(poll), last_poll_ns_(now_ns()), outer_(t_scope) {
    t_scope = this;
}

CancelScope::~CancelScope() { t_scope = outer_; }

bool CancelScope::poll_if_due() noexcept {
    if (poll_ && !cancelled()) {
        const std::int64_t now = now_ns();
        if (now - last_poll_ns_ >= kPollIntervalNs) {
            last_poll_ns_ = now;
            if (poll_()) cancel();
        }
    }
    return cancelled();
}

bool cancellation_requested() noexcept {
    if (t_stop && t_stop->load(std::memory_order_relaxed)) return true;
    // On the calling thread this is also where the poll runs; a cancelled call
    // stops the loop it runs tasks of, on the workers too.
    if (!(t_scope && t_scope->poll_if_due())) return false;
    if (t_stop) t_stop->store(true, std::memory_order_relaxed);
    return true;
}

namespace pool {

void run(std::int64_t n_tasks, int chunks, RangeFunction body, void* ctx) {
    if (n_tasks <= 0) return;
    CancelScope* scope = t_in_loop ? nullptr : t_scope;  // only the calling thread polls
    if (scope && scope->cancelled()) throw Cancelled();
    if (chunks <= 1 || t_in_loop) return run_inline(n_tasks, body, ctx, scope);
    Pool& p = the_pool();
    p.grow_quietly(chunks - 1);
    p.run(n_tasks, chunks, body, ctx, scope);
}

int reserve(int n) {
    Pool& p = the_pool();
    p.clear_failure();
    std::string why;
    const int have = p.reserve(n, &why);
    if (have < n) {
        throw ThreadStartError("could start only " + std::to_string(have) + " of " + std::to_string(n) +
                               " worker threads (" + why + "); loops run on the threads that exist");
    }
    return have;
}

}  // namespace pool
}  // namespace logsketch
