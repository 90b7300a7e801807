// Attention kernels at the scalar level (target flags set in CMakeLists.txt).
// Tile shape: AVX-free baseline: one lane, 4 query rows x 4 keys or channels.
#define LOGSKETCH_ISA scalar
#define LOGSKETCH_VEC_BYTES 0
#define LOGSKETCH_QV32 4
#define LOGSKETCH_MR32 4
#define LOGSKETCH_MC32 4
#define LOGSKETCH_QV64 4
#define LOGSKETCH_MR64 4
#define LOGSKETCH_MC64 4
#define LOGSKETCH_BN 64
#define LOGSKETCH_DECODE_ROWS 4
#define LOGSKETCH_DECODE_BN 64
#include "attention_kernels_impl.hpp"
