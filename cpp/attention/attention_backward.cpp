// attention_backward.hpp's driver: the per-row preparation (scaled q rows,
// lse in log2 units, delta = dout . out), the split of long key ranges, and
// the write-back of dq, dk, dv with the scales folded out.
//
// A task is one (batch entry, kv head) over one key chunk: it owns dk and dv
// of its keys (the GQA group's query heads are its rows, so the reduction
// over the group is inside the task) and adds into a dq buffer of its own.
// When the call has fewer than kMinTasks (entry, kv head) pairs, long key
// ranges are split into chunks of at least kMinSplitKeys; the chunks' dq
// buffers are summed afterwards in chunk order.  The split depends on the
// shapes only, so the bits do not depend on the thread count.
#include "attention_backward.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "../runtime/precondition.hpp"
#include "../runtime/scratch.hpp"
#include "../runtime/threads.hpp"
#include "attention_backward_kernels.hpp"
#include "half.hpp"

namespace logsketch::attention {

namespace {

// As the forward: 32 tasks keep 16 threads busy; a chunk of >= 512 keys keeps
// the dq merge (one pass over a rows x d buffer per chunk) small beside it.
constexpr std::int64_t kMinTasks = 32;
constexpr std::int64_t kMinSplitKeys = 512;

inline std::int64_t round_up(std::int64_t x, std::int64_t m) { return (x + m - 1) / m * m; }

struct EntryPlan {
    std::int64_t rows;     // query rows per kv head: (heads_q / heads_kv) x q_len
    std::int64_t nsplit;   // key chunks
    std::int64_t chunk;    // keys per chunk
    std::int64_t partial;  // first element of this entry's dq buffers (split entries), else -1
};

struct Task {
    std::int64_t b, hkv, split;
};

template <class T, class In>
class BackwardRunner {
   public:
    explicit BackwardRunner(const BackwardProblem& p)
        : p_(p), kern_(active_backward_kernels<T>()), g_(p.heads_q / p.heads_kv),
          dp_(round_up(p.d, kern_.lanes)), dvp_(round_up(p.dv, kern_.lanes)) {}

    void run() {
        plan();
        // Not zeroed here: each task zeroes its own buffer (first touch on the thread that uses it).
        const auto size = static_cast<std::size_t>(partial_size_);
        const std::unique_ptr<T[]> partial(size > 0 ? new T[size] : nullptr);
        partial_ = partial.get();
        // Tasks are claimed one at a time, not in fixed shares: on a loaded
        // machine a descheduled thread holds up one task, not its share of
        // the call (docs/tuning.md).  Who runs a task does not change its bits.
        const std::int64_t n = static_cast<std::int64_t>(tasks_.size());
        const int threads = get_num_threads();
        std::atomic<std::int64_t> next{0};
        parallel_for(std::min<std::int64_t>(threads, n), [&](std::int64_t) {
            for (std::int64_t t = next++; t < n && !cancellation_requested(); t = next++) run_task(tasks_[t]);
        }, threads);
        if (!merges_.empty())
            parallel_for(static_cast<std::int64_t>(merges_.size()), [&](std::int64_t m) { merge(merges_[m]); });
    }

   private:
    void plan() {
        entries_.resize(static_cast<std::size_t>(p_.batch));
        std::int64_t pairs = 0;
        for (std::int64_t b = 0; b < p_.batch; ++b) {
            EntryPlan& e = entries_[b];
            e.rows = g_ * p_.q_len[b];
            e.nsplit = 1;
            e.chunk = p_.k_len[b];
            e.partial = -1;
            pairs += p_.heads_kv;
        }
        if (pairs > 0 && pairs < kMinTasks) {
            const std::int64_t want = (kMinTasks + pairs - 1) / pairs;
            for (std::int64_t b = 0; b < p_.batch; ++b) {
                EntryPlan& e = entries_[b];
                const std::int64_t lk = p_.k_len[b];
                const std::int64_t n = std::min(want, lk / kMinSplitKeys);
                if (e.rows == 0 || n < 2) continue;
                e.chunk = round_up((lk + n - 1) / n, kern_.key_block);
                e.nsplit = (lk + e.chunk - 1) / e.chunk;
                if (e.nsplit < 2) {
                    e.nsplit = 1, e.chunk = lk;
                    continue;
                }
                e.partial = partial_size_;
                partial_size_ += p_.heads_kv * e.nsplit * e.rows * dp_;
                for (std::int64_t h = 0; h < p_.heads_kv; ++h) merges_.push_back({b, h, 0});
            }
        }
        for (std::int64_t b = 0; b < p_.batch; ++b)
            for (std::int64_t h = 0; h < p_.heads_kv; ++h)
                for (std::int64_t s = 0; s < entries_[b].nsplit; ++s) tasks_.push_back({b, h, s});
    }

    // Query row t of (b, hkv): its head and position.
    void locate(std::int64_t b, std::int64_t hkv, std::int64_t t, std::int64_t& h, std::int64_t& i) const {
        const std::int64_t lq = p_.q_len[b];
        h = hkv * g_ + t / lq;
        i = t % lq;
    }

    std::int64_t visible(std::int64_t b, std::int64_t i) const {
        const std::int64_t lk = p_.k_len[b];
        if (!p_.causal) return lk;
        return std::clamp<std::int64_t>(i + 1 + lk - p_.q_len[b], 0, lk);
    }

    // lambda of a row that sees n keys (0 if none).
    double lambda(std::int64_t n) const { return n > 0 ? row_scale(p_.scale, n, p_.d) : 0.0; }

    template <class X>
    const X* row_of(const void* base, const std::int64_t* off, std::int64_t b, std::int64_t h, std::int64_t i,
                    std::int64_t hs, std::int64_t rs) const {
        return static_cast<const X*>(base) + off[b] + h * hs + i * rs;
    }

    // The kernel's inputs for the rows of (b, hkv), in this thread's scratch.
    // Rows that see none of the keys from kb on (causal, split) are zeros:
    // the kernel reads them only inside a row block other rows need, where
    // their probabilities are 0.
    void prepare(std::int64_t b, std::int64_t hkv, std::int64_t kb, BackwardTask<T>& t) const {
        const std::int64_t rows = entries_[b].rows, d = p_.d, dv = p_.dv;
        T* qs = thread_scratch<T, 30>(static_cast<std::size_t>(rows * dp_));
        T* dout = thread_scratch<T, 31>(static_cast<std::size_t>(rows * dvp_));
        T* lse2 = thread_scratch<T, 32>(static_cast<std::size_t>(rows));
        T* delta = thread_scratch<T, 33>(static_cast<std::size_t>(rows));
        std::int64_t* n = thread_scratch<std::int64_t, 34>(static_cast<std::size_t>(rows));
        for (std::int64_t r = 0; r < rows; ++r) {
            std::int64_t h, i;
            locate(b, hkv, r, h, i);
            n[r] = visible(b, i);
            T* qr = qs + r * dp_;
            T* dr = dout + r * dvp_;
            if (n[r] <= kb) {
                std::fill(qr, qr + dp_, T(0));
                std::fill(dr, dr + dvp_, T(0));
                delta[r] = lse2[r] = 0;
                continue;
            }
            // The forward's rounding of lambda log2(e): the same scores.
            const T c = static_cast<T>(lambda(n[r]) * kLog2e);
            const In* q = row_of<In>(p_.q, p_.q_off, b, h, i, p_.q_hs, p_.q_rs);
            for (std::int64_t x = 0; x < d; ++x) qr[x] = c * widen<T>(q[x]);
            std::fill(qr + d, qr + dp_, T(0));
            const In* go = row_of<In>(p_.dout, p_.do_off, b, h, i, p_.do_hs, p_.do_rs);
            const In* o = row_of<In>(p_.out, p_.o_off, b, h, i, p_.o_hs, p_.o_rs);
            T dot = 0;
            for (std::int64_t x = 0; x < dv; ++x) {
                dr[x] = widen<T>(go[x]);
                dot += dr[x] * widen<T>(o[x]);
            }
            std::fill(dr + dv, dr + dvp_, T(0));
            delta[r] = dot;
            const T lse = *row_of<T>(p_.lse, p_.lse_off, b, h, i, p_.lse_hs, p_.lse_rs);
            lse2[r] = static_cast<T>(static_cast<double>(lse) * kLog2e);
        }
        t.rows = rows, t.d = d, t.dv = dv, t.dp = dp_, t.dvp = dvp_;
        t.qs = qs, t.dout = dout, t.lse2 = lse2, t.delta = delta, t.n = n;
    }

    void run_task(const Task& task) {
        const EntryPlan& e = entries_[task.b];
        const std::int64_t b = task.b, hkv = task.hkv;
        BackwardTask<T> t;
        prepare(b, hkv, task.split * e.chunk, t);
        t.k = static_cast<const In*>(p_.k) + p_.k_off[b] + hkv * p_.k_hs;
        t.v = static_cast<const In*>(p_.v) + p_.v_off[b] + hkv * p_.v_hs;
        t.k_rs = p_.k_rs, t.v_rs = p_.v_rs;
        t.half = std::is_same_v<In, std::uint16_t>;
        t.kb = task.split * e.chunk;
        t.ke = std::min(p_.k_len[b], t.kb + e.chunk);
        const std::int64_t keys = t.ke - t.kb, dq_size = e.rows * dp_;
        T* dq = e.nsplit == 1 ? thread_scratch<T, 35>(static_cast<std::size_t>(dq_size))
                              : partial_ + e.partial + (hkv * e.nsplit + task.split) * dq_size;
        std::fill(dq, dq + dq_size, T(0));
        t.dq = dq;
        t.dk = thread_scratch<T, 36>(static_cast<std::size_t>(keys * dp_));
        t.dv_ = thread_scratch<T, 37>(static_cast<std::size_t>(keys * dvp_));
        kern_.run(t);
        write_keys(b, hkv, t);
        if (e.nsplit == 1) write_dq(b, hkv, dq, t.n);
    }

    // dk = ln(2) sum_r dS_rj qs_r (qs carries log2(e)); dv as the kernel left it.
    void write_keys(std::int64_t b, std::int64_t hkv, const BackwardTask<T>& t) const {
        const T ln2 = static_cast<T>(kLn2);
        for (std::int64_t j = t.kb; j < t.ke; ++j) {
            In* dk = static_cast<In*>(p_.dk) + p_.dk_off[b] + hkv * p_.dk_hs + j * p_.dk_rs;
            const T* sk = t.dk + (j - t.kb) * dp_;
            for (std::int64_t c = 0; c < p_.d; ++c) dk[c] = narrow<In>(ln2 * sk[c]);
            In* dv = static_cast<In*>(p_.dv_) + p_.dv_off[b] + hkv * p_.dv_hs + j * p_.dv_rs;
            const T* sv = t.dv_ + (j - t.kb) * dvp_;
            for (std::int64_t c = 0; c < p_.dv; ++c) dv[c] = narrow<In>(sv[c]);
        }
    }

    // dq_r = lambda_r sum_j dS_rj k_j.
    void write_dq(std::int64_t b, std::int64_t hkv, const T* acc, const std::int64_t* n) const {
        for (std::int64_t r = 0; r < entries_[b].rows; ++r) {
            std::int64_t h, i;
            locate(b, hkv, r, h, i);
            const T lam = static_cast<T>(lambda(n[r]));
            In* dq = static_cast<In*>(p_.dq) + p_.dq_off[b] + h * p_.dq_hs + i * p_.dq_rs;
            for (std::int64_t c = 0; c < p_.d; ++c) dq[c] = narrow<In>(lam * acc[r * dp_ + c]);
        }
    }

    // The chunks' dq buffers of (b, hkv), summed in chunk order.
    void merge(const Task& m) const {
        const EntryPlan& e = entries_[m.b];
        const std::int64_t size = e.rows * dp_;
        T* sum = partial_ + e.partial + m.hkv * e.nsplit * size;  // chunk 0's buffer takes the sum
        for (std::int64_t s = 1; s < e.nsplit; ++s) {
            const T* part = sum + s * size;
            for (std::int64_t x = 0; x < size; ++x) sum[x] += part[x];
        }
        std::int64_t* n = thread_scratch<std::int64_t, 38>(static_cast<std::size_t>(e.rows));
        for (std::int64_t r = 0; r < e.rows; ++r) {
            std::int64_t h, i;
            locate(m.b, m.hkv, r, h, i);
            n[r] = visible(m.b, i);
        }
        write_dq(m.b, m.hkv, sum, n);
    }

    const BackwardProblem& p_;
    const BackwardKernels<T> kern_;
    const std::int64_t g_, dp_, dvp_;
    std::vector<EntryPlan> entries_;
    std::vector<Task> tasks_, merges_;
    std::int64_t partial_size_ = 0;
    T* partial_ = nullptr;
};

}  // namespace

void attention_backward(const BackwardProblem& p) {
    LOGSKETCH_REQUIRE(p.dtype == Dtype::float16 || p.dtype == Dtype::float32 || p.dtype == Dtype::float64);
    LOGSKETCH_REQUIRE(p.heads_kv > 0 ? p.heads_q % p.heads_kv == 0 : p.heads_q == 0);
    LOGSKETCH_REQUIRE(p.d >= 1 && p.dv >= 1);
    if (p.batch == 0 || p.heads_q == 0) return;
    if (p.dtype == Dtype::float16) return BackwardRunner<float, std::uint16_t>(p).run();
    if (p.dtype == Dtype::float32) return BackwardRunner<float, float>(p).run();
    return BackwardRunner<double, double>(p).run();
}

}  // namespace logsketch::attention
