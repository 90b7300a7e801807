// The per-SIMD-level attention kernels, as tables of function pointers: each
// table comes from attention_kernels.cpp, compiled once per level; the driver
// (attention.cpp) picks the active level's (runtime/dispatch.hpp).
#pragma once

#include <cstdint>

#include "../runtime/dispatch.hpp"

namespace logsketch::attention {

// A tile: up to `rows` query rows that share one (batch entry, kv head), and
// the key range [kb, ke) to run them over.  The kernel leaves, per row r, the
// online-softmax state over the keys j in [kb, min(ke, n[r])): m[r] the
// running maximum of the scores in log2 units (-inf if no key), l[r] the sum
// of exp2(score - m[r]), o[r * dv + c] the sum of exp2(score - m[r]) v_j[c].
template <class T>
struct Tile {
    int rows;
    std::int64_t d, dv;
    const T* q;             // rows x d, C-contiguous, each row times lambda_r log2(e)
    const std::int64_t* n;  // keys row r sees: j < n[r]
    const void* k;          // key 0 of this (batch, kv head); row j at k + j * k_rs
    const void* v;
    std::int64_t k_rs, v_rs;
    bool half;  // k and v are float16 (T is then float)
    std::int64_t kb, ke;
    T* m;
    T* l;
    T* o;  // rows x dv
};

template <class T>
struct Kernels {
    int tile_rows;    // rows per tile of `tile` (queries in vector lanes)
    int decode_rows;  // rows per tile of `decode` (head dim in vector lanes)
    int key_block;    // keys per online-softmax step of `tile`
    void (*tile)(const Tile<T>& t);
    void (*decode)(const Tile<T>& t);
};

LOGSKETCH_DECLARE_PER_ISA(Kernels<float> kernels32();
                          Kernels<double> kernels64();)

template <class T>
Kernels<T> active_kernels() {
    if constexpr (sizeof(T) == 4) return LOGSKETCH_ACTIVE(kernels32)();
    else return LOGSKETCH_ACTIVE(kernels64)();
}

}  // namespace logsketch::attention
