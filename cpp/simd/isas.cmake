# The SIMD levels the CPU kernels are compiled for: the one table of them.
#
# One row per level, lowest first: its name, the processors it exists on (a
# regular expression on CMAKE_SYSTEM_PROCESSOR) and its compile flags.  A
# level also has a traits header cpp/simd/isa_<name>.hpp (vector width, tile
# shapes, CPU detection).  Adding a level is one row here and that header.
# The run-time dispatch (cpp/runtime/dispatch.hpp) is generated from the rows
# that match the target processor, so on a processor without x86 SIMD only the
# portable `scalar` kernels are compiled.
set(LOGSKETCH_X86 "^(x86_64|AMD64|amd64|i[3-6]86)$")
logsketch_isa(scalar ".*" -fno-tree-vectorize)
logsketch_isa(avx2 "${LOGSKETCH_X86}" -mavx2 -mfma -mf16c)
logsketch_isa(avx512 "${LOGSKETCH_X86}" -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c)
