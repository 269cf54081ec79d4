# wasm/wasi.cmake - dist/wembed.wasi.wasm: the engine as a WASI reactor (no threads), built with
# Debian's clang and wasi-libc, for server-side runtimes (node:wasi, wasmtime, ...). It exports
# the same functions as the Emscripten modules (wasm/wembed_wasm.c) plus malloc/free.
set(WEMBED_DIST "${CMAKE_CURRENT_SOURCE_DIR}/dist")
add_executable(wembed-wasi wasm/wembed_wasm.c)
target_link_libraries(wembed-wasi PRIVATE wembed)
target_compile_options(wembed-wasi PRIVATE ${WEMBED_C_FLAGS} -fvisibility=hidden)
set_target_properties(wembed-wasi PROPERTIES OUTPUT_NAME "wembed.wasi" SUFFIX ".wasm"
  RUNTIME_OUTPUT_DIRECTORY "${WEMBED_DIST}")
target_link_options(wembed-wasi PRIVATE -mexec-model=reactor -Wl,--export-dynamic
  -Wl,--export=malloc -Wl,--export=free -Wl,--growable-table
  -Wl,--max-memory=4294967296 -Wl,-z,stack-size=1048576 -Wl,--strip-debug
  -O0)   # last, so the clang driver does not run binaryen's wasm-opt -O3 over the linked
         # module (it inlines the GEMM micro-kernels, and V8 then runs them far slower; the
         # objects are already compiled at -O3)
