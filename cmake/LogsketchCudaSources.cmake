# Sources of the optional CUDA module logsketch._cuda (included by LogsketchCuda.cmake).
#
# LOGSKETCH_CUDA_SOURCES: the kernels (nvcc), built into a static library that
# links the CUDA runtime statically.  LOGSKETCH_CUDA_BINDING_SOURCES: the
# pybind11 module (host compiler), the only CUDA-side files that see Python.
set(LOGSKETCH_CUDA_SOURCES
  cuda/mitchell/mitchell_elementwise.cu
  cuda/mitchell/mitchell_matmul.cu
)
set(LOGSKETCH_CUDA_BINDING_SOURCES
  cuda/bindings/module.cpp
  cuda/bindings/cuda_common_bindings.cpp
  cuda/bindings/mitchell_cuda_bindings.cpp
)
