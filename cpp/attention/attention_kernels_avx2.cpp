// Attention kernels at the avx2 level (target flags set in CMakeLists.txt).
// Tile shape: 16 ymm registers: 12 accumulators (6 keys or channels x 2
// vectors of 8 query rows) + 2 query/probability vectors + a broadcast.
#define LOGSKETCH_ISA avx2
#define LOGSKETCH_VEC_BYTES 32
#define LOGSKETCH_QV32 2
#define LOGSKETCH_MR32 6
#define LOGSKETCH_MC32 6
#define LOGSKETCH_QV64 2
#define LOGSKETCH_MR64 6
#define LOGSKETCH_MC64 6
#define LOGSKETCH_BN 64
#define LOGSKETCH_DECODE_ROWS 4
#define LOGSKETCH_DECODE_BN 64
#include "attention_kernels_impl.hpp"
