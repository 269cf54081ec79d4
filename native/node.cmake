# native/node.cmake - the Node-API addon, build-node/wembed.node (cmake -DWEMBED_NODE=ON; with
# scripts/build.sh node). The engine library of this build is compiled position-independent,
# for any CPU of the architecture (kernels dispatched at run time), with its allocator and the
# export seam on the addon's memory region (native/region.h). Needs only a C compiler and the
# Node-API headers (npm node-api-headers, fetched by scripts/node24.sh); Node itself is not
# linked: its symbols resolve when Node loads the addon.
set(WEMBED_NODE_API_INCLUDE "${CMAKE_CURRENT_SOURCE_DIR}/.cache/node-api-headers/include"
    CACHE PATH "Node-API headers (node_api.h)")
if(NOT EXISTS "${WEMBED_NODE_API_INCLUDE}/node_api.h")
  message(FATAL_ERROR "node_api.h not in ${WEMBED_NODE_API_INCLUDE}: run scripts/node24.sh")
endif()
find_program(WEMBED_NODE_EXE NAMES node REQUIRED)

# The engine's malloc & co. and the seam's land in the region (region_alloc.h).
set(WEMBED_REGION_ALLOC "-include;${CMAKE_CURRENT_SOURCE_DIR}/native/region_alloc.h")
set_source_files_properties(src/core/common.c wasm/wembed_wasm.c wasm/wembed_bench_wasm.c
  PROPERTIES COMPILE_OPTIONS "${WEMBED_REGION_ALLOC}")
# dlmalloc is compiled inside region.c, with its own (old) style: no warnings from it.
set_source_files_properties(native/region.c PROPERTIES COMPILE_OPTIONS "-w")

# The wrappers of every export of the seam, generated from it.
set(WEMBED_NODE_SEAM "${CMAKE_CURRENT_SOURCE_DIR}/wasm/wembed_wasm.c" "${CMAKE_CURRENT_SOURCE_DIR}/wasm/wembed_bench_wasm.c")
set(WEMBED_NODE_GEN "${CMAKE_CURRENT_BINARY_DIR}/wembed_node_exports.c")
add_custom_command(OUTPUT "${WEMBED_NODE_GEN}"
  COMMAND ${WEMBED_NODE_EXE} "${CMAKE_CURRENT_SOURCE_DIR}/native/gen-exports.mjs" "${WEMBED_NODE_GEN}" ${WEMBED_NODE_SEAM}
  DEPENDS ${WEMBED_NODE_SEAM} native/gen-exports.mjs
  COMMENT "Node-API wrappers of the export seam" VERBATIM)

add_library(wembed_node MODULE native/wembed_node.c "${WEMBED_NODE_GEN}" ${WEMBED_NODE_SEAM})
target_include_directories(wembed_node PRIVATE native "${WEMBED_NODE_API_INCLUDE}")
target_compile_definitions(wembed_node PRIVATE NAPI_VERSION=8 NODE_GYP_MODULE_NAME=wembed)
target_compile_options(wembed_node PRIVATE ${WEMBED_C_FLAGS} -fvisibility=hidden)
target_link_libraries(wembed_node PRIVATE wembed)
# Only the module's registration is exported; libgcc's helpers are linked in, so the binary
# needs nothing but glibc.
target_link_options(wembed_node PRIVATE -Wl,--exclude-libs,ALL -static-libgcc)
set_target_properties(wembed_node PROPERTIES PREFIX "" OUTPUT_NAME wembed SUFFIX ".node"
  LIBRARY_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
