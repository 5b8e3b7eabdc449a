#!/bin/bash -eu
# build.sh: builds instar's fuzz targets the OSS-Fuzz / ClusterFuzzLite way: $CC, $CXX, $CFLAGS, $CXXFLAGS
# carry the sanitizer and coverage flags, $LIB_FUZZING_ENGINE the engine; everything lands in $OUT as
# fuzz_<target> with fuzz_<target>.dict, .options and _seed_corpus.zip (docs/fuzzing.md, "OSS-Fuzz").
# The source is $SRC/instar (OSS-Fuzz's checkout), or the repository this script is in.
set -eu
src=${SRC:-}/instar
[ -f "$src/CMakeLists.txt" ] || src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${WORK:-/tmp}/instar-build

# CMake takes CC and CXX from the environment. The flags go to the fuzz targets and the libraries they link
# (cmake/Fuzzing.cmake), not into CMAKE_CXX_FLAGS, which would reach the freestanding guest too.
CFLAGS="" CXXFLAGS="" cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
  -DINSTAR_FUZZ=oss-fuzz -DINSTAR_OSS_FUZZ_CXXFLAGS="$CXXFLAGS" -DINSTAR_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE"
cmake --build "$build" --target fuzzers

for fuzzer in "$build"/fuzz-targets/fuzz_*; do
  name=$(basename "$fuzzer")
  case "$name" in *_replay | *.dict) continue ;; esac
  [ -x "$fuzzer" ] || continue
  target=${name#fuzz_}
  cp "$fuzzer" "$OUT/"
  if [ -f "$fuzzer.dict" ]; then
    cp "$fuzzer.dict" "$OUT/"
    printf '[libfuzzer]\ndict = %s.dict\n' "$name" >"$OUT/$name.options"
  fi
  # The seeds and every regression input (dot files such as .gitkeep left out).
  corpus=()
  for dir in "$src/corpora/seeds/$target" "$src/corpora/regressions/fuzz/$target"; do
    if [ -d "$dir" ]; then corpus+=("$dir"); fi
  done
  rm -f "$OUT/${name}_seed_corpus.zip"
  if [ ${#corpus[@]} -gt 0 ]; then
    find "${corpus[@]}" -type f ! -name '.*' -print0 | xargs -0 -r zip -q -j "$OUT/${name}_seed_corpus.zip"
  fi
done
