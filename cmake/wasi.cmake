# cmake/wasi.cmake - toolchain file for the WASI build with Debian's clang + wasi-libc:
#   cmake -B build-wasi -DCMAKE_TOOLCHAIN_FILE=cmake/wasi.cmake
set(CMAKE_SYSTEM_NAME WASI)
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
find_program(WEMBED_WASI_CLANG NAMES clang-16 clang-15 clang-14 clang REQUIRED)
set(CMAKE_C_COMPILER ${WEMBED_WASI_CLANG})
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
set(CMAKE_SYSROOT /usr)
# -disable-lsr, as Emscripten's emcc passes it: LLVM's loop strength reduction turns the f32
# micro-kernel's indexed loads into one incremented pointer per row, which V8 runs at half speed
# (bench/results/notes.md; wasm/wasi.cmake's -O0 link is the other half of that fix).
set(CMAKE_C_FLAGS_INIT "--target=wasm32-wasi -mllvm -disable-lsr")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--target=wasm32-wasi")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_CROSSCOMPILING_EMULATOR node;${CMAKE_CURRENT_LIST_DIR}/../tests/run-wasi.mjs)
