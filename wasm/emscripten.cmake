# wasm/emscripten.cmake - the shipped modules: dist/wembed.{mjs,wasm} (SIMD128, one thread) or,
# with -DWEMBED_THREADS=ON, dist/wembed-mt.{mjs,wasm,worker.js} (SIMD128 + pthreads); and, for
# the benchmark only, the same with its exports in dist/bench/ (at the end of this file).
#
# Flags, and why (docs/TOOLCHAIN.md has the measurements behind them):
#   MODULARIZE + EXPORT_ES6        an ES module exporting a factory; wasm/patch-glue.mjs then makes
#                                  3.1.6's glue importable in Node 20 too (it assumes CommonJS there)
#   ENVIRONMENT=web,worker,node    one glue for pages, workers and Node
#   FILESYSTEM=0                   the engine is handed bytes; no Emscripten FS
#   ALLOW_MEMORY_GROWTH, 4GB max   the default maximum stops at 2 GiB
#   MEMORY_GROWTH_GEOMETRIC_CAP    a grow overshoots what malloc asked by at most 16 MiB, not
#                                  the default 20% up to 96 MiB: memory a page never uses; the
#                                  engine's big blocks (a weights file, the activations) grow it
#                                  in few steps anyway
#   NODEJS_CATCH_*=0               a library must not install process-wide handlers
#   PTHREAD_POOL_SIZE              workers must exist before pthread_create, or it deadlocks
#   -O1 at link                    clang has already optimized every object at -O3; binaryen's
#                                  -O2/-O3 pass pipeline over the linked module made the GEMM
#                                  much slower in V8 and barely smaller (bench/results/notes.md)
#   WASM_BIGINT, and EMCC_READ_METADATA=python at link
#                                  binaryen never reads the linked module: its 108 does not know
#                                  the final relaxed-SIMD opcodes (it silently mis-decoded the
#                                  dot product into a two-operand op), and at -O1 nothing else
#                                  needs it (no JS legalization with BigInt, no dyncalls)
# Exports are the functions marked WEMBED_WASM_EXPORT in wasm/wembed_wasm.c (attribute `used`),
# plus malloc/free for the JS side; the bench build adds wasm/wembed_bench_wasm.c's.
#
# Two modules per build: <name>.wasm (SIMD128) and <name>-relaxed.wasm, the same engine with
# the int8 micro-kernel on relaxed SIMD's dot product (src/ops/arch/wasm/gemm_q8_dot.c,
# compiled by clang 16: Emscripten 3.1.6's clang 14 emits pre-standard relaxed opcodes, and
# Emscripten driven by clang 16 produced a module that did nothing, docs/TOOLCHAIN.md). Its object
# comes first on the link line, so the archive's plain SIMD128 copy of that file is never
# pulled in. Both link the same library with the same flags, so they share one glue (checked
# by wasm/patch-glue.mjs); js/engine.js serves the relaxed one where the host validates it.
if(WEMBED_THREADS)
  set(WEMBED_WASM_NAME wembed-mt)
  set(WEMBED_WASM_EXPORT_NAME createWembedMtModule)
else()
  set(WEMBED_WASM_NAME wembed)
  set(WEMBED_WASM_EXPORT_NAME createWembedModule)
endif()
set(WEMBED_DIST "${CMAKE_CURRENT_SOURCE_DIR}/dist")

set(WEMBED_WASM_LINK
  -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=${WEMBED_WASM_EXPORT_NAME}
  -sENVIRONMENT=web,worker,node -sFILESYSTEM=0
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sINITIAL_MEMORY=32MB -sTOTAL_STACK=1MB
  -sMEMORY_GROWTH_GEOMETRIC_CAP=16MB
  -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0
  -sEXPORTED_FUNCTIONS=_malloc,_free
  -sINCOMING_MODULE_JS_API=wasmBinary,instantiateWasm,locateFile,mainScriptUrlOrBlob,print,printErr,onAbort
  -sDYNAMIC_EXECUTION=0 -sWASM_BIGINT=1
  -O1)   # last on the command line, so it overrides CMAKE_C_FLAGS_RELEASE's -O3 at link
if(NOT WEMBED_THREADS)
  # Unpadded LEBs for call and memory indices, as binaryen used to write them: less code
  # (bench/results/notes.md); wasm-ld 14 crashes on it with shared memory. patch-glue.mjs drops
  # the name section.
  list(APPEND WEMBED_WASM_LINK -Wl,--compress-relocations)
endif()
if(WEMBED_THREADS)
  # Workers for the compute pool are created when the module starts, as many as the JS side
  # asks for (js/engine.js passes threads - 1 as `poolSize`): a browser's main thread cannot
  # wait for a worker created later, and each idle worker costs startup time and memory.
  list(APPEND WEMBED_WASM_LINK "-sPTHREAD_POOL_SIZE=Module['poolSize']" -Wno-pthreads-mem-growth)
endif()
set(WEMBED_MODULE_LAUNCHER ${CMAKE_COMMAND} -E env NODE_PATH=/usr/share/nodejs EMCC_READ_METADATA=python)

# One module: the engine library linked with the given sources (export files, objects first)
# into glue/<name>.{mjs,wasm}, then copied into dist_dir with its glue patched for Node by
# wasm/patch-glue.mjs (which fails loudly if 3.1.6's glue changes). With glue_of, the module
# shares that module's glue (patch-glue.mjs checks it) and only its .wasm is copied.
function(wembed_wasm_module target name dist_dir glue_of)
  add_executable(${target} ${ARGN})
  target_link_libraries(${target} PRIVATE wembed)
  target_compile_options(${target} PRIVATE ${WEMBED_C_FLAGS} -fvisibility=hidden)
  target_link_options(${target} PRIVATE ${WEMBED_WASM_LINK})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${name} SUFFIX ".mjs"
    RUNTIME_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/glue" C_LINKER_LAUNCHER "${WEMBED_MODULE_LAUNCHER}")
  set(shared_glue "")
  if(glue_of)
    set(shared_glue --glue-of ${glue_of})
  endif()
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E make_directory "${dist_dir}"
    COMMAND node "${CMAKE_CURRENT_SOURCE_DIR}/wasm/patch-glue.mjs"
            "${CMAKE_CURRENT_BINARY_DIR}/glue" "${dist_dir}" ${name} ${shared_glue}
    VERBATIM)
endfunction()

wembed_wasm_module(wembed_module ${WEMBED_WASM_NAME} "${WEMBED_DIST}" "" wasm/wembed_wasm.c)

# The relaxed-SIMD module.
find_program(WEMBED_CLANG_RELAXED NAMES clang-16 REQUIRED)
set(WEMBED_DOT_SRC "${CMAKE_CURRENT_SOURCE_DIR}/src/ops/arch/wasm/gemm_q8_dot.c")
set(WEMBED_DOT_OBJ "${CMAKE_CURRENT_BINARY_DIR}/gemm_q8_dot-relaxed.o")
set(WEMBED_DOT_FLAGS --target=wasm32-unknown-emscripten -ffreestanding -O3 -msimd128 -mrelaxed-simd
    -mllvm -disable-lsr -ffp-contract=off -fno-fast-math -fvisibility=hidden -Wall -Wextra -Werror)
if(WEMBED_THREADS)
  list(APPEND WEMBED_DOT_FLAGS -matomics -mbulk-memory)   # what -pthread gives the other objects
endif()
add_custom_command(OUTPUT "${WEMBED_DOT_OBJ}"
  COMMAND ${WEMBED_CLANG_RELAXED} ${WEMBED_DOT_FLAGS} -c "${WEMBED_DOT_SRC}" -o "${WEMBED_DOT_OBJ}"
  DEPENDS "${WEMBED_DOT_SRC}" "${CMAKE_CURRENT_SOURCE_DIR}/src/ops/arch/wasm/gemm_q8_dot.h"
  COMMENT "clang 16: gemm_q8_dot.c with relaxed SIMD" VERBATIM)
add_custom_target(wembed_dot_obj DEPENDS "${WEMBED_DOT_OBJ}")   # made once for every module using it
wembed_wasm_module(wembed_module_relaxed ${WEMBED_WASM_NAME}-relaxed "${WEMBED_DIST}" ${WEMBED_WASM_NAME}
  "${WEMBED_DOT_OBJ}" wasm/wembed_wasm.c)
add_dependencies(wembed_module_relaxed wembed_module wembed_dot_obj)

# The bench build: both modules again with the benchmark's exports (wasm/wembed_bench_wasm.c),
# into dist/bench/, which the npm package leaves out, so the shipped modules carry no benchmark
# code. Not part of `all`: `scripts/build.sh bench` builds the target wembed_bench_modules, and
# js/bench.js starts these modules (`wembed bench gemm`, bench/gemm.mjs).
set(WEMBED_BENCH_SOURCES wasm/wembed_wasm.c wasm/wembed_bench_wasm.c)
wembed_wasm_module(wembed_module_bench ${WEMBED_WASM_NAME}-bench "${WEMBED_DIST}/bench" ""
  ${WEMBED_BENCH_SOURCES})
wembed_wasm_module(wembed_module_bench_relaxed ${WEMBED_WASM_NAME}-bench-relaxed "${WEMBED_DIST}/bench"
  ${WEMBED_WASM_NAME}-bench "${WEMBED_DOT_OBJ}" ${WEMBED_BENCH_SOURCES})
set_target_properties(wembed_module_bench wembed_module_bench_relaxed PROPERTIES EXCLUDE_FROM_ALL TRUE)
add_dependencies(wembed_module_bench_relaxed wembed_module_bench wembed_dot_obj)
add_custom_target(wembed_bench_modules)
add_dependencies(wembed_bench_modules wembed_module_bench wembed_module_bench_relaxed)
