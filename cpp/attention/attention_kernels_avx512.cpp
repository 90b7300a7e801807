// Attention kernels at the avx512 level (target flags set in CMakeLists.txt).
// Tile shape: 32 zmm registers: 24 accumulators (6 keys or channels x 4
// vectors of 16 query rows) + 4 query/probability vectors + broadcasts.
#define LOGSKETCH_ISA avx512
#define LOGSKETCH_VEC_BYTES 64
#define LOGSKETCH_QV32 4
#define LOGSKETCH_MR32 6
#define LOGSKETCH_MC32 6
#define LOGSKETCH_QV64 4
#define LOGSKETCH_MR64 6
#define LOGSKETCH_MC64 6
#define LOGSKETCH_BN 64
#define LOGSKETCH_DECODE_ROWS 4
#define LOGSKETCH_DECODE_BN 64
#include "attention_kernels_impl.hpp"
