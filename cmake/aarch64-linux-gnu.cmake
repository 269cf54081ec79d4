# cmake/aarch64-linux-gnu.cmake - toolchain file for the linux-arm64 build with Debian's cross
# compiler (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross), its tests run under qemu-user:
#   cmake -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake   (scripts/build.sh arm64)
#   QEMU_CPU=max ctest --test-dir build-arm64          (with the dot product: the sdot kernels)
#   QEMU_CPU=cortex-a53 ctest --test-dir build-arm64   (ARMv8.0, no dot product: the smull ones)
# The binaries are for any arm64 CPU (armv8-a); the kernels pick their instructions at run time.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
find_program(WEMBED_QEMU_AARCH64 qemu-aarch64)
if(WEMBED_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${WEMBED_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu)
endif()
