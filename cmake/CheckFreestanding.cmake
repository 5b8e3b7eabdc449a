# CheckFreestanding.cmake: script run by the core_freestanding test (see Freestanding.cmake).
cmake_policy(SET CMP0057 NEW)  # if(... IN_LIST ...) in script mode
file(GLOB_RECURSE sources RELATIVE ${ROOT} ${ROOT}/core/*.cc)
list(FILTER sources EXCLUDE REGEX "^core/tests/")
# The bridge to the C libraries the guest links (zlib, libzstd) includes their headers, which pull in libc
# declarations: it is compiled with the system headers, and only their entry points may stay undefined.
set(bindings core/compress/cluster_codecs.cc)
list(REMOVE_ITEM sources ${bindings})
execute_process(COMMAND ${CXX} -print-file-name=include OUTPUT_VARIABLE compiler_include
                OUTPUT_STRIP_TRAILING_WHITESPACE)
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
set(objects "")
foreach(src IN LISTS sources)
  string(REPLACE "/" "_" obj ${src})
  set(obj ${OUT}/${obj}.o)
  # -nostdinc drops libc and libstdc++ headers; only the compiler's own
  # freestanding headers (stdint.h, stddef.h) stay reachable.
  execute_process(
    COMMAND ${CXX} -std=c++20 -O2 -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics
            -fno-asynchronous-unwind-tables -fno-stack-protector -mno-red-zone -nostdinc -nostdinc++
            -isystem ${compiler_include} -I${ROOT} -Wall -Werror=implicit-function-declaration
            -c ${ROOT}/${src} -o ${obj}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "core source is not freestanding: ${src}\n${err}")
  endif()
  list(APPEND objects ${obj})
endforeach()
foreach(src IN LISTS bindings)
  string(REPLACE "/" "_" obj ${src})
  set(obj ${OUT}/${obj}.o)
  execute_process(
    COMMAND ${CXX} -std=c++20 -O2 -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics
            -fno-asynchronous-unwind-tables -fno-stack-protector -mno-red-zone -nostdinc++
            -I${ROOT} -Wall -Werror=implicit-function-declaration
            -c ${ROOT}/${src} -o ${obj}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "library binding does not compile freestanding: ${src}\n${err}")
  endif()
  list(APPEND objects ${obj})
endforeach()
execute_process(COMMAND ld -r -o ${OUT}/core.o ${objects} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cannot link core objects together")
endif()
execute_process(COMMAND nm -u ${OUT}/core.o OUTPUT_VARIABLE undefined)
string(REGEX REPLACE " *[Uw] " "" undefined "${undefined}")
string(STRIP "${undefined}" undefined)
string(REPLACE "\n" ";" undefined "${undefined}")
# What the guest runtime provides, and the entry points of the libraries it links.
set(allowed memcpy memmove memset memcmp __cxa_pure_virtual)
foreach(sym IN LISTS undefined)
  if(sym MATCHES "^(inflate[A-Za-z0-9_]*|ZSTD_[A-Za-z0-9_]*)$")
    continue()
  endif()
  if(NOT sym IN_LIST allowed)
    message(FATAL_ERROR "core/ needs a hosted symbol the guest does not provide: ${sym}")
  endif()
endforeach()
list(LENGTH sources n)
message(STATUS "core/: ${n} sources compile freestanding, and the library bindings: ${bindings}")
