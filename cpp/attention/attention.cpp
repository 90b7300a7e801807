// attention.hpp's driver: tiles of query rows, the split of long key ranges,
// the per-row scale, and the final normalization.
//
// Work is cut into tasks that do not depend on the thread count: a task is
// one tile of query rows (all on one batch entry and kv head, GQA heads of a
// group side by side) over one key range.  When the whole call has fewer than
// kMinTasks row tiles (decode: a few query rows against a long cache), each
// entry's keys are split into chunks of at least kMinSplitKeys; the chunks'
// softmax states (max, sum, unnormalized output) are merged afterwards in
// chunk order, so the bits do not depend on which thread ran what.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "../runtime/precondition.hpp"
#include "../runtime/scratch.hpp"
#include "../runtime/threads.hpp"
#include "attention.hpp"
#include "attention_kernels.hpp"
#include "half.hpp"

namespace logsketch::attention {

namespace {

// The scale's values: a finite positive ln(base) and a min factor that is not NaN, or a finite constant.
bool well_formed(const Scale& s) {
    if (!s.entropy) return std::isfinite(s.value);
    return s.log_base > 0 && std::isfinite(s.log_base) && !std::isnan(s.min_factor);
}

}  // namespace

double row_scale(const Scale& s, std::int64_t n, std::int64_t d) {
    LOGSKETCH_REQUIRE(well_formed(s) && n >= 1 && d >= 1);
    if (!s.entropy) return s.value;
    const double factor = std::max(std::log(static_cast<double>(n)) / s.log_base, s.min_factor);
    return factor / std::sqrt(static_cast<double>(d));
}

namespace {

// 32 tiles keep 16 threads busy with two tasks each; splitting further would
// only add merge work on machines this size.  A chunk is at least 1024 keys so
// the merge (dv + 2 values per chunk and row) stays small beside the chunk.
constexpr std::int64_t kMinTasks = 32;
constexpr std::int64_t kMinSplitKeys = 1024;

struct EntryPlan {
    std::int64_t rows;      // query rows per kv head: (heads_q / heads_kv) x q_len
    std::int64_t tiles;     // row tiles per kv head
    std::int64_t nsplit;    // key chunks
    std::int64_t chunk;     // keys per chunk
    std::int64_t partial;   // first partial-state row of this entry (split entries)
    bool decode;
};

struct Task {
    std::int64_t b, hkv, tile, split;
};

template <class T, class In>
class Runner {
   public:
    Runner(const Problem& p) : p_(p), kern_(active_kernels<T>()), g_(p.heads_q / p.heads_kv) {}

    void run() {
        plan();
        const std::int64_t state = p_.dv + 2;
        std::vector<T> partial(static_cast<std::size_t>(partial_rows_ * max_split_ * state));
        partial_ = partial.data();
        parallel_for(static_cast<std::int64_t>(tasks_.size()), [&](std::int64_t t) { run_task(tasks_[t]); });
        if (partial_rows_ > 0) parallel_for(partial_rows_, [&](std::int64_t r) { merge(r); });
    }

   private:
    void plan() {
        entries_.resize(static_cast<std::size_t>(p_.batch));
        std::int64_t tiles = 0;
        for (std::int64_t b = 0; b < p_.batch; ++b) {
            EntryPlan& e = entries_[b];
            e.rows = g_ * p_.q_len[b];
            // Few rows per kv head: the head dimension fills the lanes better.
            e.decode = e.rows <= kern_.decode_rows && kern_.tile_rows > kern_.decode_rows;
            const std::int64_t per = e.decode ? kern_.decode_rows : kern_.tile_rows;
            e.tiles = (e.rows + per - 1) / per;
            e.nsplit = 1;
            e.chunk = p_.k_len[b];
            e.partial = -1;
            tiles += e.tiles * p_.heads_kv;
        }
        max_split_ = 1;
        if (tiles > 0 && tiles < kMinTasks) {
            const std::int64_t want = (kMinTasks + tiles - 1) / tiles;
            for (std::int64_t b = 0; b < p_.batch; ++b) {
                EntryPlan& e = entries_[b];
                const std::int64_t lk = p_.k_len[b];
                const std::int64_t n = std::min(want, lk / kMinSplitKeys);
                if (e.rows == 0 || n < 2) continue;
                const std::int64_t block = kern_.key_block;
                e.chunk = ((lk + n - 1) / n + block - 1) / block * block;
                e.nsplit = (lk + e.chunk - 1) / e.chunk;
                if (e.nsplit < 2) continue;
                e.partial = partial_rows_;
                partial_rows_ += e.rows * p_.heads_kv;
                max_split_ = std::max(max_split_, e.nsplit);
            }
        }
        // Tiles of a kv head in the order first, last, second, second to
        // last, ...: under causal masking their costs pair up, so the
        // contiguous ranges of tasks the threads take carry equal work.
        for (std::int64_t b = 0; b < p_.batch; ++b) {
            const EntryPlan& e = entries_[b];
            for (std::int64_t h = 0; h < p_.heads_kv; ++h)
                for (std::int64_t i = 0; i < e.tiles; ++i) {
                    const std::int64_t tile = i % 2 == 0 ? i / 2 : e.tiles - 1 - i / 2;
                    for (std::int64_t s = 0; s < e.nsplit; ++s) tasks_.push_back({b, h, tile, s});
                }
        }
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

    void run_task(const Task& task) {
        const EntryPlan& e = entries_[task.b];
        const std::int64_t d = p_.d, dv = p_.dv, b = task.b;
        const int per = e.decode ? kern_.decode_rows : kern_.tile_rows;
        const std::int64_t t0 = task.tile * per;
        const int rows = static_cast<int>(std::min<std::int64_t>(per, e.rows - t0));
        T* q = thread_scratch<T, 10>(static_cast<std::size_t>(per * d));
        T* o = thread_scratch<T, 11>(static_cast<std::size_t>(per * dv));
        T* ml = thread_scratch<T, 12>(static_cast<std::size_t>(2 * per));
        std::int64_t* n = thread_scratch<std::int64_t, 13>(static_cast<std::size_t>(per));
        const In* qin = static_cast<const In*>(p_.q) + p_.q_off[b];
        for (int r = 0; r < rows; ++r) {
            std::int64_t h, i;
            locate(b, task.hkv, t0 + r, h, i);
            n[r] = visible(b, i);
            const T c = n[r] > 0 ? static_cast<T>(row_scale(p_.scale, n[r], d) * kLog2e) : T(0);
            const In* src = qin + h * p_.q_hs + i * p_.q_rs;
            for (std::int64_t x = 0; x < d; ++x) q[r * d + x] = c * widen<T>(src[x]);
        }
        Tile<T> tile;
        tile.rows = rows;
        tile.d = d;
        tile.dv = dv;
        tile.q = q;
        tile.n = n;
        tile.k = static_cast<const In*>(p_.k) + p_.k_off[b] + task.hkv * p_.k_hs;
        tile.v = static_cast<const In*>(p_.v) + p_.v_off[b] + task.hkv * p_.v_hs;
        tile.k_rs = p_.k_rs;
        tile.v_rs = p_.v_rs;
        tile.half = std::is_same_v<In, std::uint16_t>;
        tile.kb = task.split * e.chunk;
        tile.ke = std::min(p_.k_len[b], tile.kb + e.chunk);
        tile.m = ml;
        tile.l = ml + per;
        tile.o = o;
        (e.decode ? kern_.decode : kern_.tile)(tile);

        const std::int64_t state = dv + 2;
        for (int r = 0; r < rows; ++r) {
            if (e.nsplit == 1) {
                std::int64_t h, i;
                locate(b, task.hkv, t0 + r, h, i);
                finish(b, h, i, n[r] > 0, tile.m[r], tile.l[r], o + r * dv);
            } else {
                T* s = partial_ + ((e.partial + task.hkv * e.rows + t0 + r) * max_split_ + task.split) * state;
                s[0] = tile.m[r];
                s[1] = tile.l[r];
                std::copy(o + r * dv, o + (r + 1) * dv, s + 2);
            }
        }
    }

    // out = o / l and lse = ln(2) (m + log2 l); zeros and -inf for a row that sees no key.
    void finish(std::int64_t b, std::int64_t h, std::int64_t i, bool any, T m, T l, const T* o) const {
        In* out = static_cast<In*>(p_.out) + p_.o_off[b] + h * p_.o_hs + i * p_.o_rs;
        for (std::int64_t c = 0; c < p_.dv; ++c) out[c] = narrow<In>(any ? o[c] / l : T(0));
        if (p_.lse) {
            const T lse = any ? static_cast<T>((static_cast<double>(m) + std::log2(static_cast<double>(l))) * kLn2)
                              : -std::numeric_limits<T>::infinity();
            static_cast<T*>(p_.lse)[p_.lse_off[b] + h * p_.lse_hs + i * p_.lse_rs] = lse;
        }
    }

    // Partial-state row r: find its entry, merge its chunks in order, finish.
    void merge(std::int64_t r) {
        std::int64_t b = 0;
        while (entries_[b].partial < 0 || r >= entries_[b].partial + entries_[b].rows * p_.heads_kv) ++b;
        const EntryPlan& e = entries_[b];
        const std::int64_t local = r - e.partial, hkv = local / e.rows, t = local % e.rows;
        const std::int64_t state = p_.dv + 2;
        const T* s = partial_ + r * max_split_ * state;
        T m = s[0];
        for (std::int64_t c = 1; c < e.nsplit; ++c) m = s[c * state] > m ? s[c * state] : m;
        const T muse = m == -std::numeric_limits<T>::infinity() ? T(0) : m;
        T* o = thread_scratch<T, 14>(static_cast<std::size_t>(p_.dv));
        std::fill(o, o + p_.dv, T(0));
        T l = 0;
        for (std::int64_t c = 0; c < e.nsplit; ++c) {
            const T* sc = s + c * state;
            const T w = std::exp2(sc[0] - muse);
            l += w * sc[1];
            for (std::int64_t x = 0; x < p_.dv; ++x) o[x] += w * sc[2 + x];
        }
        std::int64_t h, i;
        locate(b, hkv, t, h, i);
        finish(b, h, i, visible(b, i) > 0, m, l, o);
    }

    const Problem& p_;
    const Kernels<T> kern_;
    const std::int64_t g_;
    std::vector<EntryPlan> entries_;
    std::vector<Task> tasks_;
    std::int64_t partial_rows_ = 0, max_split_ = 1;
    T* partial_ = nullptr;
};

}  // namespace

void attention(const Problem& p) {
    LOGSKETCH_REQUIRE(p.dtype == Dtype::float16 || p.dtype == Dtype::float32 || p.dtype == Dtype::float64);
    LOGSKETCH_REQUIRE(p.heads_kv > 0 ? p.heads_q % p.heads_kv == 0 : p.heads_q == 0);
    LOGSKETCH_REQUIRE(well_formed(p.scale));
    if (p.batch == 0 || p.heads_q == 0) return;
    if (p.dtype == Dtype::float16) return Runner<float, std::uint16_t>(p).run();
    if (p.dtype == Dtype::float32) return Runner<float, float>(p).run();
    return Runner<double, double>(p).run();
}

}  // namespace logsketch::attention
