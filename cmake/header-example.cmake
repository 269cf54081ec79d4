# cmake/header-example.cmake - writes the opening example of src/wembed.h as a C file, so that
# the tests compile and run it exactly as it stands in the header (CMakeLists.txt, test
# header-example). Script mode:
#   cmake -DHEADER=src/wembed.h -DOUT=header-example.c -P cmake/header-example.cmake
# The example is the indented block of comment lines ("//     ...", and "//" for a blank line)
# between the line "// Basic usage..." and the line "// Limitations:".
file(STRINGS "${HEADER}" lines)
set(inside OFF)
set(code "// Generated from ${HEADER} by cmake/header-example.cmake: edit the header, not this file.\n")
foreach(line IN LISTS lines)
  if(line MATCHES "^// Basic usage")
    set(inside ON)
  elseif(line MATCHES "^// Limitations:")
    break()
  elseif(inside AND line MATCHES "^//     (.*)$")
    string(APPEND code "${CMAKE_MATCH_1}\n")
  elseif(inside AND line STREQUAL "//")
    string(APPEND code "\n")
  endif()
endforeach()
if(NOT code MATCHES "int main")
  message(FATAL_ERROR "header-example: no example program found in ${HEADER}")
endif()
file(WRITE "${OUT}.tmp" "${code}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
