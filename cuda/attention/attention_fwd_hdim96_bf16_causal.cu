// One instantiation of the attention forward kernel (attention_fwd_kernel.cuh):
// bfloat16, head dim 96, causal.  One file each so that nvcc builds them in parallel.
#include "attention_fwd_kernel.cuh"

namespace logsketch::attention::gpu {
template void run_fwd<__nv_bfloat16, 96, true>(const FwdArgs&, std::int64_t, cudaStream_t);
}  // namespace logsketch::attention::gpu
