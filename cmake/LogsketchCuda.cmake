# The optional CUDA modules logsketch._cuda and logsketch._cuda_linalg.
#
# LOGSKETCH_CUDA=AUTO builds them when a CUDA compiler is found, ON requires
# it, OFF skips them.  The CUDA runtime is linked statically into both.
# logsketch._cuda needs nothing else, so importing it needs only a driver.
# logsketch._cuda_linalg (the randomized SVD) also links cuBLAS and cuSOLVER,
# as shared libraries: toolkits need not ship their static archives (the CUDA
# 13.0 this was first built with has no libcublas_static.a /
# libcusolver_static.a), and statically they would bring their kernels into
# the module (libcublasLt.so.13 alone is 517 MiB, libcusolver.so.12 135 MiB).
# Importing it therefore needs libcublas, libcublasLt, libcusolver and their
# dependencies (libcusparse, libnvJitLink) on the loader's path, or already
# loaded: a CUDA toolkit, or the nvidia-* wheels that PyTorch and CuPy install
# (found through the run path below, and preloaded by logsketch/_gpu.py).
# Without a driver or without the libraries, logsketch reports the GPU path
# (or only the GPU randomized SVD) as unavailable instead of failing to import.
if(LOGSKETCH_CUDA STREQUAL "OFF")
  message(STATUS "logsketch: CUDA module disabled (LOGSKETCH_CUDA=OFF)")
  return()
endif()

include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  if(LOGSKETCH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "logsketch: LOGSKETCH_CUDA=ON but no CUDA compiler was found")
  endif()
  message(STATUS "logsketch: no CUDA compiler found; building without logsketch._cuda")
  return()
endif()

if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  # Ampere and Hopper as SASS, plus PTX for anything newer.
  set(CMAKE_CUDA_ARCHITECTURES 80-real 90-real 90-virtual)
endif()
enable_language(CUDA)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
find_package(CUDAToolkit REQUIRED)

include(${CMAKE_CURRENT_LIST_DIR}/LogsketchCudaSources.cmake)

add_library(logsketch_cuda_kernels STATIC ${LOGSKETCH_CUDA_SOURCES})
target_include_directories(logsketch_cuda_kernels PUBLIC cuda)
target_compile_options(logsketch_cuda_kernels PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-O3 --expt-relaxed-constexpr>)
target_link_libraries(logsketch_cuda_kernels PUBLIC CUDA::cudart_static)

pybind11_add_module(_cuda MODULE ${LOGSKETCH_CUDA_BINDING_SOURCES})
target_link_libraries(_cuda PRIVATE logsketch_cuda_kernels)
install(TARGETS _cuda DESTINATION logsketch)

add_library(logsketch_cuda_linalg STATIC ${LOGSKETCH_CUDA_LINALG_SOURCES})
target_compile_options(logsketch_cuda_linalg PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-O3 --expt-relaxed-constexpr>)
target_link_libraries(logsketch_cuda_linalg PUBLIC logsketch_cuda_kernels CUDA::cublas CUDA::cusolver)

pybind11_add_module(_cuda_linalg MODULE ${LOGSKETCH_CUDA_LINALG_BINDING_SOURCES})
target_link_libraries(_cuda_linalg PRIVATE logsketch_cuda_linalg)
# Installed into site-packages beside the nvidia-* wheels: CUDA 13 wheels put
# every library in nvidia/cu13/lib, CUDA 12 wheels one folder per library.
set_target_properties(_cuda_linalg PROPERTIES INSTALL_RPATH
  "$ORIGIN/../nvidia/cu${CUDAToolkit_VERSION_MAJOR}/lib;$ORIGIN/../nvidia/cublas/lib;$ORIGIN/../nvidia/cusolver/lib;$ORIGIN/../nvidia/cusparse/lib;$ORIGIN/../nvidia/nvjitlink/lib")
install(TARGETS _cuda_linalg DESTINATION logsketch)
