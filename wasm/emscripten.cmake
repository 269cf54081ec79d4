# wasm/emscripten.cmake - the shipped modules: dist/wembed.{mjs,wasm} (SIMD128, one thread) or,
# with -DWEMBED_THREADS=ON, dist/wembed-mt.{mjs,wasm,worker.js} (SIMD128 + pthreads).
#
# Flags, and why (TOOLCHAIN.md has the measurements behind them):
#   MODULARIZE + EXPORT_ES6        an ES module exporting a factory; wasm/patch-glue.mjs then makes
#                                  3.1.6's glue importable in Node 20 too (it assumes CommonJS there)
#   ENVIRONMENT=web,worker,node    one glue for pages, workers and Node
#   FILESYSTEM=0                   the engine is handed bytes; no Emscripten FS
#   ALLOW_MEMORY_GROWTH, 4GB max   the default maximum stops at 2 GiB
#   NODEJS_CATCH_*=0               a library must not install process-wide handlers
#   PTHREAD_POOL_SIZE              workers must exist before pthread_create, or it deadlocks
#   -O1 at link                    clang has already optimized every object at -O3; binaryen's
#                                  -O2/-O3 pass pipeline over the linked module then made the
#                                  GEMM 35-40% slower in V8 (nomic 512 tokens, one thread:
#                                  73 tok/s f32 at -O3 vs 165 at -O1; q8 145 vs 250), and only
#                                  shrinks the wasm by 4% (the glue grows 6 -> 10 KB gzip)
# Exports are the functions marked WEMBED_WASM_EXPORT in wasm/wembed_wasm.c (attribute `used`),
# plus malloc/free for the JS side.
if(WEMBED_THREADS)
  set(WEMBED_WASM_NAME wembed-mt)
  set(WEMBED_WASM_EXPORT_NAME createWembedMtModule)
else()
  set(WEMBED_WASM_NAME wembed)
  set(WEMBED_WASM_EXPORT_NAME createWembedModule)
endif()
set(WEMBED_DIST "${CMAKE_CURRENT_SOURCE_DIR}/dist")

add_executable(wembed_module wasm/wembed_wasm.c)
target_link_libraries(wembed_module PRIVATE wembed)
target_compile_options(wembed_module PRIVATE ${WEMBED_C_FLAGS} -fvisibility=hidden)
set_target_properties(wembed_module PROPERTIES
  OUTPUT_NAME ${WEMBED_WASM_NAME} SUFFIX ".mjs"
  RUNTIME_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/glue")
set(WEMBED_WASM_LINK
  -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=${WEMBED_WASM_EXPORT_NAME}
  -sENVIRONMENT=web,worker,node -sFILESYSTEM=0
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sINITIAL_MEMORY=32MB -sTOTAL_STACK=1MB
  -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0
  -sEXPORTED_FUNCTIONS=_malloc,_free
  -sEXPORTED_RUNTIME_METHODS=UTF8ToString,stringToUTF8,lengthBytesUTF8
  -sINCOMING_MODULE_JS_API=wasmBinary,instantiateWasm,locateFile,mainScriptUrlOrBlob,print,printErr,onAbort
  -sDYNAMIC_EXECUTION=0
  -O1)   # last on the command line, so it overrides CMAKE_C_FLAGS_RELEASE's -O3 at link
if(WEMBED_THREADS)
  # Workers for the compute pool are created when the module starts, as many as the JS side
  # asks for (js/engine.js passes threads - 1 as `poolSize`): a browser's main thread cannot
  # wait for a worker created later, and each idle worker costs startup time and memory.
  list(APPEND WEMBED_WASM_LINK "-sPTHREAD_POOL_SIZE=Module['poolSize']" -Wno-pthreads-mem-growth)
endif()
target_link_options(wembed_module PRIVATE ${WEMBED_WASM_LINK})

# Copy into dist/ and patch the glue for Node (fails loudly if 3.1.6's glue changes).
add_custom_command(TARGET wembed_module POST_BUILD
  COMMAND ${CMAKE_COMMAND} -E make_directory "${WEMBED_DIST}"
  COMMAND node "${CMAKE_CURRENT_SOURCE_DIR}/wasm/patch-glue.mjs"
          "${CMAKE_CURRENT_BINARY_DIR}/glue" "${WEMBED_DIST}" ${WEMBED_WASM_NAME}
  VERBATIM)
