// Attention kernels at the avx512 level (target flags set in CMakeLists.txt).
// Tile shape: 32 zmm registers: 24 accumulators (12 keys or channels x 2
// vectors of 16 query rows) + 2 query/probability vectors + broadcasts.
// 32 query rows per tile keep Q^T and O^T (16 KiB each at d = 128) in L1:
// one thread, (1, 1, 4096, 128) causal: 228 GFLOP/s against 184 with 64 rows
// (6 x 4 tiles); equal at d = 64 (214 vs 218).  64-key blocks: 32 and 128
// were within noise of it.
#define LOGSKETCH_ISA avx512
#define LOGSKETCH_VEC_BYTES 64
#define LOGSKETCH_QV32 2
#define LOGSKETCH_MR32 12
#define LOGSKETCH_MC32 12
#define LOGSKETCH_QV64 4
#define LOGSKETCH_MR64 6
#define LOGSKETCH_MC64 6
#define LOGSKETCH_BN 64
#define LOGSKETCH_DECODE_ROWS 4
#define LOGSKETCH_DECODE_BN 64
#include "attention_kernels_impl.hpp"
