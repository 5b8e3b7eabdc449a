#!/bin/sh
# afl-cc-launcher.sh: the afl preset's compiler and linker launcher. CMake configures plain clang (so the
# freestanding guest stays uninstrumented); for fuzz targets and the libraries they link this runs AFL++'s
# compiler in clang's place. Called by CMake as: afl-cc-launcher.sh <afl compiler> <cmplog ON|OFF> <clang> args...
afl=$1
cmplog=$2
shift 3
if [ "$cmplog" = ON ]; then
  AFL_LLVM_CMPLOG=1
  export AFL_LLVM_CMPLOG
fi
exec "$afl" "$@"
