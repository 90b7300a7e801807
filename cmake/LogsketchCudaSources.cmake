# Sources of the optional CUDA modules (included by LogsketchCuda.cmake).
#
# logsketch._cuda: every kernel under cuda/ (cuda/<family>/, cuda/runtime/ and
# the generated cuda/attention/instantiations/) but the dense linear
# algebra, built into a static library that links the CUDA runtime
# statically, so importing it needs a driver and nothing else.
# logsketch._cuda_linalg: the randomized SVD, which also needs cuBLAS and
# cuSOLVER (shared libraries): its own module, so a machine without them
# still gets every other GPU kernel.
# The *_BINDING_SOURCES are the pybind11 side (host compiler), the only
# CUDA-side files that see Python.
file(GLOB_RECURSE LOGSKETCH_CUDA_SOURCES CONFIGURE_DEPENDS cuda/*.cu)
set(LOGSKETCH_CUDA_LINALG_SOURCES ${LOGSKETCH_CUDA_SOURCES})
list(FILTER LOGSKETCH_CUDA_SOURCES EXCLUDE REGEX "/cuda/rsvd/|/cuda/runtime/linalg_")
list(FILTER LOGSKETCH_CUDA_LINALG_SOURCES INCLUDE REGEX "/cuda/rsvd/|/cuda/runtime/linalg_")

file(GLOB LOGSKETCH_CUDA_BINDING_SOURCES CONFIGURE_DEPENDS cuda/bindings/*.cpp)
set(LOGSKETCH_CUDA_LINALG_BINDING_SOURCES ${LOGSKETCH_CUDA_BINDING_SOURCES})
list(FILTER LOGSKETCH_CUDA_BINDING_SOURCES EXCLUDE REGEX "/(linalg_module|rsvd_cuda_bindings)\\.cpp$")
list(FILTER LOGSKETCH_CUDA_LINALG_BINDING_SOURCES INCLUDE REGEX "/(linalg_module|rsvd_cuda_bindings)\\.cpp$")

# The JL kernels generate R with philox.hpp's Box-Muller, whose bits match the
# CPU's only when every a*b+c rounds twice (the CPU builds with -ffp-contract=off).
set_source_files_properties(cuda/jl/jl_materialize.cu cuda/jl/jl_project.cu
  PROPERTIES COMPILE_OPTIONS "-fmad=false")
