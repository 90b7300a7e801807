# Sources of the optional CUDA module logsketch._cuda (included by LogsketchCuda.cmake).
#
# LOGSKETCH_CUDA_SOURCES: the kernels (nvcc), every .cu under cuda/<family>/,
# built into a static library that links the CUDA runtime statically.
# LOGSKETCH_CUDA_BINDING_SOURCES: the pybind11 module (host compiler), the only
# CUDA-side files that see Python.
file(GLOB LOGSKETCH_CUDA_SOURCES CONFIGURE_DEPENDS cuda/*/*.cu)
file(GLOB LOGSKETCH_CUDA_BINDING_SOURCES CONFIGURE_DEPENDS cuda/bindings/*.cpp)
# The JL kernels generate R with philox.hpp's Box-Muller, whose bits match the
# CPU's only when every a*b+c rounds twice (the CPU builds with -ffp-contract=off).
set_source_files_properties(cuda/jl/jl_materialize.cu cuda/jl/jl_project.cu
  PROPERTIES COMPILE_OPTIONS "-fmad=false")
